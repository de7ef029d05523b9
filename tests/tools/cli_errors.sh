#!/usr/bin/env bash
# The srs command line's argument handling and its one-line errors: bad arguments exit 2, a
# missing RSS, an unknown job, nothing to resume exit 1 with a reason the user can act on; every
# subcommand has --help.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
fresh_dir
trap 'rm -rf "$test_dir"' EXIT

for cmd in run stop checkpoint status ls history depots repair drop export bench completion; do
  expect_status 0 "usage: srs $cmd" "$SRS" "$cmd" --help
  expect_status 0 "usage: srs $cmd" "$SRS" help "$cmd"
done
# --quiet is accepted everywhere (and listed in every --help).
for cmd in run stop checkpoint status ls history depots repair drop export bench; do
  expect_status 0 "-q,--quiet" "$SRS" "$cmd" --help
done
expect_status 2 "missing JOB" "$SRS" stop --quiet
# The version, as every packaged program gives it (the daemons' in install_man_pages' pages).
expect_status 0 "^srs [0-9]+\.[0-9]+\.[0-9]+$" "$SRS" --version
# A flag takes no value: --json=no must not mean --json.
expect_status 2 "option --json takes no value" "$SRS" depots --json=no
expect_status 2 "option --wait takes no value" "$SRS" stop heat --wait=3
# Old spellings keep working.
expect_status 2 "--np must be an integer >= 1" "$SRS" run --np=0 -- /bin/true
expect_status 2 "--np must be an integer >= 1" "$SRS" run -n0 /bin/true

# The generated bash completion: commands, each command's options, file names for values.
"$SRS" completion bash >completion.bash || fail "srs completion bash failed"
complete_words() {  # WORDS... (the last is being completed) -> the candidates, one line
  bash -c 'source ./completion.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _srs
           echo "${COMPREPLY[*]}"' _ "$@"
}
[ "$(complete_words srs st)" = "stop status" ] || fail "completion of 'srs st': $(complete_words srs st)"
grep -qw -- "--timeout" <<<"$(complete_words srs stop --t)" || fail "no --timeout for srs stop"
grep -qw -- "--resume" <<<"$(complete_words srs run --)" || fail "no --resume for srs run"
grep -qw -- "--quiet" <<<"$(complete_words srs ls -)" || fail "no --quiet for srs ls"
touch hosts.txt
[ "$(complete_words srs run --hostfile hos)" = "hosts.txt" ] || fail "--hostfile does not complete files"
[ -z "$(complete_words srs run -n 2 prog --re)" ] || fail "srs run completed its own options after PROG"
expect_status 2 "only 'bash'" "$SRS" completion zsh
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
expect_status 2 "unexpected argument 'x'" "$SRS" depots x
expect_status 2 "unknown option --jsn" "$SRS" status --jsn
expect_status 2 "--epoch E is required" "$SRS" drop job
expect_status 2 "--epoch must be an integer >= 1" "$SRS" drop job --epoch 0
expect_status 2 "missing JOB" "$SRS" repair

# No RSS configured and this directory never ran a job: the embedded tools say what to do.
for cmd in "status" "ls job" "history job" "depots" "stop job" "checkpoint job" "export job o.h5" \
  "repair job" "drop job --epoch 1"; do
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
