#!/usr/bin/env bash
# --json of status, ls, history and depots, parsed by Debian's python3 and checked field by field
# against a real job (run under srs run, stopped from outside), and export's progress: shown on
# a terminal (under script(1), a pty), absent when stderr is a file or with --quiet; the same for
# `srs stop --wait`.
# Runs inside with-daemons.sh (SRS_RSS, SRS_TOKEN_FILE, SRS_DEPOT_ADDRS).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${HEAT2D:?}" "${SRS_RSS:?run under with-daemons.sh}" "${SRS_DEPOT_ADDRS:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/srs-json.XXXXXX")
cd "$work" || exit 1
bg=""
trap '[ -n "$bg" ] && kill -TERM $bg 2>/dev/null; wait; rm -rf "$work"' EXIT
export SRS_APP=heatjson
py=/usr/bin/python3

"$SRS" run -n 3 -- "$HEAT2D" --nx 400 --ny 300 --steps 1000000 --sleep-ms 1 >run.out 2>&1 &
bg=$!
wait_running heatjson 60
expect_status 0 "stopped: checkpoint epoch" "$SRS" stop heatjson --wait --timeout 60
wait "$bg" || fail "srs run failed: $(cat run.out)"
bg=""

# check_json NAME PYTHON CMD...: CMD's stdout must be one JSON object for which PYTHON (with the
# object in `d`) raises nothing.
check_json() {
  local name=$1 code=$2 out; shift 2
  out=$("$@") || fail "$name: '$*' failed"
  [ "$(wc -l <<<"$out")" = 1 ] || fail "$name: not one line: $out"
  $py -c "import json, sys
d = json.loads(sys.argv[1])
$code" "$out" || fail "$name: unexpected JSON: $out"
}
check_json status '
j = [x for x in d["jobs"] if x["job"] == "heatjson"][0]
assert j["state"] == "stopped" and j["nprocs"] == 3 and j["stop_pending"] is False, j
assert j["last_epoch"] >= 1 and j["last_checkpoint_bytes"] >= 400 * 300 * 8, j
assert j["last_checkpoint_time"].endswith("Z") and j["last_checkpoint_unix_ms"] > 0, j
assert isinstance(j["hosts"], list) and j["hosts"] and j["failure"] == "", j' "$SRS" status --json
check_json status-one 'assert [x["job"] for x in d["jobs"]] == ["heatjson"], d' \
  "$SRS" status heatjson --json
check_json ls '
assert d["job"] == "heatjson"
c = [x for x in d["checkpoints"] if x["state"] == "committed"][-1]
assert c["reason"] == "stop" and c["nprocs"] == 3 and c["epoch"] >= 1, c
assert c["created"].endswith("Z") and c["committed_unix_ms"] >= c["created_unix_ms"] > 0, c
assert c["write_seconds"] >= 0 and c["commit_seconds"] >= 0 and c["bytes"] > 0, c
assert sorted(p["rank"] for p in c["pieces"]) == [0, 1, 2], c
for p in c["pieces"]:
    assert p["checksum"].startswith("xxh3:") and len(p["checksum"]) == 21 and p["size_bytes"] > 0, p
    assert "cap" not in json.dumps(p), p
names = {a["name"]: a for a in c["arrays"]}
assert any(a["global_count"] == 400 * 300 and a["type"] == "double" for a in names.values()), names
assert all(a["distribution"] and a["distribution_text"] for a in names.values()), names' \
  "$SRS" ls heatjson --json
check_json history '
assert d["job"] == "heatjson" and len(d["runs"]) == 1, d
r = d["runs"][0]
assert r["state"] == "stopped" and r["nprocs"] == 3 and r["resumed_from_epoch"] == 0, r
assert r["stop_epoch"] >= 1 and r["stop_bytes"] > 0 and r["stop_seconds"] > 0, r
assert r["started"].endswith("Z") and r["ended_unix_ms"] >= r["started_unix_ms"] > 0, r
assert r["failure"] == "", r' \
  "$SRS" history heatjson --json
check_json depots "
addrs = set('$SRS_DEPOT_ADDRS'.split())
assert {x['address'] for x in d['depots']} == addrs, d
for x in d['depots']:
    assert x['state'] == 'up' and x['id'] and x['host'] and x['free_bytes'] > 0, x
    assert x['last_seen'].endswith('Z') and 'capacity_bytes' in x, x
    assert x['failure_domain'] == x['host'], x" "$SRS" depots --json
expect_status 0 "ADDRESS +STATE" "$SRS" depots
grep -qE " up " <<<"$last_output" || fail "srs depots shows no depot up: $last_output"
expect_status 1 "unknown job 'nosuch'" "$SRS" ls nosuch --json

# Progress: on a terminal (script gives the command a pty) it shows bytes, total and rate.
script -qec "'$SRS' export heatjson tty.h5" /dev/null >tty.out 2>&1 || fail "export under a pty failed: $(cat tty.out)"
grep -aqE "export: [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B +[0-9]+%" tty.out ||
  fail "no progress on a terminal: $(cat -v tty.out)"
grep -aq "exported heatjson" tty.out || fail "export did not finish on the pty: $(cat -v tty.out)"
# Not a terminal: nothing but the result.
"$SRS" export heatjson file.h5 >file.out 2>file.err || fail "export failed: $(cat file.err)"
[ ! -s file.err ] || fail "progress leaked into a non-terminal stderr: $(cat -v file.err)"
# --quiet on a terminal: neither progress nor chatter.
script -qec "'$SRS' export --quiet heatjson quiet.h5" /dev/null >quiet.out 2>&1 || fail "quiet export failed"
grep -aq "export:" quiet.out && fail "--quiet still showed progress: $(cat -v quiet.out)"
[ -s quiet.h5 ] || fail "quiet export wrote nothing"
grep -aq "^exported heatjson epoch" quiet.out || fail "--quiet dropped the export's result line: $(cat -v quiet.out)"

# `srs stop --wait` on a terminal shows the stop checkpoint's progress (bytes the ranks reported
# against the last checkpoint's size); with --quiet only the result line.
stop_under_pty() {  # OUT [STOP FLAGS...]
  local out=$1; shift
  "$SRS" run -n 3 -- "$HEAT2D" --nx 400 --ny 300 --steps 1000000 --sleep-ms 1 >run.out 2>&1 &
  bg=$!
  wait_running heatjson 60
  script -qec "'$SRS' stop heatjson --wait --timeout 60 $*" /dev/null >"$out" 2>&1 ||
    fail "stop --wait under a pty failed: $(cat -v "$out")"
  wait "$bg" || fail "srs run failed: $(cat run.out)"
  bg=""
  grep -aq "heatjson stopped: checkpoint epoch" "$out" || fail "no result line: $(cat -v "$out")"
}
stop_under_pty stop-tty.out
grep -aqE "stopping heatjson: [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B" stop-tty.out ||
  fail "stop --wait shows no progress on a terminal: $(cat -v stop-tty.out)"
stop_under_pty stop-quiet.out --quiet
grep -aq "stopping heatjson:\|requested for" stop-quiet.out &&
  fail "stop --wait --quiet still chatters: $(cat -v stop-quiet.out)"
echo PASS
