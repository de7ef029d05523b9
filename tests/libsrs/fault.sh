#!/usr/bin/env bash
# A checkpoint interrupted mid-write must leave the previous committed checkpoint intact and
# restartable, and must itself never become a restart point. Checkpoints at sweeps 10 (epoch 1)
# and 20 (epoch 2); epoch 2 is interrupted, provably:
#   fault.sh SOLVER RSS_ADMIN WAIT_NEW_FILE rank   libsrs's test hook SIGKILLs the last of 3 ranks
#                                                  right after it stored its piece of epoch 2
#   fault.sh SOLVER RSS_ADMIN WAIT_NEW_FILE depot  the depot is SIGKILLed the moment its spool
#                                                  file of epoch 2 appears (a streamed put under
#                                                  way), then restarted on the same address/dir
# Then: the RSS must not hold epoch 2 as committed; the job resumes on 2 ranks (forced: the dead
# run may still hold its lease) from epoch 1 — sweep 10, every element checked by the solver —
# the RSS records the resume from epoch 1 and epoch 2 ends discarded; the job finishes.
set -u
solver=$1 admin=$2 wait_new_file=$3 mode=$4
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
export SRS_LOG=${SRS_LOG:-error}
out=$SRS_TEST_WORKDIR/fault.out
extra_pid=""
cleanup() {
  [ -n "$extra_pid" ] || return 0
  kill -TERM "$extra_pid" 2>/dev/null
  wait "$extra_pid"
  local rc=$?
  ((rc == 0)) || { echo "fault($mode): the restarted depot exited $rc after SIGTERM" >&2; exit 1; }
}
trap cleanup EXIT
fail() { echo "fault($mode): $*" >&2; cat "$out" >&2; exit 1; }
state_of() { "$admin" checkpoints "$SRS_APP" | awk -v e="$1" '$1 == e {print $2}'; }

if [ "$mode" = rank ]; then
  n=4194304
  SRS_TEST_DIE_AFTER=put SRS_TEST_DIE_EPOCH=2 SRS_TEST_DIE_RANK=2 \
    "$mpiexec" -n 3 "$solver" 1000 1 $n 10 >"$out" 2>&1 && fail "the job survived the kill"
  grep -q "^checkpointed 10" "$out" || fail "the first checkpoint did not commit"
  grep -q "srs-test-hook: dying after put epoch 2 rank 2" "$out" || fail "the hook did not fire at epoch 2"
else
  export SRS_TRANSPORT=grpc  # stream through the depot, so killing it cuts the write
  # The ranks give up on the dead depot after the RPC deadline (default 30 s, most of this
  # test's time); 8 s still leaves the streamed puts of epoch 1 their size allowance on top.
  export SRS_RPC_TIMEOUT=8
  n=8388608
  depot_pid=${SRS_DEPOT_PIDS%% *}
  echo "$depot_pid" >>"$SRS_TEST_WORKDIR/daemons.killed"
  "$mpiexec" -n 2 "$solver" 1000 1 $n 10 >"$out" 2>&1 &
  pid=$!
  t0=$SECONDS
  until grep -q "^checkpointed 10" "$out"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS - t0 >= 120)); then kill "$pid"; fail "epoch 1 never committed"; fi
    sleep 0.05
  done
  # The next streamed put (epoch 2) creates <id>.part in the spool: kill the depot right then.
  WAIT_NEW_FILE_KILL=$depot_pid "$wait_new_file" "${SRS_DEPOT_DIRS%% *}/spool" 120000 .part \
    >"$out.spool" || { kill "$pid"; fail "no streamed put of epoch 2 seen"; }
  wait "$pid" && fail "the solver did not notice the depot died"
  grep -q "^checkpointing 20" "$out" || fail "the depot died outside the second checkpoint"
  grep -q "^checkpointed 20" "$out" && fail "epoch 2 committed although its depot died during the put"
  addr=${SRS_DEPOT_ADDRS%% *} dir=${SRS_DEPOT_DIRS%% *}
  "$SRS_DEPOT_BIN" --listen "$addr" --dir "$dir" --rss "$SRS_RSS" --enroll-secret-file "$SRS_TOKEN_FILE" >"$dir.restart.out" 2>&1 &
  extra_pid=$!
  t0=$SECONDS
  until grep -q "listening on" "$dir.restart.out"; do
    ((SECONDS - t0 < 60)) || fail "depot did not restart: $(cat "$dir.restart.out")"
    sleep 0.05
  done
  unset SRS_TRANSPORT SRS_RPC_TIMEOUT
fi
"$admin" epochs "$SRS_APP" >"$out.epochs" || fail "cannot ask the RSS"
[ "$(tail -1 "$out.epochs")" = 1 ] || fail "newest committed epoch is '$(tail -1 "$out.epochs")', expected 1"
[ "$(state_of 2)" != committed ] || fail "the interrupted epoch 2 is committed"

export SRS_FORCE=yes  # the interrupted run may still hold its lease
"$mpiexec" -n 2 "$solver" 25 0 $n >"$out" 2>&1 || fail "resume exited $?"
grep -q "^resumed at iter 10 on 2 ranks" "$out" || fail "did not resume from epoch 1 (sweep 10)"
grep -q "^finished at iter 25" "$out" || fail "did not finish"
from=$("$admin" runs "$SRS_APP" | tail -1 | awk '{print $4}')
[ "$from" = 1 ] || fail "the RSS records the resume from epoch '$from', expected 1"
# SRS_Finish removes every checkpoint of the job; the RSS still lists them with their fates.
[ "$(state_of 2)" = discarded ] || fail "epoch 2 ended '$(state_of 2)', expected discarded"
echo "fault($mode): epoch 2 interrupted and discarded; resumed from epoch 1 (sweep 10), finished"
