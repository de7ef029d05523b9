#!/usr/bin/env bash
# Big-endian pieces (as a machine of the other byte order writes them) restored on this one:
#   big_endian.sh BE_WRITER DRIVER N M
set -eu
writer=$1 driver=$2 n=$3 m=$4
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
export SRS_LOG=${SRS_LOG:-error}
"$writer" "$n"
# The pieces really are big-endian on disk.
piece=$(find $SRS_DEPOT_DIRS -name '*.h5' -path '*pieces*' | head -1)
if command -v h5dump >/dev/null; then
  h5dump -H -d /a_block "$piece" | grep -q "H5T_IEEE_F64BE" || { echo "not big-endian" >&2; exit 1; }
fi
export SRS_FORCE=yes
"$mpiexec" -n "$m" "$driver" read "$n"
