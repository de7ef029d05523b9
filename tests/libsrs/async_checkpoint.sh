#!/usr/bin/env bash
# Asynchronous checkpoints on N ranks, restored on M (tests/libsrs/async_driver.cc):
#  copy:     the checkpoint holds the arrays as they were at the copy, not as they were changed
#            while its flush was held in flight; a periodic checkpoint due meanwhile is skipped,
#            SRS_Checkpoint and the stop wait for (drain) the one in flight; every epoch restores
#            the version it was taken at.
#  fallback: arrays above staging_limit: the periodic checkpoint runs synchronously (it commits
#            although the flusher is held forever).
#   async_checkpoint.sh DRIVER RSS_ADMIN N M
set -u
driver=$1 admin=$2 n=$3 m=$4
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
count=10007
work=$SRS_TEST_WORKDIR/async-$n-$m
mkdir -p "$work"
base_app=$SRS_APP
export SRS_RSS_ADMIN=$admin SRS_LOG=info SRS_KEEP=10
fail() { echo "async_checkpoint($n->$m): $*" >&2; tail -n 30 "$work"/*.err >&2; exit 1; }

# counter NAME FILE: the value of NAME=... in the run's "async checkpoints:" summary line.
counter() { grep -o "async checkpoints: .*" "$2" | tail -1 | grep -o "$1=[0-9]*" | cut -d= -f2; }

# verify APP VERSION EPOCH: resume APP on M ranks from EPOCH (0 = newest), expect VERSION.
verify() {
  SRS_APP=$1 SRS_RESUME=yes SRS_FORCE=yes SRS_EPOCH=$3 SRS_LOG=warning \
    "$mpiexec" -n "$m" "$driver" verify "$2" $count >"$work/verify-$2.out" 2>"$work/verify-$2.err" \
    || fail "$1: epoch $3 did not restore version $2"
  grep -q "^ok verify" "$work/verify-$2.out" || fail "$1: verify did not finish"
}

# --- copy semantics, skip and wait counts, drain at stop ---
app=$base_app-copy
SRS_APP=$app SRS_CHECKPOINT_INTERVAL=0.05 SRS_TEST_ASYNC_HOLD=$work/release \
  "$mpiexec" -n "$n" "$driver" copy $count >"$work/copy.out" 2>"$work/copy.err" \
  || fail "copy run exited $?"
grep -q "^ok copy" "$work/copy.out" || fail "copy run did not finish"
started=$(counter started "$work/copy.err") committed=$(counter committed "$work/copy.err")
skipped=$(counter skipped "$work/copy.err") waited=$(counter waited "$work/copy.err")
[ -n "$started" ] || fail "no 'async checkpoints:' summary in the log"
((started >= 2)) || fail "started=$started, expected >= 2 asynchronous checkpoints"
((committed == started)) || fail "committed=$committed of started=$started"
((skipped >= 1)) || fail "skipped=$skipped: the periodic checkpoint due while one was held in flight"
((waited >= 1)) || fail "waited=$waited: SRS_Checkpoint must wait for the one in flight"
mapfile -t epochs < <(SRS_APP=$app "$admin" epochs "$app" | sort -n)
((${#epochs[@]} >= 3)) || fail "committed epochs: ${epochs[*]}"
verify "$app" 3 0            # the stop checkpoint
verify "$app" 1 "${epochs[0]}"  # the asynchronous one, as it was at the copy
echo "async_checkpoint($n->$m): copy ok (started=$started skipped=$skipped waited=$waited," \
  "epochs ${epochs[*]})"

# --- staging_limit fallback ---
app=$base_app-fallback
SRS_APP=$app SRS_CHECKPOINT_INTERVAL=0.05 SRS_STAGING_LIMIT=1K SRS_TEST_ASYNC_HOLD=$work/never \
  "$mpiexec" -n "$n" "$driver" fallback $count >"$work/fallback.out" 2>"$work/fallback.err" \
  || fail "fallback run exited $?"
grep -q "^ok fallback" "$work/fallback.out" || fail "fallback run did not finish"
[ "$(counter started "$work/fallback.err")" = 0 ] || fail "an async checkpoint started above staging_limit"
fallbacks=$(counter sync_fallbacks "$work/fallback.err")
((fallbacks >= 1)) || fail "sync_fallbacks=$fallbacks"
mapfile -t epochs < <(SRS_APP=$app "$admin" epochs "$app" | sort -n)
verify "$app" 1 "${epochs[0]}"
ASYNC_DRIVER_FINISH=1 verify "$app" 2 0
echo "async_checkpoint($n->$m): fallback ok (sync_fallbacks=$fallbacks)"

# --- a bad checkpoint_mode or staging_limit fails SRS_Init clearly ---
SRS_APP=$base_app-bad SRS_CHECKPOINT_MODE=later "$mpiexec" -n 1 "$driver" copy 10 \
  >"$work/bad.out" 2>"$work/bad.err" && fail "checkpoint_mode=later was accepted"
grep -q "checkpoint_mode" "$work/bad.err" || fail "the error does not name checkpoint_mode"
SRS_APP=$base_app-bad SRS_STAGING_LIMIT=lots "$mpiexec" -n 1 "$driver" copy 10 \
  >"$work/bad.out" 2>"$work/bad.err" && fail "staging_limit=lots was accepted"
grep -q "staging_limit" "$work/bad.err" || fail "the error does not name staging_limit"
echo "async_checkpoint($n->$m): all ok"
