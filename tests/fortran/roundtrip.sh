#!/usr/bin/env bash
# roundtrip.sh PROGRAM STOP_CMD WRITE_NP READ_NP — inside with-daemons.sh.
# Runs `PROGRAM write` on WRITE_NP ranks, stops it from outside once it runs (STOP_CMD JOB), then
# `PROGRAM read` on READ_NP ranks; both must exit 0 (every element and error checked inside).
set -euo pipefail
prog=$1 stop_cmd=$2 write_np=$3 read_np=$4
: "${SRS_APP:?run me inside with-daemons.sh}"
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
log=$SRS_TEST_WORKDIR/fortran
mkdir -p "$log"
job_pid=""
cleanup() {  # only the mpiexec this script started
  if [ -n "$job_pid" ] && kill -0 "$job_pid" 2>/dev/null; then
    kill -KILL "$job_pid" 2>/dev/null
    wait "$job_pid" 2>/dev/null
  fi
  rm -rf "$log"
  return 0
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

"$mpiexec" -n "$write_np" "$prog" write >"$log/write.log" 2>&1 &
job_pid=$!
t0=$SECONDS
until grep -q "running" "$log/write.log"; do
  kill -0 "$job_pid" 2>/dev/null || { cat "$log/write.log"; echo "roundtrip: write phase ended early"; exit 1; }
  ((SECONDS - t0 < 60)) || { cat "$log/write.log"; echo "roundtrip: write phase never ran"; exit 1; }
  sleep 0.05
done
# The stop must succeed: a failing `srs stop` is a failure, not a warning.
$stop_cmd "$SRS_APP" || { echo "roundtrip: '$stop_cmd $SRS_APP' failed"; exit 1; }
t0=$SECONDS
while kill -0 "$job_pid" 2>/dev/null; do
  ((SECONDS - t0 < 120)) || { cat "$log/write.log"; echo "roundtrip: the write phase did not stop"; exit 1; }
  sleep 0.05
done
rc=0
wait "$job_pid" || rc=$?
job_pid=""
cat "$log/write.log"
((rc == 0)) || { echo "roundtrip: write phase failed ($rc)"; exit 1; }
grep -q "stopped" "$log/write.log" || { echo "roundtrip: write phase did not stop"; exit 1; }

SRS_TEST_OLD_NP=$write_np "$mpiexec" -n "$read_np" "$prog" read
