# shellcheck shell=bash disable=SC2034  # the insp_* variables are for the sourcing scripts
# Job control and RSS inspection shared by the fault and resilience tests (sourced, bash; by
# tests/fault/fault_lib.sh and tests/resilience/resilience_lib.sh, which add how the daemons are
# run). Launches jobs in their own process group and kills EVERY job it started (fault_kill_jobs,
# from the sourcing script's EXIT trap; by pid, never killall).
#
# Needs: SRS_MPIEXEC (fault_launch), FAULT_INSPECT, SRS_RSS, SRS_TOKEN_FILE, SRS_APP
# (fault_inspect; FAULT_ALLOW_MISSING=yes lets it answer for a job the RSS does not know yet).

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

# Kills every job fault_spawn started (for the sourcing script's cleanup).
fault_kill_jobs() {
  local pid
  for pid in "${fault_jobs[@]}"; do
    fault_kill_job "$pid"
  done
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
  local log=$1 pattern=$2 secs=$3 pid=$4 t0=$SECONDS
  while ((SECONDS - t0 < secs)); do
    grep -q "$pattern" "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { grep -q "$pattern" "$log" 2>/dev/null && return 0; return 1; }
    sleep 0.02
  done
  return 1
}

# fault_wait_exit PID SECONDS: waits until the launched job PID has ended; 1 on timeout.
fault_wait_exit() {
  local pid=$1 secs=$2 t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS - t0 < secs)) || return 1
    sleep 0.05
  done
  wait "$pid" 2>/dev/null
  return 0
}

# fault_hook_epoch LOG.err POINT: the epoch at which libsrs's test hook (SRS_TEST_DIE_AFTER=POINT)
# killed a rank, from its "srs-test-hook: dying after POINT epoch E rank R" line; fails the test
# if the hook never fired (the fault did not happen).
fault_hook_epoch() {
  local err=$1 point=$2 line
  line=$(grep -m1 "srs-test-hook: dying after $point epoch" "$err") ||
    { cat "$err" >&2; fault_fail "the test hook (die after $point) never fired"; }
  line=${line#*epoch }
  echo "${line%% *}"
}

# fault_inspect [--run ID]: key=value lines from the RSS into the variables insp_<key>.
fault_inspect() {
  local out
  out=$("$FAULT_INSPECT" --rss "$SRS_RSS" --token-file "$SRS_TOKEN_FILE" --job "$SRS_APP" \
    --allow-missing "${FAULT_ALLOW_MISSING:-no}" "$@") ||
    fault_fail "fault_inspect failed: $out"
  insp_job_state="" insp_last_epoch=0 insp_committed_value="" insp_run_state=""
  insp_newest_run="" insp_run_unfinished_checkpoints=0 insp_run_pending_checkpoints=0 insp_checkpoints="" insp_runs=""
  insp_run_epochs="" insp_committed_pieces=0
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
