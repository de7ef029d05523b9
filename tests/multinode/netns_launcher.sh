#!/usr/bin/env bash
# An "ssh" for MPICH's Hydra into the harness's network-namespace nodes (netns_lib.sh):
#   mpiexec.mpich -launcher ssh -launcher-exec tests/multinode/netns_launcher.sh -hosts node1,node2
# Hydra calls its ssh launcher as `LAUNCHER [-x] HOST WORD...`, where the words form the remote
# command line exactly as ssh would send it: ssh joins them with spaces and the remote shell
# parses the result (Hydra quotes the proxy's path for that shell), so this does the same, inside
# HOST's namespace with HOST's host name. HOST is "nodeK" or the node's address $MN_NET.(K+10).
# Needs MN_NS_PREFIX and MN_NET from the harness (exported by netns_lib.sh).
set -u
: "${MN_NS_PREFIX:?netns_launcher.sh runs under the multi-node harness (MN_NS_PREFIX unset)}"
: "${MN_NET:?netns_launcher.sh runs under the multi-node harness (MN_NET unset)}"
# ssh options Hydra may pass before the host (-x: no X11 forwarding; nothing to forward here).
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
[ $# -ge 2 ] || { echo "netns_launcher.sh: usage: [-x] HOST COMMAND..." >&2; exit 255; }
host=$1
shift
case $host in
  node[0-9]*) k=${host#node} ;;
  "$MN_NET".*) k=$((${host##*.} - 10)) ;;
  *) echo "netns_launcher.sh: unknown host '$host' (nodeK or $MN_NET.X)" >&2; exit 255 ;;
esac
ns=$MN_NS_PREFIX$k
# Like ssh to a host that is gone: exit 255 with a message.
if [ ! -e "/run/netns/$ns" ]; then
  echo "netns_launcher.sh: node$k is unreachable (no namespace $ns)" >&2
  exit 255
fi
# shellcheck disable=SC2016 # $0 and $1 are the inner shell's
exec ip netns exec "$ns" unshare --uts sh -c 'hostname "$0" && exec sh -c "$1"' "node$k" "$*"
