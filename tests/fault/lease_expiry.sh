#!/usr/bin/env bash
# shellcheck disable=SC2154,SC2034  # insp_*, job_pid, FAULT_INSPECT: globals shared with fault_lib.sh
# Fault test (issue 9): run leases, lost runs, --force, and what the tools show.
#
#  1. A live run holds its lease: registering another run of the job without force is refused
#     (SRS_Init fails with FAILED_PRECONDITION) and the live run keeps running.
#  2. A run that stops heartbeating while a checkpoint is provably under way is marked "lost" once
#     the lease (srs-rss --lease) runs out, and that checkpoint is discarded, never committed:
#     libsrs's test hook freezes rank 1 right after its put of epoch 2 (SRS_TEST_DIE_AFTER=put,
#     SRS_TEST_DIE_SIGNAL=STOP), the RSS shows epoch 2 pending, then every rank is SIGSTOPped
#     (rank 0's watch stream goes silent).
#  3. `srs status` shows the lost run, `srs ls --all` the discarded checkpoint.
#  4. The lost job resumes WITHOUT force on another process count, from the newest committed
#     checkpoint, every element verified.
#  5. A second resume while that run is alive is refused; with force (and the admin token) it
#     takes over, and the job runs to the end.
#  6. `srs history` shows the lost run, the forced takeover and the resumes with their epochs.
#
#   lease_expiry.sh SOLVER FAULT_INSPECT WAIT_NEW_FILE SRS_TOOL
# Runs under tests/support/with-daemons.sh --lease FAULT_LEASE. Env: SRS_MPIEXEC, FAULT_LEASE (3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=fault_lib.sh
. "$here/fault_lib.sh"
SOLVER=$1 FAULT_INSPECT=$2 SRS_TOOL=$4
SRS_MPIEXEC=${SRS_MPIEXEC:-mpiexec.mpich}
FAULT_LEASE=${FAULT_LEASE:-3}
fault_setup
export SRS_CHECKPOINT_INTERVAL=0.5 SRS_KEEP=2
# 2 x 2^21 elements: 32 MiB per checkpoint, so a write lasts long enough to be caught.
solver_args=(--global $((1 << 21)) --sleep-ms 20)
w=$FAULT_WORK

srs_tool() {  # runs `srs ARGS` against our RSS; prints its output
  "$SRS_TOOL" "$@" 2>&1
}

# --- 1. a live run cannot be taken over without force --------------------------------------
fault_launch "$w/a.log" 2 SRS_RESUME=no SRS_TEST_DIE_AFTER=put SRS_TEST_DIE_SIGNAL=STOP \
  SRS_TEST_DIE_EPOCH=2 SRS_TEST_DIE_RANK=1 -- "$SOLVER" "${solver_args[@]}" --iters 100000
a_pid=$job_pid
fault_wait_line "$w/a.log" FRESH 60 "$a_pid" || { cat "$w/a.log.err"; fault_fail "run A did not start"; }
t0=$SECONDS
until fault_inspect && ((insp_last_epoch > 0)); do
  ((SECONDS - t0 < 30)) || fault_fail "run A committed no checkpoint in 30 s"
  sleep 0.2
done
run_a=$insp_newest_run
fault_log "run A ($run_a) committed epoch $insp_last_epoch"

fault_launch "$w/intruder.log" 3 SRS_RESUME=yes SRS_FORCE=no -- "$SOLVER" "${solver_args[@]}" --iters 100000
wait "$job_pid"
rc=$?
((rc != 0)) || fault_fail "a second run of a live job was accepted without force"
grep -q FAILED_PRECONDITION "$w/intruder.log.err" ||
  { cat "$w/intruder.log.err" >&2; fault_fail "refusal is not FAILED_PRECONDITION"; }
fault_log "takeover without force refused: $(grep -m1 -o 'SRS_Init.*' "$w/intruder.log.err" | head -c 300)"
kill -0 "$a_pid" 2>/dev/null || fault_fail "run A died when another run was refused"
fault_inspect --run "$run_a"
[ "$insp_run_state" = running ] || fault_fail "run A is '$insp_run_state', expected running"

# --- 2. SIGSTOP during a checkpoint write: lost after the lease, checkpoint discarded -------
# Rank 1 froze itself right after storing its piece of epoch 2: that checkpoint is pending.
t0=$SECONDS
until grep -q "srs-test-hook: freezing (SIGSTOP) after put epoch 2 rank 1" "$w/a.log.err"; do
  ((SECONDS - t0 < 60)) || { cat "$w/a.log.err" >&2; fault_fail "the test hook never froze rank 1 at epoch 2"; }
  sleep 0.05
done
fault_inspect --run "$run_a"
[ "$(fault_checkpoint_state 2)" = pending ] || fault_fail "epoch 2 is not pending while rank 1 is frozen: $insp_checkpoints"
((insp_last_epoch == 1)) || fault_fail "newest committed epoch $insp_last_epoch, expected 1: $insp_checkpoints"
fault_signal_job STOP "$a_pid"
stopped_at=$SECONDS
fault_log "run A stopped (SIGSTOP, every rank) during epoch 2; checkpoints: $insp_checkpoints"
fault_wait_run_state "$run_a" lost $((FAULT_LEASE * 4 + 30)) ||
  fault_fail "run A not marked lost $((SECONDS - stopped_at)) s after SIGSTOP (lease $FAULT_LEASE s): '$insp_run_state'"
