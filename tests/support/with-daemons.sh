#!/usr/bin/env bash
# shellcheck disable=SC2154  # started_pid, started_addr are set by srsd_start (daemons.sh)
# Runs a command with a private srs-rss and srs-depot(s) on free loopback ports.
#
#   with-daemons.sh --rss PATH/srs-rss --depot PATH/srs-depot [--admin PATH/rss_admin]
#                   [--depots N] [--lease SECONDS] [--depot-lease SECONDS] [--workdir DIR] -- CMD...
#
# --lease is the RSS's run lease (srs-rss --lease), --depot-lease the depots' lease of pieces no
# committed checkpoint pins (srs-depot --lease).
#
# Before CMD: every daemon listens (its "listening on HOST:PORT" first stdout line) and the RSS
# lists every depot (ListDepots polled, with a deadline) — `depot = auto` works from the first
# call. After CMD: every daemon must still be alive and exit 0 on SIGTERM, or the test fails
# even if CMD passed (a daemon crash is never invisible). On any failure the daemons' logs are
# printed (so `ctest --output-on-failure` shows them). Cleanup runs on EXIT, TERM and INT (CTest
# kills a test at its timeout): CMD's whole process tree, then the daemons, then the work dir
# (kept with SRS_KEEP_WORKDIR=1). Work dirs of earlier runs killed with SIGKILL are swept.
#
# Exports to CMD: SRS_RSS, SRS_DEPOT (=auto), SRS_APP (unique per test), SRS_TOKEN_FILE,
# SRS_TEST_WORKDIR, SRS_RSS_BIN, SRS_DEPOT_BIN, SRS_RSS_ADMIN, SRS_DEPOT_ADDRS (space
# separated), SRS_DEPOT_DIRS, SRS_RSS_PID, SRS_DEPOT_PIDS, XDG_STATE_HOME (where
# jobs keep owner secrets). A test that kills one of these
# daemons on purpose appends its pid to $SRS_TEST_WORKDIR/daemons.killed.
# SRS_TEST_DEPOT_CAPACITY (bytes) caps every depot; SRS_TEST_DEPOT_HOSTS ("hostA hostB") names the
# depots' hosts (srs-depot --host; ranks with SRS_HOST=hostA then write to depot 1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=daemons.sh
. "$here/daemons.sh"
rss_bin="" depot_bin="" admin_bin="" depots=1 workdir="" lease="" depot_lease=""
while (($#)); do
  case "$1" in
    --rss) rss_bin=$2; shift 2 ;;
    --depot) depot_bin=$2; shift 2 ;;
    --admin) admin_bin=$2; shift 2 ;;
    --depots) depots=$2; shift 2 ;;
    --lease) lease=$2; shift 2 ;;
    --depot-lease) depot_lease=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "with-daemons: unknown option $1" >&2; exit 2 ;;
  esac
done
if ! [ -x "$rss_bin" ] || ! [ -x "$depot_bin" ]; then
  echo "with-daemons: need --rss and --depot binaries" >&2
  exit 2
fi
if [ -n "$admin_bin" ] && ! [ -x "$admin_bin" ]; then
  echo "with-daemons: --admin $admin_bin is not executable" >&2
  exit 2
