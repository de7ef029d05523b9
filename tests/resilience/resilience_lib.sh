# shellcheck shell=bash disable=SC2034  # the insp_* and SRS_* variables are for the sourcing scripts
# Helpers of the resilience tests (sourced, bash). Unlike tests/fault/fault_lib.sh (whose tests
# run under tests/support/with-daemons.sh) these tests kill, restart and move the daemons
# themselves (kill -9 + restart on the same port, a depot on a tiny tmpfs, an RSS address list),
# so this file starts a private srs-rss and srs-depot on free loopback ports itself, launches jobs
# in their own process group, and stops EVERY process it started on exit (by pid; never
# killall).
#
# Needs: SRS_RSS_BIN, SRS_DEPOT_BIN, FAULT_LEASE (seconds). Sets: FAULT_WORK, SRS_RSS,
# SRS_TOKEN_FILE, SRS_DEPOT_DIR, SRS_APP.

fault_pids=()   # daemons
fault_jobs=()   # process-group leaders of launched jobs

fault_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
fault_fail() { echo "FAIL: $*" >&2; exit 1; }

# The pids of $1 and all its descendants (depth first, children before parents is not needed:
# everything gets SIGKILL at once).
fault_tree() {
  local pid=$1 child
  echo "$pid"
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do fault_tree "$child"; done
}

# fault_signal_job SIG LEADER: signals a launched job's every process. Hydra puts its proxy and
# each rank in a session of their own, so the process group alone is not enough: walk the tree.
fault_signal_job() {
  local sig=$1 leader=$2 pids
  pids=$(fault_tree "$leader")
  # shellcheck disable=SC2086
  kill "-$sig" $pids 2>/dev/null
  return 0
}

# kill -9 a launched job: its process group and every descendant still around.
fault_kill_job() {
  local leader=$1 pids
  pids=$(fault_tree "$leader")
  kill -KILL -- "-$leader" 2>/dev/null
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  wait "$leader" 2>/dev/null
  return 0
}

fault_cleanup() {
  local pid
  for pid in "${fault_jobs[@]}"; do
    fault_kill_job "$pid"
  done
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
  sleep 0.3  # the depot registers itself asynchronously
}

# fault_spawn LOG ENV... -- CMD...: starts CMD in its own process group with the extra
# environment; sets job_pid (the group leader).
fault_spawn() {
  local log=$1
  shift
  local envs=()
  while (($#)) && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" setsid "$@" >"$log" 2>"$log.err" &
  job_pid=$!
  fault_jobs+=("$job_pid")
}

# fault_launch LOG NP ENV... -- CMD...: fault_spawn of `mpiexec -n NP CMD`.
fault_launch() {
  local log=$1 np=$2
  shift 2
  local envs=()
  while (($#)) && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  fault_spawn "$log" "${envs[@]}" -- "$SRS_MPIEXEC" -n "$np" "$@"
}

# fault_wait_line LOG PATTERN SECONDS PID: waits for a line in LOG; fails if PID exits first.
fault_wait_line() {
  local log=$1 pattern=$2 secs=$3 pid=$4
  local tries=$((secs * 50))
  for _ in $(seq "$tries"); do
    grep -q "$pattern" "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { grep -q "$pattern" "$log" 2>/dev/null && return 0; return 1; }
    sleep 0.02
  done
  return 1
}

# fault_inspect [--run ID]: key=value lines from the RSS into the variables insp_<key>.
fault_inspect() {
  local out
  out=$("$FAULT_INSPECT" --rss "$SRS_RSS" --token-file "$SRS_TOKEN_FILE" --job "$SRS_APP" \
    --allow-missing yes "$@") ||
    fault_fail "fault_inspect failed: $out"
  insp_job_state="" insp_last_epoch=0 insp_committed_value="" insp_run_state=""
  insp_newest_run="" insp_run_unfinished_checkpoints=0 insp_run_pending_checkpoints=0 insp_checkpoints="" insp_runs=""
  insp_run_epochs=""
  local line
  while IFS= read -r line; do
    case "$line" in
      *=*) printf -v "insp_${line%%=*}" '%s' "${line#*=}" ;;
    esac
  done <<<"$out"
}

# fault_wait_run_state RUN_ID STATE SECONDS: polls the RSS until the run has STATE.
fault_wait_run_state() {
  local run=$1 want=$2 secs=$3 t0=$SECONDS
  while ((SECONDS - t0 < secs)); do
    fault_inspect --run "$run"
    [ "$insp_run_state" = "$want" ] && return 0
    sleep 0.2
  done
  return 1
}
