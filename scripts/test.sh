#!/usr/bin/env bash
# Installs what is missing, builds SRS, and runs the whole test suite (unit, mpi, e2e, fault).
# Exits non-zero if any step or any test fails; in CI (CI=true) a skipped test is a failure too.
# Ends with one line per label: how many tests passed, failed, skipped.
# Usage: scripts/test.sh [extra ctest args]
# Env: SRS_TEST_TIMEOUT (seconds for the whole ctest run, default 3600), SRS_TEST_JOBS (-j,
# default nproc).
set -euo pipefail
build=$(bash "$(dirname "$0")/build.sh" | tail -n 1)
cd "$build"
junit=$build/Testing/srs-results.xml
rm -f "$junit"
rc=0
# --timeout is each test's default cap (tests set their own); `timeout` caps the whole run and
# SIGTERMs ctest, which passes it on (every test's cleanup traps TERM).
timeout --kill-after=60 "${SRS_TEST_TIMEOUT:-3600}" \
  ctest --output-on-failure --timeout 900 -j "${SRS_TEST_JOBS:-$(nproc)}" --output-junit "$junit" "$@" ||
  rc=$?
((rc != 124)) || echo "test.sh: the whole run hit its cap of ${SRS_TEST_TIMEOUT:-3600} s" >&2

# Per-label summary (labels from CTest, results from its JUnit file).
ctest --show-only=json-v1 >"$build/Testing/srs-tests.json"
summary=$(/usr/bin/python3 - "$build/Testing/srs-tests.json" "$junit" <<'PY'
import collections, json, sys, xml.etree.ElementTree as ET
tests = json.load(open(sys.argv[1]))["tests"]
labels = {t["name"]: next((p["value"] for p in t.get("properties", []) if p["name"] == "LABELS"),
                          ["(none)"]) for t in tests}
try:
    cases = ET.parse(sys.argv[2]).getroot().iter("testcase")
except (OSError, ET.ParseError):
    cases = []
count = collections.defaultdict(collections.Counter)
skipped_any = False
for c in cases:
    status = c.get("status", "")
    if c.find("skipped") is not None or status in ("notrun", "disabled"):
        result = "skipped"
        skipped_any = True
    elif status == "run":
        result = "passed"
    else:
        result = "failed"
    for label in labels.get(c.get("name"), ["(none)"]):
        count[label][result] += 1
for label in sorted(count):
    n = count[label]
    print(f"label {label:10s} {n['passed']:4d} passed {n['failed']:3d} failed {n['skipped']:3d} skipped")
print("SKIPPED_ANY" if skipped_any else "NO_SKIPS")
PY
) || summary="label summary unavailable"
echo "== test summary per label"
grep -v "_ANY\|NO_SKIPS" <<<"$summary" || true
if [ "${CI:-}" = true ] && grep -q SKIPPED_ANY <<<"$summary"; then
  echo "test.sh: tests were skipped; in CI a skip is a failure" >&2
  ((rc != 0)) || rc=1
fi
exit "$rc"
