#!/usr/bin/env bash
# deb_package_test.sh BUILD_DIR SOURCE_DIR
# Builds the .deb with cpack, installs it with `apt-get install ./srs_*.deb` (into /usr), checks
# what it holds (man pages, completion, CMake package, srs.pc, Fortran module), builds an
# instrumented solver (examples/heat2d) against /usr with the README's plain find_package recipe,
# runs it with mpiexec and under the installed `srs run`, stops and resumes it — and always
# removes the package again (trap), checking the machine is as before. It changes /usr, so CTest
# runs it under RESOURCE_LOCK; exit 77 (skipped) when not root, when the package is already
# installed, or when one of its files already exists (removing it would not restore the machine).
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIPPED: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to install a package"
if ! command -v apt-get >/dev/null || ! command -v cpack >/dev/null; then
  skip "needs apt-get and cpack"
fi
dpkg-query -W -f='${Status}' srs 2>/dev/null | grep -q "install ok installed" &&
  skip "a package srs is installed already; not touching it"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/srs-deb.XXXXXX")
installed=0 bg=""
cleanup() {
  [ -n "$bg" ] && kill -TERM "$bg" 2>/dev/null
  wait 2>/dev/null
  if ((installed)); then
    dpkg --purge srs >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; echo "FAIL: dpkg --purge srs"; }
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/cpack") >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
debs=("$tmp"/cpack/srs_*.deb)
[ -f "${debs[0]}" ] || fail "cpack made no srs_*.deb: $(ls "$tmp/cpack")"
deb=${debs[0]}
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' >"$tmp/files"
while read -r f; do
  [ -e "$f" ] && skip "$f exists already outside any srs package"
done <"$tmp/files"
for want in /usr/bin/srs /usr/bin/srs-rss /usr/bin/srs-depot /usr/lib/libsrs.so \
            /usr/include/srs/srs.h /usr/include/srs.mod /usr/lib/cmake/SRS/SRSConfig.cmake \
            /usr/lib/pkgconfig/srs.pc /usr/share/man/man1/srs.1 /usr/share/man/man1/srs-rss.1 \
            /usr/share/man/man1/srs-depot.1 /usr/share/bash-completion/completions/srs \
            /usr/libexec/srs/examples/heat2d /usr/lib/systemd/system/srs-rss.service \
            /usr/lib/systemd/system/srs-depot.service; do
  grep -qx "$want" "$tmp/files" || fail "the package lacks $want"
done

# Every dependency must be present already (apt would install nothing but srs), so that removing
# srs restores the machine.
apt-get install -s "$deb" >"$tmp/apt-sim.log" 2>&1 || { cat "$tmp/apt-sim.log"; fail "apt-get -s"; }
grep -q "^Inst srs " "$tmp/apt-sim.log" || { cat "$tmp/apt-sim.log"; fail "apt would not install srs"; }
others=$(grep "^Inst " "$tmp/apt-sim.log" | grep -v "^Inst srs " || true)
[ -z "$others" ] || skip "apt would also install: $others (run scripts/setup-deps.sh first)"
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get install $deb"; }
dpkg-query -W -f='${Status}' srs | grep -q "install ok installed" || fail "srs not installed"
[ "$(pkg-config --modversion srs)" = "$(dpkg-query -W -f='${Version}' srs)" ] || fail "srs.pc version"
[ "$(command -v srs)" = /usr/bin/srs ] || fail "srs on PATH is $(command -v srs)"
# The site-wide units run the package's daemons (docs/multinode.md, "Site-wide daemons").
for unit in srs-rss srs-depot; do
  exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "/usr/lib/systemd/system/$unit.service")
  [ "$exec_start" = "/usr/bin/$unit" ] || fail "$unit.service runs '$exec_start'"
done

# An instrumented solver against /usr: the README's C recipe, verbatim, with heat2d as the solver.
mkdir -p "$tmp/solver"
awk '/^<!-- tested: tests\/install\/readme_snippets_test.sh/ { n++; next }
     n == 1 && /^```/ { if (inside) exit; inside = 1; next }
     n == 1 && inside { print }' "$src/README.md" >"$tmp/solver/CMakeLists.txt"
sed -i 's/target_link_libraries(my_solver PRIVATE SRS::srs MPI::MPI_C)/&\ntarget_link_libraries(my_solver PRIVATE m)/' \
  "$tmp/solver/CMakeLists.txt"
cp "$src/examples/heat2d/heat2d.c" "$tmp/solver/my_solver.c"
cmake -S "$tmp/solver" -B "$tmp/solver/build" >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configure against /usr"; }
grep -qx "SRS_DIR:PATH=/usr/lib/cmake/SRS" "$tmp/solver/build/CMakeCache.txt" ||
  fail "found another SRS than /usr's: $(grep SRS_DIR "$tmp/solver/build/CMakeCache.txt")"
cmake --build "$tmp/solver/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "build"; }
solver=$tmp/solver/build/my_solver
solver_libs=$(ldd "$solver")
grep -qE "libsrs\.so\.1 => (/usr)?/lib/libsrs\.so\.1" <<<"$solver_libs" ||
  fail "the solver does not use /usr/lib/libsrs.so.1: $(grep libsrs <<<"$solver_libs")"

# Run it under the installed srs (private daemons from /usr/bin, the job under mpiexec), stop
# it, resume it on another count.
cd "$tmp" && mkdir run && cd run
unset SRS_RSS SRS_CONFIG SRS_TOKEN_FILE SRS_DEPOT
export SRS_APP=debheat
srs run -n 2 -- "$solver" --nx 32 --ny 32 --steps 100000 --sleep-ms 1 >run.out 2>&1 &
bg=$!
for _ in $(seq 600); do srs status debheat 2>/dev/null | grep -q running && break; sleep 0.1; done
srs stop debheat --wait --timeout 60 >stop.out 2>&1 || fail "srs stop: $(cat stop.out)"
wait "$bg" || fail "srs run: $(cat run.out)"
bg=""
grep -q "stopped with checkpoint epoch" run.out || fail "no stop reported: $(cat run.out)"
srs run --resume -n 3 -- "$solver" --nx 32 --ny 32 --steps 1 >resume.out 2>&1 ||
  fail "resume: $(cat resume.out)"
grep -q "finished (3 ranks" resume.out || fail "resume did not finish on 3 ranks: $(cat resume.out)"
cd "$tmp"

# Removal restores the machine: the package and all its files gone.
dpkg --purge srs >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; fail "dpkg --purge srs"; }
installed=0
dpkg-query -W -f='${Status}' srs 2>/dev/null | grep -q "install ok installed" && fail "srs still installed"
while read -r f; do [ -e "$f" ] && fail "$f left behind after removal"; done <"$tmp/files"
echo "deb package: built, installed, used (find_package, mpiexec, srs run/stop/resume), removed"
