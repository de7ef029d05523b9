#!/usr/bin/env bash
# man_pages_test.sh BUILD_DIR SOURCE_DIR
# The installed man pages (packaging/man) describe what the programs accept: every --flag that
# `srs-rss --help` and `srs-depot --help` print is in its man page, every command `srs --help`
# lists is in srs(1), and every page renders with man(1)'s formatter without warnings. A flag
# added to a daemon without a line in its man page turns this test red.
set -euo pipefail
build=$1 src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
man_dir=$src/packaging/man

flags_of() {  # the --long-flags a --help text names
  grep -oE -- '--[a-z][a-z0-9-]+' | sort -u
}
# The groff source spells a flag \-\-name.
check_flags() {  # PROGRAM PAGE
  local help page_text flag missing=()
  help=$("$1" --help 2>&1 || true)
  page_text=$(sed 's/\\-/-/g' "$2")
  while IFS= read -r flag; do
    grep -qF -- "$flag" <<<"$page_text" || missing+=("$flag")
  done < <(flags_of <<<"$help")
  ((${#missing[@]} == 0)) || fail "$(basename "$2") lacks ${missing[*]} (from $(basename "$1") --help)"
}
check_flags "$build/rss/srs-rss" "$man_dir/srs-rss.1"
check_flags "$build/depot/srs-depot" "$man_dir/srs-depot.1"

# srs(1): every command of `srs --help` (the indented words of its "commands:" list).
help=$("$build/tools/srs" --help 2>&1 || true)
commands=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' <<<"$help")
[ -n "$commands" ] || fail "srs --help lists no commands"
page_text=$(sed 's/\\-/-/g' "$man_dir/srs.1")
for command in $commands; do
  grep -qE "^\.(B|SS|TP|BR|BI)?.*\bsrs $command\b|^\.SS \"?$command\b|\bsrs $command\b" <<<"$page_text" ||
    fail "srs.1 does not describe the command '$command'"
done

# Each page renders cleanly (groff warnings are errors here).
if command -v man >/dev/null; then
  for page in "$man_dir"/*.1; do
    warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || true)
    [ -z "$warnings" ] || fail "$(basename "$page") renders with warnings: $warnings"
  done
fi
echo PASS
