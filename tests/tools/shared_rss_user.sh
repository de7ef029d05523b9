#!/usr/bin/env bash
# A plain user of a shared RSS (issue 12's deployment): no admin token, only the owner secrets
# the library keeps for the user's own jobs. Every other tools test runs with the admin token
# that with-daemons.sh exports, so this path is otherwise untested.
#  1. the first `srs run` of a job the RSS has never seen must launch it (the RSS creates the
#     job and its owner secret at registration) and report that it finished;
#  2. when the job's ranks die, `srs run` must end the run at the RSS itself (README: "so the
#     next srs run resumes immediately, without --force"), which a user can do for their own job.
# Runs under with-daemons.sh (SRS_RSS, SRS_DEPOT=auto); needs SRS_TOOL and HEAT2D.
set -u
: "${SRS_TOOL:?}" "${HEAT2D:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$SRS_TEST_WORKDIR/shared-user
mkdir -p "$work"
cd "$work" || exit 1
# The user: no admin token; owner secrets in the user's own state directory.
unset SRS_TOKEN_FILE SRS_CONFIG
export XDG_STATE_HOME=$work/state SRS_APP=shared-user-$$
export SRS_MPIEXEC=${SRS_MPIEXEC:-mpiexec.mpich}

rc=0
"$SRS_TOOL" run -n 2 -- "$HEAT2D" --nx 32 --ny 32 --steps 5 >first.out 2>&1 || rc=$?
out=$(cat first.out)
[ "$rc" = 0 ] || fail "the first srs run of a new job as a plain user exited $rc: $out"
grep -q "finished" <<<"$out" || fail "the first run did not report 'finished': $out"
[ -s "$XDG_STATE_HOME/srs/owners" ] || fail "no owner secret kept in $XDG_STATE_HOME/srs/owners"

# 2. The ranks die (SIGKILL, as an OOM killer or a node failure would): srs run must end the run.
rc=0
SRS_TEST_DIE_AFTER=put SRS_TEST_DIE_EPOCH=1 SRS_TEST_DIE_RANK=1 SRS_CHECKPOINT_INTERVAL=0.2 \
  "$SRS_TOOL" run --fresh -n 2 -- "$HEAT2D" --nx 32 --ny 32 --steps 100000 --sleep-ms 5 \
  >killed.out 2>&1 || rc=$?
out=$(cat killed.out)
[ "$rc" != 0 ] || fail "the killed job's srs run exited 0: $out"
grep -q "srs-test-hook" <<<"$out" || fail "the test hook did not kill a rank: $out"
grep -q "could not end run" <<<"$out" && fail "srs run could not end the user's own dead run: $out"
grep -q "ended run .* at the RSS" <<<"$out" || fail "srs run did not end the dead run: $out"
echo "shared RSS, plain user: first run and ending a dead run ok"
