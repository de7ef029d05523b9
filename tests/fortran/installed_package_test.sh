#!/usr/bin/env bash
# installed_package_test.sh BUILD_DIR OUTSIDE_SRC MPIEXEC MPIFORT
# Installs SRS from BUILD_DIR into a temporary prefix, then builds an outside Fortran project
# against it with find_package(SRS) -> SRS::srs_fortran (srs.mod from the install) and runs it.
# The project names no MPI at all: SRSConfig.cmake must bring the MPICH SRS was built with.
set -euo pipefail
build=$1 src=$2 mpiexec=$3  # $4, the MPI Fortran wrapper, is unused: SRSConfig.cmake picks it
tmp=$(mktemp -d "${TMPDIR:-/tmp}/srs-fortran-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
test -f "$tmp/prefix/include/srs.mod" || { echo "srs.mod not installed"; exit 1; }
ls "$tmp"/prefix/lib/libsrs_fortran.so* >/dev/null

cmake -S "$src" -B "$tmp/outside" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_Fortran_COMPILER="$(command -v gfortran)" >"$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/outside" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
# It must have found the installed package, not a build tree.
grep -qx "SRS_DIR:PATH=$tmp/prefix/lib/cmake/SRS" "$tmp/outside/CMakeCache.txt" \
  || { grep SRS_DIR "$tmp/outside/CMakeCache.txt"; echo "found the wrong SRS package"; exit 1; }
# (the wrapper SRSConfig chose is MPICH's: its include directories say so)
grep -q "^MPI_Fortran_COMPILER_INCLUDE_DIRS:STRING=.*mpich" "$tmp/outside/CMakeCache.txt" ||
  { grep MPI_Fortran "$tmp/outside/CMakeCache.txt"; echo "not MPICH, SRS's MPI"; exit 1; }
"$mpiexec" -n 2 "$tmp/outside/srs_fortran_outside"
echo "outside Fortran project: built and ran against the installed package"
