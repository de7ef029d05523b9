#!/usr/bin/env bash
# Depots known by id (issue 13), end to end through the real srs-rss, srs-depot, `srs` and the
# heat2d example (bitwise comparable with an uninterrupted run on any process count):
#
#   depot_identity.sh CASE HEAT2D COMPARE SRS_TOOL
#   moved      heat2d stopped on 3 ranks; its depot is stopped and started again with the same
#              --dir on ANOTHER port (same id); `srs depots` shows the id at the new address;
#              the resume on 4 ranks reads the old pieces from there and ends bitwise equal to
#              an uninterrupted 2-rank run.
#   down_none  redundancy none: heat2d stopped on 2 ranks, its only depot killed (-9); once
#              `srs depots` shows it down, a run with `depot = auto` is refused naming the down
#              depot; with a second depot started for new writes, the resume must fail in < 5 s
#              with an error naming an old rank's piece and the dead depot (id, address, "down
#              since").
# Env: SRS_RSS_BIN, SRS_DEPOT_BIN, SRS_MPIEXEC. Starts its own daemons (heartbeat 1 s, RSS depot
# timeout 1 s: a dead depot is down after 3 * 1 + 2 = 5 s) and stops every process it started.
set -uo pipefail
case=$1 heat2d=$2 compare=$3 SRS=$4
here=$(cd "$(dirname "$0")" && pwd)
FAULT_LEASE=5
# shellcheck source=../resilience/resilience_lib.sh
source "$here/../resilience/resilience_lib.sh"
: "${SRS_MPIEXEC:=mpiexec.mpich}"
export SRS_LOG=${SRS_LOG:-warning}

fail() {
  echo "depot_identity($case): FAIL: $*" >&2
  for f in "$FAULT_WORK"/*.log "$FAULT_WORK"/*.err; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
  done
  exit 1
}
say() { echo "depot_identity($case): $*"; }

[ -x "${SRS_RSS_BIN:-}" ] && [ -x "${SRS_DEPOT_BIN:-}" ] || fail "need SRS_RSS_BIN, SRS_DEPOT_BIN"
FAULT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/srs-depot-id.XXXXXX")
trap fault_cleanup EXIT
trap 'exit 130' INT TERM
fault_start_daemon srs-rss "$FAULT_WORK/rss.out" "$SRS_RSS_BIN" --listen 127.0.0.1:0 \
  --state "$FAULT_WORK/rss" --lease "$FAULT_LEASE" --depot-timeout 1
export SRS_RSS=$started_addr SRS_TOKEN_FILE=$FAULT_WORK/rss/admin.token SRS_DEPOT=auto
export SRS_APP=depot-id-$$-$RANDOM
for _ in $(seq 100); do [ -s "$SRS_TOKEN_FILE" ] && break; sleep 0.05; done

# start_depot NAME DIR: a depot with a 1 s heartbeat; sets depot_pid, depot_addr.
start_depot() {
  fault_start_daemon "$1" "$FAULT_WORK/$1.out" "$SRS_DEPOT_BIN" --listen 127.0.0.1:0 --dir "$2" \
    --rss "$SRS_RSS" --heartbeat 1
  depot_pid=$started_pid depot_addr=$started_addr
}
# depot_field ADDRESS FIELD: that field of the depot at ADDRESS in `srs depots --json`
# (captured, then parsed by Debian's python3); "" if no depot has that address.
depot_field() {
  local out
  out=$("$SRS" depots --json 2>/dev/null) || return 1
  /usr/bin/python3 -c '
import json, sys
for d in json.loads(sys.argv[1])["depots"]:
    if d["address"] == sys.argv[2]:
        print(d[sys.argv[3]])' "$out" "$1" "$2"
}
wait_depot_state() {  # wait_depot_state ADDRESS STATE SECONDS
  local t0=$SECONDS
  until [ "$(depot_field "$1" state)" = "$2" ]; do
    ((SECONDS - t0 < $3)) || fail "depot $1 not '$2' within $3 s: $("$SRS" depots 2>&1)"
    sleep 0.2
  done
}

# The uninterrupted reference and the stopped run (stop from outside with `srs stop`).
heat_args=(--nx 64 --ny 50 --steps 300)
reference() {
  SRS_APP=$SRS_APP-ref "$SRS_MPIEXEC" -n 2 "$heat2d" "${heat_args[@]}" --out "$FAULT_WORK/ref.bin" \
    >"$FAULT_WORK/ref.log" 2>&1 || fail "reference run failed"
}
run_and_stop() {  # run_and_stop NP: sets stopped (the step)
  fault_launch "$FAULT_WORK/stop.log" "$1" -- "$heat2d" "${heat_args[@]}" --sleep-ms 20 \
    --out "$FAULT_WORK/out.bin"
  fault_wait_line "$FAULT_WORK/stop.log" "running on" 60 "$job_pid" || fail "the job never ran"
  sleep 0.5
  local out
  out=$("$SRS" stop "$SRS_APP" 2>&1) || fail "srs stop failed: $out"
  local t0=$SECONDS
  while kill -0 "$job_pid" 2>/dev/null; do
    ((SECONDS - t0 < 120)) || fail "the job did not end within 120 s of the stop"
    sleep 0.05
  done
  wait "$job_pid" || fail "the stopped run exited with $?"
  stopped=$(sed -n 's/.*stopped at step \([0-9]*\).*/\1/p' "$FAULT_WORK/stop.log" | head -1)
  [ -n "$stopped" ] || fail "the job ran to the end instead of stopping"
  say "stopped at step $stopped on $1 ranks"
}

