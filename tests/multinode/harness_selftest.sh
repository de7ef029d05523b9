#!/usr/bin/env bash
# The multi-node harness checks itself (netns_lib.sh, netns_launcher.sh): 4 nodes; MPICH's Hydra
# launches one rank into each through the launcher script; the ranks report 4 different host
# names and pass a token around a ring (so every node reaches the others); a frozen node's
# processes stop (state T, their heartbeat file stands still) and run again once thawed; a deleted
# node is gone (namespace, storage) and the launcher says it is unreachable; an interrupted test
# leaves no namespace, hosts file or process behind.
# shellcheck source-path=SCRIPTDIR source=../tools/lib.sh
source "$(dirname "$0")/../tools/lib.sh"
# shellcheck source=netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
: "${MN_HELLO:?}"
set -o pipefail
launcher=$(cd "$(dirname "$0")" && pwd)/netns_launcher.sh
mn_setup 4

# 1. One rank per node, four host names, a ring across the bridge.
out=$(node_exec 0 timeout 60 mpiexec.mpich -launcher ssh -launcher-exec "$launcher" \
  -hosts node1,node2,node3,node4 -n 4 "$MN_HELLO" 2>&1) || fail "mpiexec over 4 nodes: $out"
grep -q "ring ok 4" <<<"$out" || fail "the ring did not close: $out"
hosts=$(grep -o 'on node[0-9]*' <<<"$out" | sort -u | tr '\n' ' ')
[ "$hosts" = "on node1 on node2 on node3 on node4 " ] || fail "ranks' hosts: '$hosts' in $out"
# The same through the environment (HYDRA_LAUNCHER*), as `srs run` passes it on.
out=$(node_exec 0 env HYDRA_LAUNCHER=ssh HYDRA_LAUNCHER_EXEC="$launcher" timeout 60 \
  mpiexec.mpich -hosts node2,node3 -n 2 "$MN_HELLO" 2>&1) || fail "mpiexec via HYDRA_*: $out"
grep -q "ring ok 2" <<<"$out" || fail "the ring over node2,node3 did not close: $out"

# 2. Freeze and thaw: a heartbeat writer in node3.
beat=$MN_WORK/beat
node_exec 3 sh -c "while :; do date +%s%N >'$beat'; sleep 0.05; done" &
for _ in $(seq 100); do [ -s "$beat" ] && break; sleep 0.05; done
[ -s "$beat" ] || fail "the heartbeat writer in node3 never wrote"
pids=$(node_pids 3)
[ -n "$pids" ] || fail "node_pids 3 lists nothing while a process runs there"
node_freeze 3
sleep 0.3
before=$(cat "$beat")
sleep 1
[ "$(cat "$beat")" = "$before" ] || fail "node3 still beats while frozen"
for pid in $pids; do
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || continue
  [ "$state" = T ] || fail "process $pid of node3 is in state '$state' while frozen, want T"
done
node_thaw 3
sleep 0.5
[ "$(cat "$beat")" != "$before" ] || fail "node3 does not beat again after the thaw"
node_kill 3
[ -z "$(node_pids 3)" ] || fail "node_kill 3 left processes: $(node_pids 3)"

# 3. Delete node4: namespace, storage and reachability gone.
touch "$MN_STORAGE/node4/piece"
node_delete 4
[ -e "/run/netns/$(mn_ns 4)" ] && fail "node4's namespace survived node_delete"
[ -e "$MN_STORAGE/node4" ] && fail "node4's storage survived node_delete"
rc=0
# (Hydra reports the failed launch but keeps waiting for the proxy: the timeout ends it.)
out=$(node_exec 0 timeout 8 mpiexec.mpich -launcher ssh -launcher-exec "$launcher" \
  -hosts node4 -n 1 true 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "a launch into the deleted node4 succeeded: $out"
grep -q "node4 is unreachable" <<<"$out" || fail "no 'unreachable' for node4: $out"

# 4. An interrupted test cleans up: a child harness (own tag) with a process in its node1, killed
# with SIGTERM, leaves no namespace, hosts file or process.
child_tag=$((MN_TAG + 7))
child_ready=$MN_WORK/child.ready
(
  unset MN_NS_PREFIX MN_NET
  export MN_TAG=$child_tag
  # shellcheck source=netns_lib.sh
  source "$(dirname "$0")/netns_lib.sh"
  mn_setup 1
  node_exec 1 sleep 300 &
  for _ in $(seq 100); do [ -n "$(node_pids 1)" ] && break; sleep 0.05; done
  node_pids 1 >"$child_ready"
  wait
) &
child=$!
for _ in $(seq 200); do [ -s "$child_ready" ] && break; sleep 0.05; done
[ -s "$child_ready" ] || fail "the child harness never started its process"
kill -TERM "$child"
wait "$child" 2>/dev/null
for ns in "srsmn${child_tag}n0" "srsmn${child_tag}n1" "srsmn${child_tag}br"; do
  [ -e "/run/netns/$ns" ] && fail "namespace $ns survived the interrupted harness"
  [ -e "/etc/netns/$ns" ] && fail "/etc/netns/$ns survived the interrupted harness"
done
while read -r pid; do
  kill -0 "$pid" 2>/dev/null && fail "process $pid of the interrupted harness survived"
done <"$child_ready"
echo PASS
