#!/usr/bin/env bash
# Installs what is missing (Debian packages) and builds SRS into $SRS_BUILD_DIR (default build/).
# Prints the build directory on its last line. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SRS_BUILD_DIR:-$root/build}
bash "$root/scripts/setup-deps.sh" >&2
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
cmake --build "$build" -j "$(nproc)" >&2
echo "$build"
