# shellcheck shell=bash disable=SC2034  # the insp_* and SRS_* variables are for the sourcing scripts
# Helpers of the resilience tests (sourced, bash). Unlike tests/fault/fault_lib.sh (whose tests
# run under tests/support/with-daemons.sh) these tests kill, restart and move the daemons
# themselves (kill -9 + restart on the same port, a depot on a tiny tmpfs, an RSS address list),
# so this file starts a private srs-rss and srs-depot on free loopback ports itself, launches jobs
# in their own process group, and stops EVERY process it started on exit (by pid; never
# killall).
#
# Needs: SRS_RSS_BIN, SRS_DEPOT_BIN, FAULT_LEASE (seconds). Sets: FAULT_WORK, SRS_RSS,
# SRS_TOKEN_FILE, SRS_DEPOT_DIR, SRS_APP. Job control and fault_inspect: tests/support/job_lib.sh.

# shellcheck source-path=SCRIPTDIR source=../support/job_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../support/job_lib.sh"
FAULT_ALLOW_MISSING=${FAULT_ALLOW_MISSING:-yes}  # these tests inspect jobs before they register

fault_cleanup() {
  local pid
  fault_kill_jobs
  for pid in "${fault_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${fault_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${fault_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if [ -n "${FAULT_WORK:-}" ] && [ -z "${SRS_KEEP_WORKDIR:-}" ]; then rm -rf "$FAULT_WORK"; fi
}

# fault_start_daemon NAME OUTFILE CMD...: sets started_pid, started_addr.
fault_start_daemon() {
  local name=$1 out=$2
  shift 2
  # Depots enroll with the RSS's admin token (RegisterDepot needs an enrollment secret); the depot
  # re-reads the file at every registration, so an RSS that writes it later is fine.
  if [ "$1" = "${SRS_DEPOT_BIN:-}" ]; then set -- "$@" --enroll-secret-file "$FAULT_WORK/rss/admin.token"; fi
  "$@" >"$out" 2>"$out.err" &
  local pid=$!
  fault_pids+=("$pid")
  for _ in $(seq 300); do
    if grep -q "listening on" "$out" 2>/dev/null; then
      started_pid=$pid
      started_addr=$(grep -m1 "listening on" "$out" | awk '{print $NF}')
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "$name did not start; its stderr:" >&2
  cat "$out.err" >&2
  exit 1
}

fault_setup() {
  [ -x "${SRS_RSS_BIN:-}" ] && [ -x "${SRS_DEPOT_BIN:-}" ] || fault_fail "need SRS_RSS_BIN, SRS_DEPOT_BIN"
  FAULT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/srs-fault.XXXXXX")
  trap fault_cleanup EXIT
  trap 'exit 130' INT TERM
  fault_start_daemon srs-rss "$FAULT_WORK/rss.out" "$SRS_RSS_BIN" --listen 127.0.0.1:0 \
    --state "$FAULT_WORK/rss" --lease "$FAULT_LEASE"
  export SRS_RSS=$started_addr
  fault_start_daemon srs-depot "$FAULT_WORK/depot.out" "$SRS_DEPOT_BIN" --listen 127.0.0.1:0 \
    --dir "$FAULT_WORK/depot" --rss "$SRS_RSS"
  SRS_DEPOT_DIR=$FAULT_WORK/depot
  export SRS_DEPOT=auto SRS_TOKEN_FILE=$FAULT_WORK/rss/admin.token
  export SRS_APP=${SRS_APP:-fault-$$-$RANDOM}
  for _ in $(seq 100); do [ -s "$SRS_TOKEN_FILE" ] && break; sleep 0.05; done
  fault_wait_depot_registered "$FAULT_WORK/depot.out.err" 30
}

# fault_wait_depot_registered LOG SECONDS: waits until the depot logging to LOG has registered
# with the RSS (it does so on a thread of its own after it listens), so `depot = auto` resolves.
fault_wait_depot_registered() {
  local log=$1 secs=$2 t0=$SECONDS
  until grep -q "registered with the RSS" "$log" 2>/dev/null; do
    ((SECONDS - t0 < secs)) || { cat "$log" >&2; fault_fail "the depot did not register within $secs s"; }
    sleep 0.05
  done
}

