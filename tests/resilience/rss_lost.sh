#!/usr/bin/env bash
# RSS address lists and rss_lost_timeout (issue 14):
#  1. `rss = DEAD,LIVE`: the library tries the addresses in order; a job whose first RSS address
#     answers nothing registers, checkpoints and stops through the second one.
#  2. A job that cannot reach any RSS for rss_lost_timeout fails clearly: its next SRS_Check_Stop
#     returns UNAVAILABLE naming the RSS and the duration (instead of running on unstoppable).
#
#   rss_lost.sh SOLVER FAULT_INSPECT WAIT_NEW_FILE SRS_TOOL
# Env: SRS_RSS_BIN, SRS_DEPOT_BIN, SRS_MPIEXEC.
# shellcheck disable=SC2154  # insp_*, started_* and job_pid are set by resilience_lib.sh
set -u
# shellcheck source=resilience_lib.sh
. "$(dirname "$0")/resilience_lib.sh"
SOLVER=$1 SRS_TOOL=$4
export FAULT_INSPECT=$2  # used by fault_inspect in resilience_lib.sh
SRS_MPIEXEC=${SRS_MPIEXEC:-mpiexec.mpich}
FAULT_LEASE=10
fault_setup
w=$FAULT_WORK
live=$SRS_RSS
solver_args=(--global 4096 --sleep-ms 10)
export SRS_RPC_TIMEOUT=5 SRS_LOG=error

# --- 1. a list whose first address is dead --------------------------------------------------
fault_launch "$w/list.log" 2 SRS_RSS="127.0.0.1:1,$live" SRS_APP=list-$$ SRS_CHECKPOINT_INTERVAL=0.3 \
  -- "$SOLVER" "${solver_args[@]}" --iters 100000
pid=$job_pid
fault_wait_line "$w/list.log" FRESH 60 "$pid" || { cat "$w/list.log.err"; fault_fail "the job with an RSS list did not start"; }
SRS_APP=list-$$ "$SRS_TOOL" stop --wait --timeout 60 list-$$ >"$w/stop.out" 2>&1 ||
  { cat "$w/stop.out" "$w/list.log.err"; fault_fail "the stop did not reach the job through the second RSS address"; }
wait "$pid" || fault_fail "the job with an RSS list exited $?"
grep -q "^STOPPED" "$w/list.log" || fault_fail "the job with an RSS list did not stop"
fault_log "rss = 127.0.0.1:1,$live: registered, checkpointed and stopped through the second address"

# --- 2. no RSS for longer than rss_lost_timeout ---------------------------------------------
# One rank: MPICH may drop the lines of ranks killed by another rank's MPI_Abort.
fault_launch "$w/lost.log" 1 SRS_APP=lost-$$ SRS_RSS_LOST_TIMEOUT=2 -- "$SOLVER" "${solver_args[@]}" \
  --iters 100000
pid=$job_pid
fault_wait_line "$w/lost.log" FRESH 60 "$pid" || { cat "$w/lost.log.err"; fault_fail "the job did not start"; }
kill -KILL "${fault_pids[0]}"
t0=$SECONDS
while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < 60)); do sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fault_fail "the job ran on for 60 s without its RSS (rss_lost_timeout = 2)"
wait "$pid"
rc=$?
((rc != 0)) || fault_fail "the job without its RSS exited 0"
grep -q "SRS_Check_Stop: SRS_ERR_UNAVAILABLE.*lost contact with the RSS at $live for .*rss_lost_timeout = 2s" \
  "$w/lost.log.err" || { cat "$w/lost.log.err"; fault_fail "the job's error does not name the RSS and the duration"; }
fault_log "rss_lost_timeout: $(grep -m1 -o 'lost contact[^;]*' "$w/lost.log.err")"
echo "rss_lost: an RSS list fails over to its second address; a job without its RSS fails clearly"
