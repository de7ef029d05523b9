#!/usr/bin/env bash
# One N->M redistribution test: write on N ranks, read on M (same SRS_APP, same daemons).
#   redistribute_pair.sh BIN N M [grpc]
# With "grpc" every piece moves over gRPC (no shared-host fast path).
set -eu
bin=$1 n=$2 m=$3
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
export SRS_LOG=${SRS_LOG:-error}
if [ "${4:-}" = grpc ]; then export SRS_TRANSPORT=grpc; fi
"$mpiexec" -n "$n" "$bin" write
export SRS_FORCE=yes  # the writer left without SRS_Finish; its lease may still be live
"$mpiexec" -n "$m" "$bin" read "$n"
