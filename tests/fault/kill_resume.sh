#!/usr/bin/env bash
# Fault test (issue 9): kill -9 a running job at a random moment — sometimes during computation,
# sometimes right after a checkpoint write began — then resume it on a different process count,
# for at least FAULT_ROUNDS rounds, and finally let it run to the end.
#
# Every resume must restore exactly the newest COMMITTED checkpoint as the RSS records it: the
# driver reads the iteration stored in that checkpoint (rank 0's piece, straight from the depot)
# and the solver checks it restored that iteration and that EVERY element of its arrays equals
# the known function of (iteration, global index) on every rank (a partial or mixed checkpoint
# fails). The RSS must mark each killed run lost (after the lease) and discard a checkpoint the
# kill interrupted; the committed epoch never goes backwards nor lands on a discarded one.
#
#   kill_resume.sh SOLVER FAULT_INSPECT WAIT_NEW_FILE
# Env: SRS_RSS_BIN, SRS_DEPOT_BIN, SRS_MPIEXEC; FAULT_ROUNDS (12), FAULT_LEASE (2), FAULT_SEED.
set -u
# shellcheck disable=SC2154  # insp_* and job_pid are set by fault_lib.sh (printf -v, globals)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=fault_lib.sh
. "$here/fault_lib.sh"
SOLVER=$1 FAULT_INSPECT=$2 WAIT_NEW_FILE=$3
SRS_MPIEXEC=${SRS_MPIEXEC:-mpiexec.mpich}
FAULT_LEASE=${FAULT_LEASE:-2}
rounds=${FAULT_ROUNDS:-12}
RANDOM=${FAULT_SEED:-$$}
fault_setup

# 2^18 doubles + 2^18 int64 = 4 MiB per checkpoint, a new one every ~0.4 s.
export SRS_CHECKPOINT_INTERVAL=${FAULT_INTERVAL:-0.4} SRS_KEEP=2
solver_args=(--global $((1 << 18)) --sleep-ms 10)
counts=(2 3 4 1)
hits=0 compute_kills=0 ckpt_attempts=0 prev_epoch=0 np_prev=0
discarded_epochs=" "

for ((round = 1; round <= rounds + 1; ++round)); do
  np=${counts[$(((round - 1) % ${#counts[@]}))]}
  log=$FAULT_WORK/round$round.log
  fault_inspect
  envs=(SRS_RESUME=no)
  iters=1000000
  if ((insp_last_epoch > 0)); then
    envs=(SRS_RESUME=yes "SRS_EXPECT_ITER=$insp_committed_value")
    ((insp_last_epoch >= prev_epoch)) || fault_fail "committed epoch went back: $prev_epoch -> $insp_last_epoch"
    case "$discarded_epochs" in
      *" $insp_last_epoch "*) fault_fail "epoch $insp_last_epoch was discarded but is the restart point" ;;
    esac
    prev_epoch=$insp_last_epoch
  fi
  final=0
  if ((round > rounds)); then
    final=1
    iters=$((${insp_committed_value:-0} + 60))
  fi
  fault_log "round $round: np=$np ${envs[*]} (committed epoch $insp_last_epoch)"
  fault_launch "$log" "$np" "${envs[@]}" -- "$SOLVER" "${solver_args[@]}" --iters "$iters"
  fault_wait_line "$log" 'RESTORED\|FRESH' 60 "$job_pid" ||
    { cat "$log" "$log.err" >&2; fault_fail "round $round: the job did not start or restore"; }
  if grep -q RESTORED "$log"; then
    line=$(grep -m1 RESTORED "$log")
    fault_log "  $line"
    got=${line#*iter=}; got=${got%% *}
    [ "$got" = "$insp_committed_value" ] || fault_fail "round $round: restored $got, committed $insp_committed_value"
    ((np != np_prev)) || fault_fail "test bug: same process count twice"
  fi
  np_prev=$np
  fault_inspect
  run=$insp_newest_run  # the run just registered (asked now: no delay between trigger and kill)
  if ((final)); then
    wait "$job_pid"
    rc=$?
    ((rc == 0)) && grep -q "DONE iter=$iters" "$log" ||
      { cat "$log" "$log.err" >&2; fault_fail "final round: rc=$rc, no DONE"; }
    fault_log "  finished: $(grep DONE "$log")"
    break
  fi
  # Half the rounds aim at a checkpoint write, half at a random moment of the computation.
  if ((RANDOM % 2)); then
    ckpt_attempts=$((ckpt_attempts + 1))
    sleep "0.$((RANDOM % 5))"
    # wait_new_file kills the job itself the moment the write begins (pids taken beforehand).
    WAIT_NEW_FILE_KILL="$(fault_tree "$job_pid" | tr '\n' ' ')" \
      "$WAIT_NEW_FILE" "$SRS_DEPOT_DIR/spool" 5000 >"$log.newfile" || fault_log "  no checkpoint write seen"
    how="after checkpoint write began ($(cat "$log.newfile"))"
  else
    compute_kills=$((compute_kills + 1))
    sleep "$((RANDOM % 2)).$((RANDOM % 10))"
    how="during computation"
  fi
  if [ "$how" = "during computation" ]; then
    kill -0 "$job_pid" 2>/dev/null || { cat "$log" "$log.err" >&2; fault_fail "round $round: job ended early"; }
  fi
  fault_kill_job "$job_pid"
  fault_log "  kill -9 $how; last ITER line: $(grep ITER "$log" | tail -1)"
  # The RSS notices the dead run once its lease runs out.
  fault_wait_run_state "$run" lost $((FAULT_LEASE * 4 + 10)) ||
    fault_fail "round $round: run $run not marked lost (state '$insp_run_state')"
  # A checkpoint the kill interrupted must be discarded, never committed later.
  fault_inspect --run "$run"
  ((insp_run_pending_checkpoints == 0)) ||
    fault_fail "round $round: lost run $run still has a pending checkpoint: $insp_checkpoints"
  if ((insp_run_unfinished_checkpoints > 0)); then
    hits=$((hits + 1))
    fault_log "  hit a checkpoint write: $insp_checkpoints"
    for c in $insp_checkpoints; do
      case "$c" in *:discarded:* | *:pending:*) discarded_epochs="$discarded_epochs${c%%:*} " ;; esac
    done
  fi
done

fault_inspect
fault_log "job state: $insp_job_state; runs: $insp_runs"
[ "$insp_job_state" = finished ] || fault_fail "the job is not finished after the final round"
echo "kill_resume: $rounds rounds killed ($compute_kills during computation, $ckpt_attempts aimed at a checkpoint write); $hits rounds hit a checkpoint write"
echo "rounds_hit_checkpoint_write: $hits"
# Aiming at checkpoint writes must actually hit some, or the test proves less than it claims.
((ckpt_attempts == 0 || hits > 0)) || fault_fail "no round hit a checkpoint write"
exit 0
