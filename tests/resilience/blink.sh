#!/usr/bin/env bash
# Blink test (issue 14): services that die and come back must cost a delay, not a job.
#
# ROUNDS rounds of `kill -9` of the srs-rss and a restart on the same port (from its state), then
# ROUNDS rounds of the same for the srs-depot (same port, same directory). In every round a fresh
# job runs (crashy_solver, periodic checkpoints every 0.3 s); at a random moment the daemon is
# killed and comes back after a random outage shorter than rpc_timeout; around the outage the job
# is asked to stop (round % 3 == 0), to checkpoint (== 1), or left to finish (== 2). Every job
# must end finished or stopped with a committed checkpoint (resumable): 0 failures. In the RSS's
# checkpoint rounds `srs stop --wait` must also ride out a kill -9 + restart of the RSS while it
# waits, and report the commit. One stopped
# job of each kind is resumed on another process count, every element verified.
#
#   blink.sh SOLVER FAULT_INSPECT WAIT_NEW_FILE SRS_TOOL [ROUNDS [rss|depot|both]]
# (CTest runs the rss and the depot halves as two tests, so they can run side by side.)
# Env: SRS_RSS_BIN, SRS_DEPOT_BIN, SRS_MPIEXEC; BLINK_SEED to replay a run (printed at start).
# shellcheck disable=SC2154  # insp_*, started_* and job_pid are set by resilience_lib.sh
set -u
# shellcheck source=resilience_lib.sh
. "$(dirname "$0")/resilience_lib.sh"
SOLVER=$1 SRS_TOOL=$4 ROUNDS=${5:-20} WHICH=${6:-both}
export FAULT_INSPECT=$2  # used by fault_inspect in resilience_lib.sh
SRS_MPIEXEC=${SRS_MPIEXEC:-mpiexec.mpich}
FAULT_LEASE=10  # longer than any outage: a run's lease survives the RSS's absence
seed=${BLINK_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$seed
daemons=(rss depot)
[ "$WHICH" = both ] || daemons=("$WHICH")
echo "blink: seed $seed (BLINK_SEED=$seed replays it), $ROUNDS rounds per daemon (${daemons[*]})"
fault_setup
rss_pid=${fault_pids[0]}
depot_pid=${fault_pids[1]}
depot_addr=$(grep -m1 "listening on" "$FAULT_WORK/depot.out" | awk '{print $NF}')
export SRS_RPC_TIMEOUT=10 SRS_CHECKPOINT_INTERVAL=0.3 SRS_LOG=${BLINK_LOG:-error}
solver_args=(--global 4096 --sleep-ms 10)
w=$FAULT_WORK

seconds_of_ms() { awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'; }

restart_daemon() {  # restart_daemon rss|depot
  if [ "$1" = rss ]; then
    fault_start_daemon srs-rss "$w/rss.$round.out" "$SRS_RSS_BIN" --listen "$SRS_RSS" \
      --state "$w/rss" --lease "$FAULT_LEASE"
    rss_pid=$started_pid
  else
    fault_start_daemon srs-depot "$w/depot.$round.out" "$SRS_DEPOT_BIN" --listen "$depot_addr" \
      --dir "$SRS_DEPOT_DIR" --rss "$SRS_RSS"
    depot_pid=$started_pid
  fi
}

request() {  # request stop|checkpoint JOB: retried until the RSS answers (it may be down)
  local t0=$SECONDS
  until "$SRS_TOOL" "$1" "$2" >/dev/null 2>&1; do
    ((SECONDS - t0 < 20)) || return 1
    sleep 0.1
  done
}

finished=0 stopped=0 failed=0 resumed=0
declare -A stopped_job=()
one_round() {  # one_round rss|depot N
  local daemon=$1 kind=$(( $2 % 3 )) app="blink-$$-$1-$2" log="$w/job.$1.$2.log"
  local iters=$(( kind == 2 ? 120 : 100000 )) start=$SECONDS
  fault_launch "$log" 2 SRS_APP="$app" SRS_RESUME=no -- "$SOLVER" "${solver_args[@]}" --iters "$iters"
  local pid=$job_pid
  fault_wait_line "$log" FRESH 60 "$pid" || { failed=$((failed + 1)); fault_log "$app did not start"; return; }
  sleep "$(seconds_of_ms $((100 + RANDOM % 600)))"
  if [ "$daemon" = rss ]; then kill -KILL "$rss_pid"; wait "$rss_pid" 2>/dev/null; else kill -KILL "$depot_pid"; wait "$depot_pid" 2>/dev/null; fi
  local req_pid=""
  if ((kind == 0)); then request stop "$app" & req_pid=$!; fi
  if ((kind == 1)); then request checkpoint "$app" & req_pid=$!; fi
  sleep "$(seconds_of_ms $((200 + RANDOM % 1000)))"
  restart_daemon "$daemon"
  [ -n "$req_pid" ] && wait "$req_pid"
  if ((kind == 1)) && [ "$daemon" = rss ]; then
    # After the requested checkpoint, `srs stop --wait`, and one more kill -9 + restart of the
    # RSS while it waits (the job cannot commit its stop checkpoint while the RSS is away): the
    # wait rides the outage out and reports the commit.
    sleep 0.5
    local waited="$w/stopwait.$2.out"
    "$SRS_TOOL" stop "$app" --wait --timeout 60 >"$waited" 2>&1 &
    local wait_pid=$!
    if fault_wait_line "$waited" "stop requested" 20 "$wait_pid"; then
      kill -KILL "$rss_pid"; wait "$rss_pid" 2>/dev/null
      sleep "$(seconds_of_ms $((200 + RANDOM % 1000)))"
      round="$round.wait" restart_daemon rss
    fi
    if ! wait "$wait_pid" || ! grep -q "stopped: checkpoint epoch" "$waited"; then
      failed=$((failed + 1))
      fault_log "round $daemon $2 ($app): srs stop --wait did not ride out the RSS's restart:"
      cat "$waited" >&2
    fi
  elif ((kind == 1)); then
    # After the requested checkpoint, stop it (the stop also crosses the depot's fresh restart).
    sleep 0.5
    request stop "$app"
  fi
  local t0=$SECONDS rc
  while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < 60)); do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fault_kill_job "$pid"
  wait "$pid"
  rc=$?
  if ((rc == 0)) && grep -q "^DONE" "$log"; then
    finished=$((finished + 1))
  elif ((rc == 0)) && grep -q "^STOPPED" "$log" && SRS_APP=$app fault_inspect &&
       [ "$insp_job_state" = stopped ] && ((insp_last_epoch > 0)); then
    stopped=$((stopped + 1))
    stopped_job[$daemon]="$app $insp_committed_value"
  else
    failed=$((failed + 1))
    fault_log "round $daemon $2 ($app) FAILED (exit $rc):"
    tail -n 5 "$log" "$log.err" >&2
  fi
  [ -n "${BLINK_VERBOSE:-}" ] && fault_log "round $daemon $2 (kind $kind): $((SECONDS - start)) s"
  return 0
}

