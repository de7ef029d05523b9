#!/usr/bin/env bash
# kill -9 of a rank while an asynchronous checkpoint is in flight (tests/libsrs/async_driver.cc
# crash): the resume on M ranks must restore exactly the last committed checkpoint.
#   async_fault.sh DRIVER RSS_ADMIN hold|write N M
#   hold:  the flush is held before writing (SRS_TEST_ASYNC_HOLD), so the interrupted checkpoint
#          can never commit: the resume must give the SRS_Checkpoint before it (version 1).
#   write: SIGKILL a few ms into the flush of a 64 MiB checkpoint; the resume must give the
#          newest committed epoch, whichever it is (version 1, or 2 if the flush won the race).
set -u
driver=$1 admin=$2 variant=$3 n=$4 m=$5
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
count=8388608
work=$SRS_TEST_WORKDIR/async-fault-$variant
mkdir -p "$work"
app=$SRS_APP-$variant
export SRS_APP=$app SRS_KEEP=10
fail() { echo "async_fault($variant): $*" >&2; tail -n 20 "$work"/*.err >&2; exit 1; }

hold=""
[ "$variant" = hold ] && hold=$work/never
SRS_CHECKPOINT_INTERVAL=0.05 SRS_TEST_ASYNC_HOLD=$hold SRS_LOG=error \
  SRS_TEST_ASYNC_MARK=$work/flushing.mark \
  "$mpiexec" -n "$n" "$driver" crash $count >"$work/crash.out" 2>"$work/crash.err" \
  && fail "the crashing run exited 0"
# A file, not rank 0's stdout line: mpiexec may drop output of a job that dies right after it.
[ -s "$work/flushing.mark" ] || fail "the run died before its async checkpoint started"
mapfile -t epochs < <("$admin" epochs "$app" | sort -n)
((${#epochs[@]} >= 1)) || fail "no committed checkpoint"
expected=1
if ((${#epochs[@]} == 2)); then
  [ "$variant" = write ] || fail "a held flush committed: epochs ${epochs[*]}"
  expected=2
fi
((${#epochs[@]} <= 2)) || fail "too many committed epochs: ${epochs[*]}"
SRS_RESUME=yes SRS_FORCE=yes ASYNC_DRIVER_FINISH=1 SRS_LOG=warning \
  "$mpiexec" -n "$m" "$driver" verify $expected $count >"$work/verify.out" 2>"$work/verify.err" \
  || fail "resume did not restore version $expected (epochs ${epochs[*]})"
grep -q "^ok verify" "$work/verify.out" || fail "verify did not finish"
echo "async_fault($variant): resumed version $expected from epochs ${epochs[*]} on $m ranks"
