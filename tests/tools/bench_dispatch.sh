#!/usr/bin/env bash
# `srs bench` dispatch: it finds srs-bench-* next to srs, runs all or the named ones, passes
# --json and the arguments after -- through, reports a failing benchmark, and says when there are
# none. Uses a copy of srs beside two stand-in benchmarks (the real ones come from bench/).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/srs-bench-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$SRS" "$dir/srs"
expect_status 1 "no srs-bench-\* executables" "$dir/srs" bench
printf '#!/bin/sh\necho "alpha $*"\n' >"$dir/srs-bench-alpha"
printf '#!/bin/sh\necho "beta $*"; exit 3\n' >"$dir/srs-bench-beta"
chmod +x "$dir"/srs-bench-*
expect_status 0 "^alpha	.*srs-bench-alpha" "$dir/srs" bench --list
expect_status 0 "^alpha --json --size 8$" "$dir/srs" bench alpha --json -- --size 8
expect_status 1 "no benchmark 'gamma'; available: alpha, beta" "$dir/srs" bench gamma
expect_status 3 "beta failed with status 3" "$dir/srs" bench
grep -q "^alpha $" <<<"$last_output" || fail "bench without names did not run alpha"
# With srs-bench-all present, `srs bench` runs it alone (it drives the others itself).
printf '#!/bin/sh\necho "all $*"\n' >"$dir/srs-bench-all"
chmod +x "$dir/srs-bench-all"
expect_status 0 "^all --json$" "$dir/srs" bench --json
grep -q "^alpha" <<<"$last_output" && fail "bench without names ran alpha beside srs-bench-all"
expect_status 0 "^alpha $" "$dir/srs" bench alpha
grep -q "^== alpha" <<<"$last_output" || fail "bench without --quiet lacks its header"
expect_status 0 "^alpha --tiny$" "$dir/srs" bench --quiet --tiny alpha
grep -q "^==" <<<"$last_output" && fail "bench --quiet printed a header: $last_output"
echo PASS