for daemon in "${daemons[@]}"; do
  for round in $(seq 1 "$ROUNDS"); do one_round "$daemon" "$round"; done
  fault_log "$daemon: $ROUNDS rounds, $finished finished, $stopped stopped (resumable), $failed failed so far"
done

for daemon in "${daemons[@]}"; do
  [ -n "${stopped_job[$daemon]:-}" ] || continue
  read -r app iter <<<"${stopped_job[$daemon]}"
  fault_launch "$w/resume.$daemon.log" 3 SRS_APP="$app" SRS_RESUME=yes SRS_EXPECT_ITER="$iter" -- \
    "$SOLVER" "${solver_args[@]}" --iters $((iter + 10))
  if wait "$job_pid" && grep -q "DONE" "$w/resume.$daemon.log"; then
    resumed=$((resumed + 1))
  else
    failed=$((failed + 1))
    fault_log "resume of $app failed"; cat "$w/resume.$daemon.log.err" >&2
  fi
done
echo "blink: seed $seed: $((${#daemons[@]} * ROUNDS)) jobs across $ROUNDS kill -9 + restart of each of ${daemons[*]}: $finished finished, $stopped stopped and resumable, $resumed resumed and verified, $failed failed"
((failed == 0)) || fault_fail "$failed job(s) failed across outages shorter than rpc_timeout"
((finished > 0 && stopped > 0)) || fault_fail "the rounds did not cover both finished and stopped jobs"