fault_log "run A marked lost $((SECONDS - stopped_at)) s after it stopped heartbeating"
# A lower bound only: the RSS must not call a run lost before its lease could have run out.
((SECONDS - stopped_at >= FAULT_LEASE - 1)) ||
  fault_fail "run A marked lost before its lease ($FAULT_LEASE s) could have expired"
fault_inspect --run "$run_a"
((insp_run_pending_checkpoints == 0)) || fault_fail "lost run A still has a pending checkpoint"
[ "$(fault_checkpoint_state 2)" = discarded ] || fault_fail "the interrupted epoch 2 was not discarded: $insp_checkpoints"
((insp_last_epoch == 1)) || fault_fail "the restart point moved to $insp_last_epoch, expected 1"
fault_log "interrupted checkpoint discarded: $insp_checkpoints"
expect=$insp_committed_value
fault_kill_job "$a_pid"

# --- 3. the tools show the lost run and the discarded checkpoint ---------------------------
out=$(srs_tool status "$SRS_APP")
echo "$out" | grep -qi lost || { echo "$out" >&2; fault_fail "srs status does not show the lost run"; }
out=$(srs_tool ls --all "$SRS_APP")
echo "$out" | grep -q "^checkpoint 2  discarded" ||
  { echo "$out" >&2; fault_fail "srs ls --all does not show epoch 2 discarded"; }

# --- 4. resume the lost job without force on 3 ranks -------------------------------------
fault_launch "$w/b.log" 3 SRS_RESUME=yes "SRS_EXPECT_ITER=$expect" -- "$SOLVER" "${solver_args[@]}" --iters 100000
b_pid=$job_pid
fault_wait_line "$w/b.log" RESTORED 60 "$b_pid" || { cat "$w/b.log.err" >&2; fault_fail "resume of the lost job failed"; }
fault_log "run B: $(grep -m1 RESTORED "$w/b.log")"
fault_inspect
run_b=$insp_newest_run
t0=$SECONDS
until fault_inspect && [ -n "$insp_committed_value" ] && ((insp_committed_value > expect)); do
  ((SECONDS - t0 < 30)) || fault_fail "run B committed no checkpoint in 30 s"
  sleep 0.2
done

# --- 5. B is alive: refused without force, taken over with force -------------------------
fault_launch "$w/c0.log" 1 SRS_RESUME=yes SRS_FORCE=no -- "$SOLVER" "${solver_args[@]}" --iters 100000
wait "$job_pid" && fault_fail "takeover of live run B accepted without force"
grep -q FAILED_PRECONDITION "$w/c0.log.err" || { cat "$w/c0.log.err" >&2; fault_fail "refusal is not FAILED_PRECONDITION"; }
fault_signal_job STOP "$b_pid"  # B must not commit between our read of the RSS and the takeover
# A commit B sent just before it stopped still completes at the RSS: wait until the newest
# committed checkpoint stays the same for a second.
fault_inspect
for _ in $(seq 20); do
  before=$insp_last_epoch
  sleep 1
  fault_inspect
  [ "$insp_last_epoch" = "$before" ] && break
done
expect=$insp_committed_value
final=$((expect + 40))
# The real command line: srs run --resume --force (RSS from SRS_RSS, token from SRS_TOKEN_FILE).
fault_spawn "$w/c.log" "SRS_EXPECT_ITER=$expect" -- "$SRS_TOOL" run -n 1 --resume --force -- \
  "$SOLVER" "${solver_args[@]}" --iters "$final"
c_pid=$job_pid
fault_wait_line "$w/c.log" RESTORED 60 "$c_pid" || { cat "$w/c.log.err" >&2; fault_fail "forced takeover failed"; }
fault_log "run C (forced): $(grep -m1 RESTORED "$w/c.log")"
fault_kill_job "$b_pid"
wait "$c_pid"
rc=$?
{ ((rc == 0)) && grep -q "DONE iter=$final" "$w/c.log"; } || { cat "$w/c.log" "$w/c.log.err" >&2; fault_fail "run C did not finish (rc $rc)"; }
fault_inspect --run "$run_b"
fault_log "after the takeover: runs=$insp_runs resumed_from=$insp_run_epochs run B=$insp_run_state"
[ "$insp_run_state" != running ] || fault_fail "run B still 'running' after a forced takeover"
[ "$insp_job_state" = finished ] || fault_fail "job state '$insp_job_state', expected finished"
case ",$insp_runs," in *,lost,*) ;; *) fault_fail "run history lost the lost run: $insp_runs" ;; esac

# --- 6. srs history shows the lost run and the resumes -------------------------------------
out=$(srs_tool history "$SRS_APP")
echo "$out"
echo "$out" | grep -qi lost || fault_fail "srs history does not show the lost run"
# Each resume with the epoch it restarted from (as the RSS recorded it).
for e in ${insp_run_epochs//,/ }; do
  ((e == 0)) && continue
  echo "$out" | grep -q "epoch $e\b" || fault_fail "srs history does not show the resume from epoch $e"
done
# Run B resumed from epoch 1, the last checkpoint committed before the interrupted epoch 2.
[ "$(echo "$insp_run_epochs" | cut -d, -f2)" = 1 ] ||
  fault_fail "run B resumed from epoch $(echo "$insp_run_epochs" | cut -d, -f2), expected 1 ($insp_run_epochs)"
echo "lease_expiry: ok (epoch 2 interrupted after rank 1's put, discarded; resumed from epoch 1)"
