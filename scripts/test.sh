#!/usr/bin/env bash
# Installs what is missing, builds SRS, and runs the whole test suite (unit, mpi, e2e, fault).
# Exits non-zero if any step or any test fails. Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SRS_BUILD_DIR:-$root/build}
bash "$root/scripts/setup-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
