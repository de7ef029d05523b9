#!/usr/bin/env bash
# The srs command line's argument handling and its one-line errors: bad arguments exit 2, a
# missing RSS, an unknown job, nothing to resume exit 1 with a reason the user can act on; every
# subcommand has --help.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
fresh_dir
trap 'rm -rf "$test_dir"' EXIT

for cmd in run stop checkpoint status ls history export bench; do
  expect_status 0 "usage: srs $cmd" "$SRS" "$cmd" --help
done
expect_status 0 "commands:" "$SRS" help
expect_status 2 "unknown command 'frobnicate'" "$SRS" frobnicate
expect_status 2 "usage" "$SRS"
expect_status 2 "missing JOB" "$SRS" stop
expect_status 2 "unknown option --bogus" "$SRS" status --bogus
expect_status 2 "unexpected argument 'extra'" "$SRS" ls job extra
expect_status 2 "no program to run" "$SRS" run -n 2
expect_status 2 "--np must be an integer >= 1" "$SRS" run -n 0 -- /bin/true
expect_status 2 "--epoch only makes sense with --resume" "$SRS" run --epoch 3 -- /bin/true
expect_status 2 "not both" "$SRS" run --hosts a --hostfile f -- /bin/true
expect_status 2 "needs a value" "$SRS" export job out.h5 --epoch

# No RSS configured and this directory never ran a job: the embedded tools say what to do.
for cmd in "status" "ls job" "history job" "stop job" "checkpoint job" "export job o.h5"; do
  # shellcheck disable=SC2086 # the words of $cmd are separate arguments
  expect_status 1 "no RSS configured .*srs run" "$SRS" $cmd
done
[ ! -e .srs ] || fail "a read-only tool created .srs"

# An RSS is configured but nothing listens there.
expect_status 1 "no RSS reachable at 127.0.0.1:1" env SRS_RSS=127.0.0.1:1 SRS_TOKEN_FILE=/dev/null \
  "$SRS" status
expect_status 1 "no RSS reachable at 127.0.0.1:1" env SRS_RSS=127.0.0.1:1 "$SRS" run -- /bin/true
echo "rss = 127.0.0.1:1" > srs.config
expect_status 1 "no RSS reachable" "$SRS" stop job
echo "chekpoint_interval = 5" > srs.config
expect_status 2 "unknown key .chekpoint_interval" "$SRS" status
rm srs.config
echo PASS
