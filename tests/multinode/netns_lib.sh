# shellcheck shell=bash
# Multi-node test harness (sourced): "nodes" are network namespaces joined by a bridge.
#
#   mn_setup N       creates nodes 0..N: node0 is the head node (where `srs run`, mpiexec and the
#                    private RSS run), nodes 1..N are compute nodes. Each node K has lo up, one
#                    veth "eth0" with $MN_NET.(K+10)/24 on a bridge living in a namespace of its
#                    own (the machine's own interfaces, addresses and firewall are never touched),
#                    its own host name "nodeK" (a UTS namespace per command, see node_exec) and a
#                    hosts file naming every node (/etc/netns/<ns>/hosts, which `ip netns exec`
#                    bind-mounts over /etc/hosts inside the node only).
#   node_exec K CMD...   runs CMD in node K (network, host name, hosts file of the node).
#   node_pids K      the processes living in node K.
#   node_freeze K / node_thaw K   SIGSTOP / SIGCONT every process of node K.
#   node_kill K      SIGKILL every process of node K.
#   node_delete K    node_kill, then deletes the namespace (and with it its veth) and the node's
#                    storage directory $MN_STORAGE/nodeK.
#   mn_cleanup       removes everything (processes, namespaces, hosts files, bridge, $MN_WORK);
#                    installed as the EXIT trap by mn_setup (TERM and INT exit through it).
#
# The subnet is 10.231.X.0/24 with X derived from the test's pid, so tests running in parallel do
# not share one. Exported for netns_launcher.sh (MPICH Hydra's -launcher-exec): MN_NS_PREFIX,
# MN_NET. Without root or network namespaces mn_setup exits 77 (ctest: skipped), except under
# CI=true, where that is a failure.
#
# Needs: `fail` (tests/tools/lib.sh), iproute2, util-linux (unshare), root.

MN_TAG=${MN_TAG:-$$}
MN_NET=${MN_NET:-10.231.$((MN_TAG % 250 + 1))}
MN_NS_PREFIX=${MN_NS_PREFIX:-srsmn${MN_TAG}n}
MN_BRIDGE_NS=srsmn${MN_TAG}br
MN_NODES=0
MN_WORK=""
MN_STORAGE=""
export MN_NET MN_NS_PREFIX

mn_ns() { echo "$MN_NS_PREFIX$1"; }
mn_addr() { echo "$MN_NET.$(($1 + 10))"; }

mn_skip() {
  if [ "${CI:-}" = true ]; then fail "$1 (in CI a skip is a failure)"; fi
  echo "SKIPPED: $1"
  exit 77
}

node_exec() {
  local k=$1
  shift
  # A UTS namespace per command: `ip netns exec` shares the machine's, and every rank, proxy and
  # depot must see its node's own host name (depot = auto matches on it).
  # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
  ip netns exec "$(mn_ns "$k")" unshare --uts sh -c 'hostname "$0" && exec "$@"' "node$k" "$@"
}

node_pids() { ip netns pids "$(mn_ns "$1")" 2>/dev/null; }

mn_signal_node() {  # K SIGNAL
  local pid
  for pid in $(node_pids "$1"); do kill "-$2" "$pid" 2>/dev/null; done
}
node_freeze() { mn_signal_node "$1" STOP; }
node_thaw() { mn_signal_node "$1" CONT; }

node_kill() {
  # Repeated: a process may fork while the first round is being delivered.
  for _ in 1 2 3; do
    mn_signal_node "$1" KILL
    [ -z "$(node_pids "$1")" ] && return 0
    sleep 0.1
  done
}

node_delete() {
  local k=$1
  node_kill "$k"
  ip netns del "$(mn_ns "$k")" 2>/dev/null
  rm -rf "/etc/netns/$(mn_ns "$k")" "${MN_STORAGE:?}/node$k"
}

mn_cleanup() {
  local k
  for ((k = 0; k <= MN_NODES; k++)); do
    node_kill "$k"  # SIGKILL ends frozen (SIGSTOPped) processes too
    ip netns del "$(mn_ns "$k")" 2>/dev/null
    rm -rf "/etc/netns/$(mn_ns "$k")"
  done
  ip netns del "$MN_BRIDGE_NS" 2>/dev/null
  [ -n "$MN_WORK" ] && rm -rf "$MN_WORK"
  return 0
}

mn_setup() {
  local n=$1 k ns veth
  [ "$(id -u)" = 0 ] || mn_skip "the multi-node harness needs root (network namespaces)"
  command -v unshare >/dev/null || mn_skip "no unshare (util-linux)"
  trap mn_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  ip netns add "$MN_BRIDGE_NS" 2>/dev/null || mn_skip "cannot create network namespaces"
  ip -n "$MN_BRIDGE_NS" link add br0 type bridge || mn_skip "no bridge support"
  ip -n "$MN_BRIDGE_NS" link set br0 up
  MN_WORK=$(mktemp -d "${TMPDIR:-/tmp}/srs-multinode.XXXXXX")
  MN_STORAGE=$MN_WORK/storage
  mkdir -p "$MN_STORAGE"
  local hosts="127.0.0.1 localhost"$'\n'
  for ((k = 0; k <= n; k++)); do hosts+="$(mn_addr "$k") node$k"$'\n'; done
  for ((k = 0; k <= n; k++)); do
    ns=$(mn_ns "$k")
    MN_NODES=$k
    ip netns add "$ns" || fail "cannot create namespace $ns"
    mkdir -p "/etc/netns/$ns" "$MN_STORAGE/node$k"
    printf '%s' "$hosts" >"/etc/netns/$ns/hosts"
    # The peer is created straight in the bridge's namespace: the root namespace never sees it.
    veth=m${MN_TAG}v$k
    ip link add "$veth" netns "$ns" type veth peer name "p$k" netns "$MN_BRIDGE_NS" ||
      mn_skip "no veth support"
    ip -n "$ns" link set "$veth" name eth0
    ip -n "$ns" addr add "$(mn_addr "$k")/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$MN_BRIDGE_NS" link set "p$k" master br0
    ip -n "$MN_BRIDGE_NS" link set "p$k" up
  done
}
