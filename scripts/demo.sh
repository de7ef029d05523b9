#!/usr/bin/env bash
# Installs what is missing, builds SRS, and runs the demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SRS_BUILD_DIR:-$root/build}
bash "$root/scripts/setup-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j "$(nproc)"
if [ -x "$root/tools/demo.sh" ]; then
  exec "$root/tools/demo.sh" "$build"
fi
# Until the heat2d demo exists, the demo is the smoke subset of the tests.
cd "$build"
ctest --output-on-failure -L smoke
