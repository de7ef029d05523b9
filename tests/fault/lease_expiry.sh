#!/usr/bin/env bash
# Fault test (issue 9): run leases, lost runs, --force, and what the tools show.
#
#  1. A live run holds its lease: registering another run of the job without force is refused
#     (SRS_Init fails with FAILED_PRECONDITION) and the live run keeps running.
#  2. A run that stops heartbeating (every rank SIGSTOPped while a checkpoint write is under way,
#     so rank 0's watch stream goes silent) is marked "lost" once the lease (srs-rss --lease)
#     runs out, and the checkpoint it was writing is discarded, never committed.
#  3. `srs status` shows the lost run, `srs ls --all` the discarded checkpoint.
#  4. The lost job resumes WITHOUT force on another process count, from the newest committed
#     checkpoint, every element verified.
#  5. A second resume while that run is alive is refused; with force (and the admin token) it
#     takes over, and the job runs to the end.
#  6. `srs history` shows the lost run, the forced takeover and the resumes with their epochs.
#
#   lease_expiry.sh SOLVER FAULT_INSPECT WAIT_NEW_FILE [SRS_TOOL]
# Env: SRS_RSS_BIN, SRS_DEPOT_BIN, SRS_MPIEXEC, FAULT_LEASE (3).
set -u
# shellcheck disable=SC2154  # insp_* and job_pid are set by fault_lib.sh (printf -v, globals)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=fault_lib.sh
. "$here/fault_lib.sh"
SOLVER=$1 FAULT_INSPECT=$2 WAIT_NEW_FILE=$3 SRS_TOOL=${4:-}
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
fault_launch "$w/a.log" 2 SRS_RESUME=no -- "$SOLVER" "${solver_args[@]}" --iters 100000
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
caught=0
for attempt in 1 2 3 4 5 6; do
  "$WAIT_NEW_FILE" "$SRS_DEPOT_DIR/spool" 5000 >/dev/null || continue
  fault_signal_job STOP "$a_pid"
  fault_inspect --run "$run_a"
  if ((insp_run_pending_checkpoints > 0)); then caught=1; break; fi
  fault_signal_job CONT "$a_pid"
  fault_log "attempt $attempt: the checkpoint committed before SIGSTOP; again"
done
((caught)) || { fault_signal_job STOP "$a_pid"; fault_log "no checkpoint caught pending; stopped anyway"; }
stopped_at=$SECONDS
fault_log "run A stopped (SIGSTOP, every rank); checkpoints: $insp_checkpoints"
fault_wait_run_state "$run_a" lost $((FAULT_LEASE * 4 + 10)) ||
  fault_fail "run A not marked lost $((SECONDS - stopped_at)) s after SIGSTOP (lease $FAULT_LEASE s): '$insp_run_state'"
fault_log "run A marked lost $((SECONDS - stopped_at)) s after it stopped heartbeating"
((SECONDS - stopped_at >= FAULT_LEASE - 1)) ||
  fault_fail "run A marked lost before its lease ($FAULT_LEASE s) could have expired"
fault_inspect --run "$run_a"
((insp_run_pending_checkpoints == 0)) || fault_fail "lost run A still has a pending checkpoint"
if ((caught)); then
  ((insp_run_unfinished_checkpoints > 0)) || fault_fail "the interrupted checkpoint was committed"
  fault_log "interrupted checkpoint discarded: $insp_checkpoints"
fi
expect=$insp_committed_value
fault_kill_job "$a_pid"

# --- 3. the tools show the lost run and the discarded checkpoint ---------------------------
if [ -n "$SRS_TOOL" ]; then
  out=$(srs_tool status "$SRS_APP")
  echo "$out" | grep -qi lost || { echo "$out" >&2; fault_fail "srs status does not show the lost run"; }
  if ((caught)); then
    out=$(srs_tool ls --all "$SRS_APP")
    echo "$out" | grep -qi discarded || { echo "$out" >&2; fault_fail "srs ls --all does not show the discarded checkpoint"; }
  fi
fi

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
if [ -n "$SRS_TOOL" ]; then
  # The real command line: srs run --resume --force (RSS from SRS_RSS, token from SRS_TOKEN_FILE).
  fault_spawn "$w/c.log" "SRS_EXPECT_ITER=$expect" -- "$SRS_TOOL" run -n 1 --resume --force -- \
    "$SOLVER" "${solver_args[@]}" --iters "$final"
else
  fault_launch "$w/c.log" 1 SRS_RESUME=yes SRS_FORCE=yes "SRS_EXPECT_ITER=$expect" -- \
    "$SOLVER" "${solver_args[@]}" --iters "$final"
fi
c_pid=$job_pid
fault_wait_line "$w/c.log" RESTORED 60 "$c_pid" || { cat "$w/c.log.err" >&2; fault_fail "forced takeover failed"; }
fault_log "run C (forced): $(grep -m1 RESTORED "$w/c.log")"
fault_kill_job "$b_pid"
wait "$c_pid"
rc=$?
((rc == 0)) && grep -q "DONE iter=$final" "$w/c.log" || { cat "$w/c.log" "$w/c.log.err" >&2; fault_fail "run C did not finish (rc $rc)"; }
fault_inspect --run "$run_b"
fault_log "after the takeover: runs=$insp_runs resumed_from=$insp_run_epochs run B=$insp_run_state"
[ "$insp_run_state" != running ] || fault_fail "run B still 'running' after a forced takeover"
[ "$insp_job_state" = finished ] || fault_fail "job state '$insp_job_state', expected finished"
case ",$insp_runs," in *,lost,*) ;; *) fault_fail "run history lost the lost run: $insp_runs" ;; esac

# --- 6. srs history shows the lost run and the resumes -------------------------------------
if [ -n "$SRS_TOOL" ]; then
  out=$(srs_tool history "$SRS_APP")
  echo "$out"
  echo "$out" | grep -qi lost || fault_fail "srs history does not show the lost run"
  # Each resume with the epoch it restarted from (as the RSS recorded it).
  for e in ${insp_run_epochs//,/ }; do
    ((e == 0)) && continue
    echo "$out" | grep -q "epoch $e\b" || fault_fail "srs history does not show the resume from epoch $e"
  done
fi
echo "lease_expiry: ok (interrupted checkpoint caught: $caught)"
