#!/usr/bin/env bash
# A checkpoint interrupted mid-write must leave the previous committed checkpoint intact and
# restartable.
#   fault.sh SOLVER rank   the last rank SIGKILLs itself 5 ms into the second checkpoint
#   fault.sh SOLVER depot  the depot is SIGKILLed as the second checkpoint starts, then
#                          restarted on the same address and directory
# Then the job is resumed on another process count: it must resume from the last checkpoint
# that completed (every element is checked by the solver) and finish.
set -u
solver=$1 mode=$2
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
export SRS_LOG=${SRS_LOG:-error}
out=$SRS_TEST_WORKDIR/fault.out
extra_pid=""
cleanup() { [ -n "$extra_pid" ] && kill -TERM "$extra_pid" 2>/dev/null && wait "$extra_pid"; }
trap cleanup EXIT
fail() { echo "fault($mode): $*" >&2; cat "$out" >&2; exit 1; }

if [ "$mode" = rank ]; then
  # 4 Mi doubles; checkpoints at sweeps 10 and 20; the last rank dies during the second.
  n=4194304
  "$mpiexec" -n 3 "$solver" 1000 1 $n 10 20 >"$out" 2>&1
  grep -q "^checkpointed 10" "$out" || fail "first checkpoint did not commit"
else
  export SRS_TRANSPORT=grpc  # stream through the depot, so killing it cuts the write
  n=8388608
  "$mpiexec" -n 2 "$solver" 1000 1 $n 10 >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 3000); do grep -q "^checkpointing 20" "$out" && break; sleep 0.01; done
  grep -q "^checkpointing 20" "$out" || { kill "$pid"; fail "never reached the second checkpoint"; }
  kill -KILL $SRS_DEPOT_PIDS
  wait "$pid" && fail "the solver did not notice the depot died"
  addr=${SRS_DEPOT_ADDRS%% *} dir=${SRS_DEPOT_DIRS%% *}
  "$SRS_DEPOT_BIN" --listen "$addr" --dir "$dir" --rss "$SRS_RSS" --enroll-secret-file "$SRS_TOKEN_FILE" >"$dir.restart.out" 2>&1 &
  extra_pid=$!
  for _ in $(seq 200); do grep -q "listening on" "$dir.restart.out" && break; sleep 0.05; done
  grep -q "listening on" "$dir.restart.out" || fail "depot did not restart"
  unset SRS_TRANSPORT
fi
last=$(sed -n 's/^checkpointed //p' "$out" | tail -1)
[ -n "$last" ] || fail "no committed checkpoint"

export SRS_FORCE=yes  # the interrupted run may still hold its lease
"$mpiexec" -n 2 "$solver" $((last + 5)) 0 $n >"$out" 2>&1 || fail "resume exited $?"
grep -q "^resumed at iter $last on 2 ranks" "$out" || fail "did not resume at $last"
grep -q "^finished at iter $((last + 5))" "$out" || fail "did not finish"
echo "fault($mode): resumed from the checkpoint of sweep $last and finished"
