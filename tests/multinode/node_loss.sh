#!/usr/bin/env bash
# Losing a node (issue 13, "Done when"), through the multi-node harness with site-wide daemons
# (as packaging/systemd runs them: an RSS on node0, a depot on each of node1..node5):
#   1. redundancy = partner: the heat solver runs on node1,node2 and is stopped; each piece has a
#      copy on the other node (2 pieces in each node's depot);
#   2. node2 is deleted (processes, namespace, storage); the RSS marks its depot down;
#   3. `srs repair heat` re-creates the lost copies on the survivors (4 piece files again, none
#      of them on node2);
#   4. the resume on node3,node4 finishes bit for bit equal to an uninterrupted run;
#   5. redundancy = none: a job stopped on node3,node5 whose node5 is then deleted fails its
#      resume at once (< 5 s, no per-rank timeout) with an error naming node5's depot.
# Needs the depot ids, heartbeats, copies, repair of issue 13 (helpers A, B, C).
# shellcheck source-path=SCRIPTDIR source=job_lib.sh
source "$(dirname "$0")/job_lib.sh"
: "${HEAT2D:?}"
bin=$(dirname "$SRS")
mn_setup 5
mn_launch_env
solver=("$HEAT2D" --nx 64 --ny 60 --steps 3000)
storage=$MN_STORAGE
mn_reference "$MN_WORK/ref.bin" "${solver[@]}"
mkdir -p "$MN_WORK/head" "$MN_WORK/rss"

# Site-wide daemons. Plain text on the test subnet (--insecure): TLS is tests/security_depot's.
started=""
start_daemon() {  # node name command...: waits for its "listening on" line
  local k=$1 name=$2
  shift 2
  node_exec "$k" "$@" >"$MN_WORK/$name.out" 2>"$MN_WORK/$name.err" &
  for _ in $(seq 200); do
    started=$(grep -m1 "listening on" "$MN_WORK/$name.out" 2>/dev/null | awk '{print $NF}')
    [ -n "$started" ] && return 0
    sleep 0.05
  done
  fail "$name did not start: $(cat "$MN_WORK/$name.err")"
}
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$MN_WORK/enroll.secret"
chmod 600 "$MN_WORK/enroll.secret"
# Heartbeats every second and a 6 s depot timeout (defaults 5 s and 15 s: the RSS took 17 s to
# mark a deleted node's depot down, twice per run of this test).
start_daemon 0 rss "$bin/srs-rss" --listen "$(mn_addr 0):0" --state "$MN_WORK/rss" --insecure \
  --enroll-secret-file "$MN_WORK/enroll.secret" --depot-timeout 6
rss=$started
for k in 1 2 3 4 5; do
  start_daemon "$k" "depot$k" "$bin/srs-depot" --listen 0.0.0.0:0 --dir "$storage/node$k" \
    --rss "$rss" --enroll-secret-file "$MN_WORK/enroll.secret" --insecure --heartbeat 1
done
export SRS_RSS=$rss SRS_TOKEN_FILE=$MN_WORK/rss/admin.token SRS_DEPOT=auto
cd "$MN_WORK/head" || exit 1

# depot_field HOST FIELD: FIELD of the depot registered by HOST (srs depots --json).
depot_field() {
  local json
  json=$(node_exec 0 "$SRS" depots --json 2>&1) || fail "srs depots --json: $json"
  python3 -c 'import json,sys
d=[x for x in json.loads(sys.argv[1])["depots"] if x["host"]==sys.argv[2]]
print(d[0][sys.argv[3]] if d else "")' "$json" "$1" "$2"
}
wait_depots_up() {
  local k
  for k in "$@"; do
    for _ in $(seq 100); do [ "$(depot_field "node$k" state)" = up ] && break; sleep 0.2; done
    [ "$(depot_field "node$k" state)" = up ] || fail "node$k's depot is not up"
  done
}
wait_depot_down() {  # K: the RSS marks node K's depot down (no heartbeat)
  for _ in $(seq 120); do [ "$(depot_field "node$1" state)" = down ] && return 0; sleep 0.5; done
  fail "the RSS never marked node$1's depot down: $(node_exec 0 "$SRS" depots 2>&1)"
}
# stop_run JOB HOSTS: the solver on HOSTS, stopped with a committed checkpoint.
stop_run() {
  mn_stop_run "$1" "$MN_WORK/$1.run1" -n 2 --hosts "$2" -- "${solver[@]}" --sleep-ms 2 \
    --out "$MN_WORK/$1.bin"
}
wait_depots_up 1 2 3 4 5

# 1. partner on node1,node2.
SRS_REDUNDANCY=partner stop_run heat node1,node2
[ "$(mn_pieces 1)" = 2 ] || fail "node1's depot holds $(mn_pieces 1) piece files, want 2 (own + partner)"
[ "$(mn_pieces 2)" = 2 ] || fail "node2's depot holds $(mn_pieces 2) piece files, want 2 (own + partner)"
[ "$(mn_pieces 3 4 5)" = 0 ] || fail "node3..5 hold pieces of a job that never ran there"

# 2. node2 disappears.
node_delete 2
wait_depot_down 2

# 3. repair: two copies of each piece again, on survivors.
out=$(node_exec 0 "$SRS" repair heat 2>&1) || fail "srs repair heat: $out"
[ "$(mn_pieces 1 3 4 5)" = 4 ] || fail "after the repair the survivors hold $(mn_pieces 1 3 4 5) piece files, want 4: $out"
ls_out=$(node_exec 0 "$SRS" ls heat 2>&1) || fail "srs ls heat: $ls_out"
echo "$ls_out"

# 4. resume on node3,node4: bit for bit.
out=$(SRS_APP=heat SRS_REDUNDANCY=partner node_exec 0 "$SRS" run -n 2 --resume \
  --hosts node3,node4 -- "${solver[@]}" --out "$MN_WORK/heat.bin" 2>&1) ||
  fail "resume on node3,node4: $out"
grep -q "heat finished (2 ranks" <<<"$out" || fail "the resume did not finish: $out"
cmp -s "$MN_WORK/ref.bin" "$MN_WORK/heat.bin" || fail "the resumed field differs from the reference"

# 5. redundancy none: a lost node fails the resume at once, naming the depot.
SRS_REDUNDANCY=none stop_run heatnone node3,node5
lost_id=$(depot_field node5 id)
lost_address=$(depot_field node5 address)
node_delete 5
wait_depot_down 5
t0=$(date +%s%N)
rc=0
out=$(SRS_APP=heatnone node_exec 0 "$SRS" run -n 2 --resume --hosts node3,node4 -- \
  "${solver[@]}" 2>&1) || rc=$?
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" != 0 ] || fail "the resume of a checkpoint whose only copy is lost succeeded: $out"
# Immediate: the RSS already marked node5's depot down, so no rank waits on it (it is not even
# asked); the check is on what happened, not on a wall-clock bound (timings belong to srs bench).
grep -q "not tried: down" <<<"$out" ||
  fail "the ranks did not skip node5's depot as down (no 'not tried: down'): $out"
grep -qF -e "$lost_id" -e "$lost_address" <<<"$out" ||
  fail "the error names neither node5's depot id $lost_id nor its address $lost_address: $out"
echo "resume with node5 lost failed in ${elapsed_ms} ms"
echo PASS