case $case in
  moved)
    # The new flags refuse nonsense with a usage error (exit 2) naming the flag.
    for bad in "$SRS_RSS_BIN --state $FAULT_WORK/x --depot-timeout 0" \
      "$SRS_RSS_BIN --state $FAULT_WORK/x --depot-timeout soon" \
      "$SRS_DEPOT_BIN --dir $FAULT_WORK/x --heartbeat 0"; do
      rc=0
      msg=$($bad 2>&1) || rc=$?
      flag=$(grep -o -- "--[a-z-]*\(timeout\|heartbeat\)" <<<"$bad")
      ((rc == 2)) && grep -qF -- "$flag" <<<"$msg" || fail "'$bad' gave exit $rc: $msg"
    done
    start_depot depot1 "$FAULT_WORK/depot"
    first_addr=$depot_addr
    wait_depot_state "$first_addr" up 10
    id=$(depot_field "$first_addr" id)
    [ -n "$id" ] || fail "no id for depot $first_addr"
    reference
    run_and_stop 3
    # The same depot (same directory, so the same id) comes back on another port.
    kill -TERM "$depot_pid"
    wait "$depot_pid" 2>/dev/null
    start_depot depot1-moved "$FAULT_WORK/depot"
    [ "$depot_addr" != "$first_addr" ] || fail "the depot came back on the same address"
    wait_depot_state "$depot_addr" up 10
    [ "$(depot_field "$depot_addr" id)" = "$id" ] || fail "the moved depot has another id"
    [ -z "$(depot_field "$first_addr" id)" ] || fail "the old address is still listed"
    say "depot $id moved from $first_addr to $depot_addr"
    rm -f "$FAULT_WORK/out.bin"
    "$SRS_MPIEXEC" -n 4 "$heat2d" "${heat_args[@]}" --out "$FAULT_WORK/out.bin" \
      >"$FAULT_WORK/resume.log" 2>&1 || fail "the resume failed"
    resumed=$(sed -n 's/.*resumed at step \([0-9]*\).*/\1/p' "$FAULT_WORK/resume.log" | head -1)
    [ "$resumed" = "$stopped" ] || fail "resumed at step '$resumed', stopped at $stopped"
    "$compare" 0 "$FAULT_WORK/ref.bin" "$FAULT_WORK/out.bin" ||
      fail "the resumed result differs from the uninterrupted run"
    say "PASS: resumed at step $resumed from the moved depot, bitwise equal"
    ;;
  down_none)
    start_depot depot1 "$FAULT_WORK/depot1"
    dead_addr=$depot_addr dead_pid=$depot_pid
    wait_depot_state "$dead_addr" up 10
    dead_id=$(depot_field "$dead_addr" id)
    run_and_stop 2
    # The only holder dies.
    kill -KILL "$dead_pid"
    wait "$dead_pid" 2>/dev/null
    t_kill=$SECONDS
    wait_depot_state "$dead_addr" down 30
    say "depot $dead_id at $dead_addr down after $((SECONDS - t_kill)) s"
    # `depot = auto` finds no live depot on this host: refused at registration, naming it. (The
    # refusal leaves no record at the RSS, and the launcher may drop an aborting rank's line:
    # up to 3 attempts to see the message.)
    for _ in 1 2 3; do
      rc=0
      timeout 60 "$SRS_MPIEXEC" -n 1 "$heat2d" "${heat_args[@]}" --out "$FAULT_WORK/out.bin" \
        >"$FAULT_WORK/auto.log" 2>&1 || rc=$?
      out=$(cat "$FAULT_WORK/auto.log")
      ((rc != 0 && rc != 124)) || fail "a run without a live depot did not fail at once (exit $rc)"
      grep -q "SRS_Init" <<<"$out" && break
    done
    grep -qF "($dead_id at $dead_addr) is down" <<<"$out" ||
      fail "depot = auto did not say the host's depot is down: $out"
    # A live depot on this host for the resumed run's writes.
    start_depot depot2 "$FAULT_WORK/depot2"
    wait_depot_state "$depot_addr" up 10
    start_ms=$(date +%s%3N)
    rc=0
    timeout 60 "$SRS_MPIEXEC" -n 2 "$heat2d" "${heat_args[@]}" --out "$FAULT_WORK/out.bin" \
      >"$FAULT_WORK/resume.log" 2>&1 || rc=$?
    elapsed_ms=$(($(date +%s%3N) - start_ms))
    # The launcher may drop the aborting ranks' lines; the failure the rank reported to the RSS
    # says the same (`srs status --json` gives it whole; the table cuts it to the column width).
    out=$(cat "$FAULT_WORK/resume.log")$'\n'$("$SRS" status --json "$SRS_APP" 2>&1)
    ((rc != 0)) || fail "the resume succeeded without any copy of the pieces"
    ((rc != 124)) || fail "the resume hung (killed after 60 s)"
    say "the resume failed after ${elapsed_ms} ms (exit $rc)"
    ((elapsed_ms < 5000)) || fail "the resume took ${elapsed_ms} ms to fail (limit 5000)"
    grep -qE "old rank [01]'s piece" <<<"$out" || fail "the error names no old rank's piece: $out"
    grep -qF "depot $dead_id ($dead_addr)" <<<"$out" || fail "the error does not name the dead depot: $out"
    grep -qF "down since" <<<"$out" || fail "the error does not say the depot is down: $out"
    [ ! -e "$FAULT_WORK/out.bin" ] || fail "the failed resume wrote a result"
    say "PASS: $(grep -m1 -o "old rank.*" <<<"$out" | cut -c1-300)"
    ;;
  *) fail "unknown case $case" ;;
esac
