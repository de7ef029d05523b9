#!/usr/bin/env bash
# A depot killed (kill -9) while a rank writes its piece of the stop checkpoint through the
# shared-host path, then restarted at once on the same port and directory (what `srs run`'s
# supervisor does for its private depot). README: "an RSS or depot that restarts costs a delay,
# not the job". blink.sh checks that claim with 4096-element pieces, which are written before a
# kill can land; here the pieces are 32 MiB and the kill lands provably mid-put (the rank's spool
# file has appeared, wait_new_file kills the depot that instant).
#   depot_restart_mid_put.sh HEAT2D WAIT_NEW_FILE SRS_TOOL      (under with-daemons.sh)
set -u
heat=$1 wait_new_file=$2 srs=$3
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
work=$SRS_TEST_WORKDIR/depot-mid-put
mkdir -p "$work"
new_depot=""
job_pid=""
cleanup() {
  [ -n "$job_pid" ] && kill -9 "$job_pid" 2>/dev/null
  [ -n "$new_depot" ] && kill -TERM "$new_depot" 2>/dev/null && wait "$new_depot" 2>/dev/null
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$work"/*.out "$work"/*.err >&2 2>/dev/null; exit 1; }

depot_pid=${SRS_DEPOT_PIDS%% *}
depot_dir=${SRS_DEPOT_DIRS%% *}
mapfile -d '' depot_cmd <"/proc/$depot_pid/cmdline"
# with-daemons.sh lets the depot pick its port: come back on the one it picked.
for i in "${!depot_cmd[@]}"; do
  [ "${depot_cmd[$i]}" = --listen ] && depot_cmd[i + 1]=${SRS_DEPOT_ADDRS%% *}
done

# 2 ranks, 2048 x 4096 doubles: 32 MiB per rank's piece.
"$mpiexec" -n 2 "$heat" --nx 2048 --ny 4096 --steps 1000000 --sleep-ms 20 \
  >"$work/job.out" 2>"$work/job.err" &
job_pid=$!
for _ in $(seq 300); do
  out=$("$srs" status "$SRS_APP" 2>&1) || true
  grep -q running <<<"$out" && break
  sleep 0.1
done
grep -q running <<<"$out" || fail "the job never showed as running: $out"

WAIT_NEW_FILE_KILL=$depot_pid "$wait_new_file" "$depot_dir/spool" 60000 .h5 >"$work/spool.out" &
watcher=$!
"$srs" stop "$SRS_APP" >"$work/stop.out" 2>&1 || fail "srs stop failed: $(cat "$work/stop.out")"
wait "$watcher" || fail "no rank's spool file appeared (no shared-host put seen)"
echo "$depot_pid" >>"$SRS_TEST_WORKDIR/daemons.killed"
# Restart at once, same command line (port, directory, enrollment).
"${depot_cmd[@]}" >"$work/depot2.out" 2>"$work/depot2.err" &
new_depot=$!
echo "depot killed mid-put ($(cat "$work/spool.out")) and restarted (pid $new_depot)"

rc=0
wait "$job_pid" || rc=$?
job_pid=""
[ "$rc" = 0 ] || fail "the job died (status $rc) although the depot came back at once"
grep -q "stopped" <<<"$("$srs" status "$SRS_APP" 2>&1)" || fail "the job did not end stopped"
echo "depot restart mid-put: the job stopped with a committed checkpoint"
