#!/usr/bin/env bash
# Installs what is missing, builds SRS, and runs the demo (tools/demo.sh): the 2-D heat solver
# on 4 ranks, stopped from outside, resumed on 3, compared bit for bit with an uninterrupted run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(bash "$root/scripts/build.sh" | tail -n 1)
exec "$root/tools/demo.sh" "$build"
