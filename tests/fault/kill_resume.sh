#!/usr/bin/env bash
# shellcheck disable=SC2154,SC2034  # insp_*, job_pid, FAULT_INSPECT: globals shared with fault_lib.sh
# Fault test (issues 9, 17): kill a running job — at a random moment of its computation, or by
# libsrs's test hook at a precise point of a checkpoint (after a rank's put, after ReportPieces,
# after the commit) — then resume it on a different process count, for FAULT_ROUNDS rounds, and
# finally let it run to the end. Runs under tests/support/with-daemons.sh --lease FAULT_LEASE
# --depot-lease FAULT_DEPOT_LEASE.
#
# Every kill is proven: the hook prints which epoch it interrupted, or the job was still running
# when killed. After each kill the RSS must mark the run lost; a checkpoint interrupted before its
# commit must be discarded and the committed epoch must not move; one killed after its commit must
# be the next restart point. Every resume must come from exactly the newest committed checkpoint
# (the RSS's resumed_from_epoch, and the iteration the solver restored = the value stored in that
# checkpoint, every element of the arrays verified by the solver). keep=2: once two checkpoints
# committed, exactly two stay committed; before the final round the depot directory must hold
# exactly the committed checkpoints' pieces (the killed ones reclaimed).
#
#   kill_resume.sh SOLVER FAULT_INSPECT WAIT_NEW_FILE
# Env: SRS_MPIEXEC; FAULT_ROUNDS (12), FAULT_LEASE (2), FAULT_DEPOT_LEASE (20);
# FAULT_SEED (printed at the start; set it to replay a run's choices).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=fault_lib.sh
. "$here/fault_lib.sh"
SOLVER=$1 FAULT_INSPECT=$2
SRS_MPIEXEC=${SRS_MPIEXEC:-mpiexec.mpich}
FAULT_LEASE=${FAULT_LEASE:-2}
rounds=${FAULT_ROUNDS:-12}
seed=${FAULT_SEED:-$(((($$ << 10) ^ $(date +%s)) % 32768))}
RANDOM=$seed
echo "kill_resume: seed $seed (replay with FAULT_SEED=$seed)"
fault_setup

# 2^18 doubles + 2^18 int64 = 4 MiB per checkpoint, a new one every ~0.4 s.
export SRS_CHECKPOINT_INTERVAL=${FAULT_INTERVAL:-0.4} SRS_KEEP=2
solver_args=(--global $((1 << 18)) --sleep-ms 10)
counts=(2 3 4 1)
points=(compute put report commit)
declare -A kills=([compute]=0 [put]=0 [report]=0 [commit]=0)
prev_epoch=0 np_prev=0 expect_epoch=0
declare -A ever_committed=()
discarded_epochs=" "

# The RSS's view after a kill: committed epochs never move back, never land on a discarded one,
# and keep=2 holds.
check_committed() {
  local c n=0
  for c in $insp_checkpoints; do
    case "$c" in *:committed:*) ever_committed[${c%%:*}]=1; n=$((n + 1)) ;; esac
  done
  local want=${#ever_committed[@]}
  ((want > 2)) && want=2
  ((n == want)) || fault_fail "keep=2: $n committed checkpoints, expected $want ($insp_checkpoints)"
  ((insp_last_epoch >= prev_epoch)) || fault_fail "committed epoch went back: $prev_epoch -> $insp_last_epoch"
  case "$discarded_epochs" in
    *" $insp_last_epoch "*) fault_fail "epoch $insp_last_epoch was discarded but is the restart point" ;;
  esac
}