fi
(($#)) || { echo "with-daemons: no command" >&2; exit 2; }

tmp=${TMPDIR:-/tmp}
srsd_sweep_stale "$tmp/srs-test."
own_workdir=0
if [ -z "$workdir" ]; then
  workdir=$(mktemp -d "$tmp/srs-test.XXXXXX")
  own_workdir=1
fi
mkdir -p "$workdir"
echo $$ >"$workdir/owner.pid"
srsd_init "$workdir"
cmd_pid="" rc=1

# shellcheck disable=SC2317  # invoked by the EXIT trap
on_exit() {
  local status=$rc
  if [ -n "$cmd_pid" ] && kill -0 "$cmd_pid" 2>/dev/null; then
    # shellcheck disable=SC2046  # the pids are words
    kill -KILL $(srsd_tree "$cmd_pid") 2>/dev/null
    wait "$cmd_pid" 2>/dev/null
  fi
  if ! srsd_stop_all; then
    echo "with-daemons: a daemon failed (see above); the test fails" >&2
    status=1
  fi
  if ((status != 0)); then
    echo "with-daemons: failed (status $status); daemon logs in $workdir:" >&2
    srsd_dump_logs
  fi
  if [ -n "${SRS_KEEP_WORKDIR:-}" ]; then
    rm -f "$workdir/owner.pid"  # kept on purpose: not for the stale-directory sweep
  elif ((own_workdir)); then
    rm -rf "$workdir"
  fi
  exit "$status"
}
trap on_exit EXIT
trap 'echo "with-daemons: SIGTERM" >&2; rc=143; exit 143' TERM
trap 'echo "with-daemons: SIGINT" >&2; rc=130; exit 130' INT

rss_args=(--listen 127.0.0.1:0 --state "$workdir/rss")
[ -n "$lease" ] && rss_args+=(--lease "$lease")
srsd_start srs-rss "$rss_bin" "${rss_args[@]}" || exit 1
export SRS_RSS=$started_addr SRS_RSS_PID=$started_pid
export SRS_TOKEN_FILE=$workdir/rss/admin.token SRS_TEST_WORKDIR=$workdir
depot_addrs="" depot_dirs="" depot_pids=""
# The depots enroll with the admin token (RegisterDepot needs an enrollment secret).
depot_args=(--rss "$SRS_RSS" --capacity "${SRS_TEST_DEPOT_CAPACITY:-0}"
  --enroll-secret-file "$workdir/rss/admin.token")
[ -n "$depot_lease" ] && depot_args+=(--lease "$depot_lease")
read -r -a depot_hosts <<<"${SRS_TEST_DEPOT_HOSTS:-}"
for i in $(seq "$depots"); do
  host_args=()
  [ -n "${depot_hosts[i - 1]:-}" ] && host_args=(--host "${depot_hosts[i - 1]}")
  # Without --admin (older callers, e.g. srs-bench-libsrs) the depot's own INFO line
  # "registered with the RSS" is the condition waited for instead of ListDepots.
  log_env=()
  [ -z "$admin_bin" ] && log_env=(env SRS_LOG=info)
  srsd_start "srs-depot$i" "${log_env[@]}" "$depot_bin" --listen 127.0.0.1:0 \
    --dir "$workdir/depot$i" "${depot_args[@]}" "${host_args[@]}" || exit 1
  depot_addrs="$depot_addrs $started_addr" depot_dirs="$depot_dirs $workdir/depot$i"
  depot_pids="$depot_pids $started_pid"
done
if [ -n "$admin_bin" ]; then
  srsd_wait_depots "$admin_bin" "$depots" 60 || exit 1
else
  for i in $(seq "$depots"); do
    srsd_wait_log "srs-depot$i" "registered with the RSS" 60 || exit 1
  done
fi
export SRS_DEPOT=${SRS_DEPOT:-auto}
export SRS_DEPOT_ADDRS=${depot_addrs# } SRS_DEPOT_DIRS=${depot_dirs# } SRS_DEPOT_PIDS=${depot_pids# }
export SRS_RSS_BIN=$rss_bin SRS_DEPOT_BIN=$depot_bin SRS_RSS_ADMIN=$admin_bin
export SRS_APP=${SRS_APP:-test-$$-$RANDOM}
# Owner secrets of the tests' jobs stay in the test's directory, not in ~/.local/state.
export XDG_STATE_HOME=$workdir/state

# In the background, so the TERM/INT traps run at once instead of after CMD ends.
"$@" &
cmd_pid=$!
wait "$cmd_pid"
rc=$?
cmd_pid=""
exit "$rc"
