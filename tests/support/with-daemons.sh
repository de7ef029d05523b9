#!/usr/bin/env bash
# Runs a command with a private srs-rss and srs-depot(s) on free loopback ports, and always stops
# them afterwards (EXIT trap: SIGTERM, then SIGKILL after a grace period; never killall).
#
#   with-daemons.sh --rss PATH/srs-rss --depot PATH/srs-depot [--depots N] [--workdir DIR] -- CMD...
#
# Exports to CMD: SRS_RSS, SRS_DEPOT (=auto), SRS_APP (unique per test), SRS_TOKEN_FILE,
# SRS_TEST_WORKDIR, SRS_RSS_BIN, SRS_DEPOT_BIN, SRS_DEPOT_ADDRS (space separated),
# SRS_DEPOT_DIRS, SRS_RSS_PID, SRS_DEPOT_PIDS.
# The daemons print "... listening on HOST:PORT" as their first stdout line; that is how the
# script learns the ports they picked.
set -u
rss_bin="" depot_bin="" depots=1 workdir=""
while (($#)); do
  case "$1" in
    --rss) rss_bin=$2; shift 2 ;;
    --depot) depot_bin=$2; shift 2 ;;
    --depots) depots=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "with-daemons: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$rss_bin" ] && [ -x "$depot_bin" ] || { echo "with-daemons: need --rss and --depot binaries" >&2; exit 2; }
(($#)) || { echo "with-daemons: no command" >&2; exit 2; }

own_workdir=0
if [ -z "$workdir" ]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/srs-test.XXXXXX")
  own_workdir=1
fi
mkdir -p "$workdir"
pids=()

stop_daemons() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if ((own_workdir)) && [ -z "${SRS_KEEP_WORKDIR:-}" ]; then rm -rf "$workdir"; fi
}
trap stop_daemons EXIT
trap 'exit 130' INT TERM

# Starts a daemon with stdout to a file and waits for its "listening on" line.
start_daemon() {  # name logfile args...
  local name=$1 out=$2; shift 2
  "$@" >"$out" 2>"$out.err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 300); do
    if grep -q "listening on" "$out" 2>/dev/null; then
      started_pid=$pid
      started_addr=$(grep -m1 "listening on" "$out" | awk '{print $NF}')
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "with-daemons: $name did not start; its stderr:" >&2
  cat "$out.err" >&2
  exit 1
}

start_daemon srs-rss "$workdir/rss.out" "$rss_bin" --listen 127.0.0.1:0 --state "$workdir/rss"
export SRS_RSS=$started_addr SRS_RSS_PID=$started_pid
depot_addrs="" depot_dirs="" depot_pids=""
for i in $(seq "$depots"); do
  start_daemon srs-depot "$workdir/depot$i.out" "$depot_bin" --listen 127.0.0.1:0 \
    --dir "$workdir/depot$i" --rss "$SRS_RSS" --capacity "${SRS_TEST_DEPOT_CAPACITY:-0}" \
    --enroll-secret-file "$workdir/rss/admin.token"
  depot_addrs="$depot_addrs $started_addr" depot_dirs="$depot_dirs $workdir/depot$i"
  depot_pids="$depot_pids $started_pid"
done
export SRS_DEPOT=${SRS_DEPOT:-auto}
export SRS_DEPOT_ADDRS=${depot_addrs# } SRS_DEPOT_DIRS=${depot_dirs# } SRS_DEPOT_PIDS=${depot_pids# }
export SRS_TOKEN_FILE=$workdir/rss/admin.token SRS_TEST_WORKDIR=$workdir
export SRS_RSS_BIN=$rss_bin SRS_DEPOT_BIN=$depot_bin
export SRS_APP=${SRS_APP:-test-$$-$RANDOM}
# The depot registers itself asynchronously; wait until the RSS knows it.
sleep 0.2

"$@"
rc=$?
exit $rc
