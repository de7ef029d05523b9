#!/usr/bin/env bash
# relocated_prefix_test.sh BUILD_DIR SOURCE_DIR
# Installs SRS into a fresh prefix, moves the prefix elsewhere, and uses it from there as a user
# would: every installed ELF file carries an $ORIGIN-relative RUNPATH and resolves all its
# libraries; `srs run` / `srs stop` / `srs run --resume` with the installed heat2d example, and
# `srs bench --tiny`. Where a private mount namespace can be made (root), the source and build
# trees are hidden behind empty tmpfs mounts for that part, so nothing can come from them.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/srs-relocated.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/first" >"$tmp/install.log"
# The systemd units name the daemons of the prefix they were installed to (rendered at install).
for unit in srs-rss srs-depot; do
  exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$tmp/first/lib/systemd/system/$unit.service")
  [ "$exec_start" = "$tmp/first/bin/$unit" ] || fail "$unit.service runs '$exec_start'"
done
mv "$tmp/first" "$tmp/moved"
prefix=$tmp/moved
for exe in srs srs-rss srs-depot srs-bench-suite srs-suite-worker srs-bench-libsrs \
           srs-bench-depot srs-bench-rss srs-bench-all; do
  [ -x "$prefix/bin/$exe" ] || fail "bin/$exe not installed"
done
[ -x "$prefix/libexec/srs/examples/heat2d" ] || fail "the heat2d example is not installed"

# Every ELF file: no library unresolved, and no RUNPATH/RPATH outside $ORIGIN.
while IFS= read -r -d '' f; do
  head -c 4 "$f" | grep -q "ELF" || continue
  # ldd's output is captured, not piped into grep -q: under pipefail an early match can kill
  # ldd with SIGPIPE and turn the check into a random result.
  libs=$(ldd "$f" 2>&1 || true)
  if grep -q "not found" <<<"$libs"; then fail "$f: $(grep 'not found' <<<"$libs")"; fi
  rpath=$(readelf -d "$f" | sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]/\1/p')
  if [ -n "$rpath" ]; then
    tr ':' '\n' <<<"$rpath" | grep -qv '^[$]ORIGIN' && fail "$f has a RUNPATH outside \$ORIGIN: $rpath"
  fi
  if grep -q "libsrs" <<<"$libs"; then
    grep "libsrs" <<<"$libs" | grep -q "$prefix/" || fail "$f does not take libsrs from the prefix"
  fi
done < <(find "$prefix" -type f -perm -u+x -print0)

cp "$src/tests/install/relocated_use.sh" "$src/tests/tools/lib.sh" "$tmp/"
if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
  hide=("$src")
  case "$build/" in "$src"/*) ;; *) hide+=("$build") ;; esac
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --propagation private bash -c '
    for d in "${@:3}"; do mount -t tmpfs -o ro srs-hidden "$d"; done
    exec bash "$1" "$2"' _ "$tmp/relocated_use.sh" "$prefix" "${hide[@]}"
else
  echo "note: no private mount namespace here; the source and build trees stay visible"
  bash "$tmp/relocated_use.sh" "$prefix"
fi
echo "relocated prefix: run, stop, resume and bench --tiny worked from $prefix"
