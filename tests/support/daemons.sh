# shellcheck shell=bash disable=SC2034  # started_pid, started_addr are for the sourcing scripts
# Shared by tests/support/with-daemons.sh and tests/fault/fault_lib.sh (sourced): start the real
# srs-rss / srs-depot on free loopback ports, wait on conditions with deadlines (their "listening
# on" line, the depot's registration at the RSS), and at the end check that every daemon survived
# and exits 0 on SIGTERM. Their stdout/stderr stay in files printed by srsd_dump_logs on failure.
#
#   srsd_init WORKDIR                    WORKDIR must exist; holds the logs and daemons.killed
#   srsd_start NAME CMD...               sets started_pid, started_addr; fails loudly after 60 s
#   srsd_wait_depots ADMIN N [SECONDS]   polls ListDepots (rss_admin wait-depots) until N depots
#   srsd_wait_log NAME PATTERN SECONDS   waits for a line in the daemon's stderr
#   srsd_stop_all                        SIGTERM, wait (deadline), check survival + exit status 0;
#                                        returns 1 (and says why) if any daemon misbehaved
#   srsd_dump_logs                       prints every daemon's log (on failure)
#
# A test that kills a daemon on purpose appends its pid to $SRS_TEST_WORKDIR/daemons.killed (one
# pid a line): that daemon's death and exit status are then not held against the run.

srsd_dir=""
srsd_pids=()
srsd_names=()

srsd_init() {
  srsd_dir=$1
  : >"$srsd_dir/daemons.killed"
}

srsd_start() {  # NAME CMD...
  local name=$1
  shift
  local out="$srsd_dir/$name.out"
  "$@" >"$out" 2>"$srsd_dir/$name.err" &
  local pid=$! t0=$SECONDS
  srsd_pids+=("$pid")
  srsd_names+=("$name")
  while ((SECONDS - t0 < 60)); do
    if grep -q "listening on" "$out" 2>/dev/null; then
      started_pid=$pid
      started_addr=$(grep -m1 "listening on" "$out" | awk '{print $NF}')
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "daemons: $name ($*) did not start listening within 60 s" >&2
  srsd_dump_logs
  return 1
}

# Polls the RSS's ListDepots until N depots are registered (the depot registers on a thread of
# its own after it listens). Needs SRS_RSS and SRS_TOKEN_FILE.
srsd_wait_depots() {  # ADMIN N [SECONDS]
  local admin=$1 want=$2 secs=${3:-60} t0=$SECONDS
  # The RSS writes its admin token once it is up; the poll below needs it.
  while [ ! -s "$SRS_TOKEN_FILE" ] && ((SECONDS - t0 < secs)); do sleep 0.05; done
  "$admin" wait-depots "$want" "$secs" && return 0
  echo "daemons: the RSS does not list $want depot(s)" >&2
  srsd_dump_logs
  return 1
}

# Waits until daemon NAME's stderr has a line matching PATTERN (its INFO log), with a deadline.
srsd_wait_log() {  # NAME PATTERN SECONDS
  local t0=$SECONDS
  until grep -q "$2" "$srsd_dir/$1.err" 2>/dev/null; do
    if ((SECONDS - t0 >= $3)); then
      echo "daemons: $1 never logged '$2' within $3 s" >&2
      srsd_dump_logs
      return 1
    fi
    sleep 0.05
  done
}

srsd_killed_on_purpose() {  # PID
  grep -qx "$1" "$srsd_dir/daemons.killed" 2>/dev/null
}

srsd_dump_logs() {
  local i f
  for i in "${!srsd_names[@]}"; do
    for f in "$srsd_dir/${srsd_names[$i]}.out" "$srsd_dir/${srsd_names[$i]}.err"; do
      [ -s "$f" ] || continue
      echo "----- $f (pid ${srsd_pids[$i]}) -----" >&2
      tail -n 200 "$f" >&2
    done
  done
}

# Stops every daemon; returns 1 if one died before (unless killed on purpose), or did not exit 0
# after SIGTERM within 30 s (then it gets SIGKILL).
srsd_stop_all() {
  local i pid rc bad=0 t0
  local -a dead=()
  for i in "${!srsd_pids[@]}"; do
    pid=${srsd_pids[$i]}
    srsd_killed_on_purpose "$pid" && continue
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      echo "daemons: ${srsd_names[$i]} (pid $pid) died during the test (exit status $?)" >&2
      dead[i]=1
      bad=1
      continue
    fi
    kill -TERM "$pid" 2>/dev/null
  done
  for i in "${!srsd_pids[@]}"; do
    pid=${srsd_pids[$i]}
    [ -n "${dead[i]:-}" ] && continue
    t0=$SECONDS
    while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < 30)); do sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "daemons: ${srsd_names[$i]} (pid $pid) ignored SIGTERM for 30 s; SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      bad=1
      continue
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    srsd_killed_on_purpose "$pid" && continue
    if ((rc != 0)); then
      echo "daemons: ${srsd_names[$i]} (pid $pid) exited $rc after SIGTERM (want 0)" >&2
      bad=1
    fi
  done
  return "$bad"
}

# The pids of $1 and all its descendants.
srsd_tree() {
  local pid=$1 child
  echo "$pid"
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do srsd_tree "$child"; done
}

# Removes work directories of earlier tests whose owner was killed before it could clean up
# (CTest's timeout kill): a directory PREFIX* with an owner.pid file naming a dead process. Any
# daemon still running from it (its command line names the directory) gets SIGKILL first.
srsd_sweep_stale() {  # PREFIX (e.g. /tmp/srs-test.)
  local d owner pid
  for d in "$1"*; do
    [ -f "$d/owner.pid" ] || continue
    owner=$(cat "$d/owner.pid" 2>/dev/null)
    [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
    for pid in $(pgrep -u "$(id -u)" -f -- "$d/" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    rm -rf "$d"
  done
}
