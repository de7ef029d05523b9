#!/usr/bin/env bash
# Runs c_api_test's phases on the daemons with-daemons.sh started:
#   c_api_phases.sh BIN N M
# write on N ranks; read on M (errors + conversions); damage every piece on disk and expect
# DATA_LOSS on every rank; stop the depot and expect UNAVAILABLE on every rank.
set -eu
bin=$1 n=$2 m=$3
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
export SRS_LOG=${SRS_LOG:-error}

"$mpiexec" -n "$n" "$bin" write
# Each later phase takes over from the one before (which left without SRS_Finish).
export SRS_FORCE=yes
"$mpiexec" -n "$m" "$bin" read "$n"

pieces=$(find $SRS_DEPOT_DIRS -name '*.h5' -path '*pieces*')
[ -n "$pieces" ] || { echo "no pieces found in $SRS_DEPOT_DIRS" >&2; exit 1; }
for f in $pieces; do  # invert one byte in the middle of every piece
  off=$(($(stat -c %s "$f") / 2))
  b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
  printf "\\x$(printf %02x $((255 - b)))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
done
"$mpiexec" -n "$m" "$bin" corrupt

for pid in $SRS_DEPOT_PIDS; do echo "$pid" >>"$SRS_TEST_WORKDIR/daemons.killed"; kill -TERM "$pid"; done
for pid in $SRS_DEPOT_PIDS; do
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
done
SRS_RPC_TIMEOUT=5 "$mpiexec" -n "$m" "$bin" unavailable
