#!/usr/bin/env bash
# outside_project_test.sh BUILD_DIR OUTSIDE_SRC MPIEXEC MPICC
# Installs SRS from BUILD_DIR into a temporary prefix, then builds and runs an outside C program
# against it with CMake's find_package(SRS) and with pkg-config.
set -euo pipefail
build=$1 src=$2 mpiexec=$3 mpicc=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/srs-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
test -f "$tmp/prefix/include/srs/srs.h"
test -f "$tmp/prefix/lib/cmake/SRS/SRSConfig.cmake"

cmake -S "$src" -B "$tmp/outside" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/configure.log"
cmake --build "$tmp/outside" >"$tmp/build.log"
"$mpiexec" -n 2 "$tmp/outside/srs_outside"

# pkg-config: the flags alone must be enough to compile and link with MPICH's wrapper.
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs srs)
"$mpicc" -o "$tmp/srs_outside_pc" "$src/srs_outside.c" $flags -Wl,-rpath,"$tmp/prefix/lib"
"$mpiexec" -n 3 "$tmp/srs_outside_pc"
echo "outside project: built and ran against the installed package (cmake and pkg-config)"