for ((round = 1; round <= rounds + 1; ++round)); do
  np=${counts[$(((round - 1) % ${#counts[@]}))]}
  log=$FAULT_WORK/round$round.log
  FAULT_ALLOW_MISSING=$( ((round == 1)) && echo yes || echo no) fault_inspect
  envs=(SRS_RESUME=no)
  iters=1000000
  if ((insp_last_epoch > 0)); then
    ((expect_epoch == 0 || insp_last_epoch == expect_epoch)) ||
      fault_fail "round $round: newest committed epoch $insp_last_epoch, expected $expect_epoch"
    expect_epoch=$insp_last_epoch
    envs=(SRS_RESUME=yes "SRS_EXPECT_ITER=$insp_committed_value")
    prev_epoch=$insp_last_epoch
  fi
  point=compute
  final=0
  if ((round > rounds)); then
    final=1
    iters=$((${insp_committed_value:-0} + 60))
  else
    point=${points[$((RANDOM % ${#points[@]}))]}
  fi
  die_rank=0
  if [ "$point" = put ]; then die_rank=$((RANDOM % np)); fi
  if [ "$point" != compute ]; then envs+=("SRS_TEST_DIE_AFTER=$point" "SRS_TEST_DIE_RANK=$die_rank"); fi
  fault_log "round $round: np=$np kill=$point rank=$die_rank ${envs[*]} (committed epoch $insp_last_epoch)"
  fault_launch "$log" "$np" "${envs[@]}" -- "$SOLVER" "${solver_args[@]}" --iters "$iters"
  fault_wait_line "$log" 'RESTORED\|FRESH' 60 "$job_pid" ||
    { cat "$log" "$log.err" >&2; fault_fail "round $round: the job did not start or restore"; }
  fault_inspect
  run=$insp_newest_run
  if grep -q RESTORED "$log"; then
    line=$(grep -m1 RESTORED "$log")
    fault_log "  $line"
    got=${line#*iter=}; got=${got%% *}
    [ "$got" = "$insp_committed_value" ] || fault_fail "round $round: restored $got, committed $insp_committed_value"
    ((np != np_prev)) || fault_fail "test bug: same process count twice"
    from=${insp_run_epochs##*,}
    [ "$from" = "$expect_epoch" ] ||
      fault_fail "round $round: the RSS says the run resumed from epoch $from, expected $expect_epoch"
  elif ((expect_epoch > 0)); then
    fault_fail "round $round: started fresh although epoch $expect_epoch is committed"
  fi
  np_prev=$np
  if ((final)); then
    wait "$job_pid"
    rc=$?
    { ((rc == 0)) && grep -q "DONE iter=$iters" "$log"; } ||
      { cat "$log" "$log.err" >&2; fault_fail "final round: rc=$rc, no DONE"; }
    fault_log "  finished: $(grep DONE "$log")"
    break
  fi
  kills[$point]=$((kills[$point] + 1))
  killed_epoch=""
  if [ "$point" = compute ]; then
    sleep "$((RANDOM % 2)).$((RANDOM % 10))"
    kill -0 "$job_pid" 2>/dev/null || { cat "$log" "$log.err" >&2; fault_fail "round $round: job ended early"; }
    fault_kill_job "$job_pid"
  else
    fault_wait_exit "$job_pid" 120 || fault_fail "round $round: the hook (die after $point) never ended the job"
    killed_epoch=$(fault_hook_epoch "$log.err" "$point")
    fault_kill_job "$job_pid"  # whatever hydra left behind
  fi
  fault_log "  killed ($point${killed_epoch:+, epoch $killed_epoch}); last ITER line: $(grep ITER "$log" | tail -1)"
  # The RSS notices the dead run once its lease runs out.
  fault_wait_run_state "$run" lost $((FAULT_LEASE * 4 + 30)) ||
    fault_fail "round $round: run $run not marked lost (state '$insp_run_state')"
  fault_inspect --run "$run"
  ((insp_run_pending_checkpoints == 0)) ||
    fault_fail "round $round: lost run $run still has a pending checkpoint: $insp_checkpoints"
  for c in $insp_checkpoints; do
    case "$c" in *:discarded:* | *:pending:*) discarded_epochs="$discarded_epochs${c%%:*} " ;; esac
  done
  case "$point" in
    put | report)
      state=$(fault_checkpoint_state "$killed_epoch")
      [ "$state" = discarded ] ||
        fault_fail "round $round: epoch $killed_epoch, interrupted after $point, is '$state', not discarded"
      ((insp_last_epoch == prev_epoch)) ||
        fault_fail "round $round: the newest committed epoch moved to $insp_last_epoch after a kill before the commit"
      ;;
    commit)
      state=$(fault_checkpoint_state "$killed_epoch")
      [ "$state" = committed ] || fault_fail "round $round: epoch $killed_epoch, killed after its commit, is '$state'"
      ((insp_last_epoch == killed_epoch)) ||
        fault_fail "round $round: newest committed epoch $insp_last_epoch, expected $killed_epoch (committed before the kill)"
      ;;
  esac
  check_committed
  expect_epoch=$insp_last_epoch
  fault_log "  run lost; checkpoints: $insp_checkpoints"
  if ((round == rounds)); then
    # Before the final run: the depot holds exactly the pieces of the (keep=2) committed
    # checkpoints; every piece of a killed checkpoint (reported or not) has been reclaimed.
    fault_wait_depot_reclaimed $((${FAULT_DEPOT_LEASE:-20} + 60))
    fault_log "  depot holds exactly the $insp_committed_pieces pieces of the committed checkpoints"
  fi
done

fault_inspect
fault_log "job state: $insp_job_state; runs: $insp_runs; resumed from: $insp_run_epochs"
[ "$insp_job_state" = finished ] || fault_fail "the job is not finished after the final round"
echo "kill_resume: seed $seed; $rounds rounds killed: ${kills[compute]} during computation," \
  "${kills[put]} after a put, ${kills[report]} after ReportPieces, ${kills[commit]} after a commit"
exit 0
