#!/usr/bin/env bash
# Installs what is missing, builds SRS, and runs the whole test suite (unit, mpi, e2e, fault).
# Exits non-zero if any step or any test fails. Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
build=$(bash "$(dirname "$0")/build.sh" | tail -n 1)
cd "$build"
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
