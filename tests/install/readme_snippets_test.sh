#!/usr/bin/env bash
# readme_snippets_test.sh BUILD_DIR SOURCE_DIR
# The README's "Instrumenting a solver" build recipes, verbatim: the blocks after each
# "<!-- tested: tests/install/readme_snippets_test.sh" line (C CMake, Fortran CMake, Makefile) are
# extracted from README.md, built against SRS installed in a fresh prefix with nothing but
# plain `mpicc`/`find_package(MPI)` (no MPI hints), and run with plain `mpiexec`. Needs
# scripts/setup-deps.sh's MPICH alternatives; says so when they are not set.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/srs-readme.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Capture first, then match: `cmd | grep -q` under pipefail fails at random when grep exits at
# the first match and cmd dies of SIGPIPE writing the rest (mpiexec --version prints ~30 lines).
mpicc_show=$(mpicc -show 2>/dev/null || true)
[[ $mpicc_show == *mpich* ]] ||
  fail "plain mpicc is not MPICH's ($(readlink -f "$(command -v mpicc)")); run scripts/setup-deps.sh"
mpiexec_version=$(mpiexec --version 2>&1 || true)
[[ $mpiexec_version == *HYDRA* ]] ||
  fail "plain mpiexec is not MPICH's ($(readlink -f "$(command -v mpiexec)")); run scripts/setup-deps.sh"

# Block N (1-based) of the tested snippets: the fenced block after the Nth marker.
snippet() {
  awk -v want="$1" '
    /^<!-- tested: tests\/install\/readme_snippets_test.sh/ { n++; armed = (n == want); next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    armed && inside { print }' "$src/README.md"
}
mkdir -p "$tmp/c" "$tmp/f" "$tmp/mk"
snippet 1 >"$tmp/c/CMakeLists.txt"
snippet 2 >"$tmp/f/CMakeLists.txt"
snippet 3 >"$tmp/mk/Makefile"
for f in c/CMakeLists.txt f/CMakeLists.txt mk/Makefile; do
  [ -s "$tmp/$f" ] || fail "README.md lost its tested block for $f"
done
grep -q "find_package(MPI REQUIRED)" "$tmp/c/CMakeLists.txt" || fail "the C block is not the CMake one"
grep -q "SRS::srs_fortran" "$tmp/f/CMakeLists.txt" || fail "the second block is not Fortran's"
grep -q "pkg-config" "$tmp/mk/Makefile" || fail "the third block is not the Makefile"
cp "$src/tests/install/outside/srs_outside.c" "$tmp/c/my_solver.c"
cp "$src/tests/install/outside/srs_outside.c" "$tmp/mk/my_solver.c"
cp "$src/tests/fortran/outside/srs_fortran_outside.f90" "$tmp/f/my_solver.f90"

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

for lang in c f; do
  cmake -S "$tmp/$lang" -B "$tmp/$lang/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$tmp/$lang.configure.log" 2>&1 || { cat "$tmp/$lang.configure.log"; fail "$lang: configure"; }
  grep -q "SRS was built with" "$tmp/$lang.configure.log" && fail "$lang: MPI mismatch warning"
  grep -qx "SRS_DIR:PATH=$prefix/lib/cmake/SRS" "$tmp/$lang/build/CMakeCache.txt" ||
    fail "$lang: found another SRS package than the fresh install"
  cmake --build "$tmp/$lang/build" >"$tmp/$lang.build.log" 2>&1 ||
    { cat "$tmp/$lang.build.log"; fail "$lang: build"; }
done
mpiexec -n 2 "$tmp/c/build/my_solver"
# A project that chose another MPI wrapper than SRS's is told which one SRS needs.
mkdir -p "$tmp/other-mpi"
printf '#!/bin/sh\nexec mpicc.mpich "$@"\n' >"$tmp/other-mpi/mpicc"
chmod +x "$tmp/other-mpi/mpicc"
cmake -S "$tmp/c" -B "$tmp/c/build-other" -DCMAKE_PREFIX_PATH="$prefix" \
  -DMPI_C_COMPILER="$tmp/other-mpi/mpicc" >"$tmp/other.log" 2>&1 || true
grep -q "SRS was built with .*mpicc.mpich" "$tmp/other.log" ||
  fail "no warning about a different MPI wrapper: $(cat "$tmp/other.log")"
mpiexec -n 3 "$tmp/f/build/my_solver"

PKG_CONFIG_PATH="$prefix/lib/pkgconfig" make -C "$tmp/mk" >"$tmp/make.log" 2>&1 ||
  { cat "$tmp/make.log"; fail "make"; }
LD_LIBRARY_PATH="$prefix/lib" mpiexec -n 3 "$tmp/mk/my_solver"
echo "README recipes (CMake C, CMake Fortran, Makefile): built and ran against the install"
