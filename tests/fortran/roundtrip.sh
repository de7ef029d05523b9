#!/usr/bin/env bash
# roundtrip.sh PROGRAM STOP_CMD WRITE_NP READ_NP — inside with-daemons.sh.
# Runs `PROGRAM write` on WRITE_NP ranks, stops it from outside once it runs (STOP_CMD JOB), then
# `PROGRAM read` on READ_NP ranks; both must exit 0 (every element and error checked inside).
set -euo pipefail
prog=$1 stop_cmd=$2 write_np=$3 read_np=$4
: "${SRS_APP:?run me inside with-daemons.sh}"
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
log=$(mktemp -d "${TMPDIR:-/tmp}/srs-fortran.XXXXXX")
job_pid=""
cleanup() {  # only the mpiexec this script started
  if [ -n "$job_pid" ] && kill -0 "$job_pid" 2>/dev/null; then
    kill -TERM "$job_pid" 2>/dev/null || true; sleep 1; kill -KILL "$job_pid" 2>/dev/null || true
  fi
  rm -rf "$log"
}
trap cleanup EXIT

"$mpiexec" -n "$write_np" "$prog" write >"$log/write.log" 2>&1 &
job_pid=$!
for _ in $(seq 600); do
  grep -q "running" "$log/write.log" && break
  kill -0 "$job_pid" 2>/dev/null || break
  sleep 0.05
done
if ! $stop_cmd "$SRS_APP"; then
  echo "roundtrip: WARNING: '$stop_cmd' failed; asking the RSS directly" >&2
  ${SRS_TEST_STOP_FALLBACK:?} "$SRS_APP" || true  # the job's own "stopped" decides
fi
rc=0
wait "$job_pid" || rc=$?
job_pid=""
cat "$log/write.log"
((rc == 0)) || { echo "roundtrip: write phase failed ($rc)"; exit 1; }
grep -q "stopped" "$log/write.log" || { echo "roundtrip: write phase did not stop"; exit 1; }

SRS_TEST_OLD_NP=$write_np "$mpiexec" -n "$read_np" "$prog" read
