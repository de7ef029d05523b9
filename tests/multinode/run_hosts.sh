#!/usr/bin/env bash
# `srs run --hosts` with no daemon started by hand (issue 13), through the multi-node harness:
# in node0 (the head node: `srs run`, mpiexec, the private RSS) with no RSS configured,
#   1. `srs run --hosts node1,node2` runs the heat solver on 2 ranks: the private RSS listens on
#      node0's bridge address, a depot is started on node1 and node2 through Hydra (the same
#      launcher as the job: HYDRA_LAUNCHER/HYDRA_LAUNCHER_EXEC), each rank writes its piece into
#      its own node's depot directory; the depots' enrollment secret is on no command line and
#      in no rank's environment; the depots survive a SIGTERM (as a batch system sends to every
#      process of a job); `srs stop` from node0 stops it with a checkpoint and the depots are
#      gone afterwards;
#   2. `srs run --resume --hosts node3,node4` brings depots up on node3 and node4 and again on
#      node1 and node2, which hold the checkpoint; the ranks on node3/node4 read the pieces over
#      the bridge and finish bit for bit equal to an uninterrupted run;
#   3. with tls_ca/tls_cert/tls_key in srs.config (a certificate naming the nodes, made here by
#      openssl) the private RSS and the depots serve mutual TLS instead of --insecure, and the
#      job (which reads .srs/srs.config) runs through it;
#   4. bad input: an unresolvable host is named before anything starts.
# shellcheck source-path=SCRIPTDIR source=job_lib.sh
source "$(dirname "$0")/job_lib.sh"
: "${HEAT2D:?}"
mn_setup 4
mn_launch_env
export SRS_APP=heat
solver=("$HEAT2D" --nx 64 --ny 60 --steps 3000)
storage=$MN_STORAGE

mn_reference "$MN_WORK/ref.bin" "${solver[@]}"
mkdir -p "$MN_WORK/head"
cd "$MN_WORK/head" || exit 1

# The enrollment secret travels in the depots' environment only (docs/multinode.md).
check_secret() {
  local secret pid cmd ranks=0 depots=0
  secret=$(tr -d ' \n' <.srs/rss/enroll.secret)
  [ "${#secret}" -ge 32 ] || fail "no enrollment secret in .srs/rss/enroll.secret"
  for pid in $(node_pids 1) $(node_pids 2); do
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    grep -qF -- "$secret" <<<"$cmd" && fail "the enrollment secret is on a command line: $cmd"
    [[ $cmd == *"srs-depot "*"--enroll-secret-env SRS_ENROLL_SECRET"* ]] && depots=$((depots + 1))
    [[ $cmd == *heat2d* ]] || continue
    ranks=$((ranks + 1))
    grep -qF -- "$secret" "/proc/$pid/environ" && fail "rank $pid has the enrollment secret"
  done
  [ "$ranks" -ge 2 ] || fail "found $ranks ranks on node1,node2, want 2"
  [ "$depots" = 2 ] || fail "found $depots depots reading the secret from the environment, want 2"
}
# A batch system's SIGTERM to every process of the job must not take the depots away.
term_depots() {
  check_secret
  local pids
  pids=$(pgrep -f "srs-depot --listen 0.0.0.0:" | grep -Fx -f <(node_pids 1; node_pids 2)) || true
  [ "$(wc -w <<<"$pids")" = 2 ] || fail "want the 2 depots of node1,node2, found: $pids"
  # shellcheck disable=SC2086 # one pid per word
  kill -TERM $pids
  sleep 1
  # shellcheck disable=SC2086
  kill -0 $pids || fail "a depot died of SIGTERM"
}

# 1. Two ranks on node1,node2; stopped from node0.
MN_WHILE_RUNNING=term_depots mn_stop_run heat "$MN_WORK/run1.out" -n 2 --hosts node1,node2 --depot-dir "$storage" -- \
  "${solver[@]}" --sleep-ms 2 --out "$MN_WORK/final.bin"
run1=$(cat "$MN_WORK/run1.out")
grep -q "starting a depot on node1,node2 (RSS at $MN_NET\." <<<"$run1" ||
  fail "no depots started on node1,node2 with the RSS on the bridge: $run1"
grep -q "plain text" <<<"$run1" || fail "no warning about plain text on the network: $run1"
[ "$(mn_pieces 1)" = 1 ] || fail "node1's depot holds $(mn_pieces 1) pieces, want 1"
[ "$(mn_pieces 2)" = 1 ] || fail "node2's depot holds $(mn_pieces 2) pieces, want 1"
[ "$(mn_pieces 3 4)" = 0 ] || fail "node3/node4 hold pieces before the resume"
for k in 1 2; do
  [ -z "$(node_pids "$k")" ] || fail "processes left on node$k after the run: $(node_pids "$k")"
done
ls=$(node_exec 0 "$SRS" ls heat 2>&1) || fail "srs ls: $ls"
for k in 1 2; do grep -q "node$k:" <<<"$ls" || fail "srs ls names no node$k depot: $ls"; done

# 2. Resume on node3,node4: the checkpoint's hosts get their depots back for the reads.
out=$(node_exec 0 "$SRS" run -n 2 --resume --hosts node3,node4 --depot-dir "$storage" -- \
  "${solver[@]}" --out "$MN_WORK/final.bin" 2>&1) || fail "resume on node3,node4: $out"
grep -q "starting a depot on node3,node4 and, for the checkpoint's copies, on node1,node2" \
  <<<"$out" || fail "the resume did not start the checkpoint's depots: $out"
grep -q "heat finished (2 ranks" <<<"$out" || fail "the resume did not finish: $out"
cmp -s "$MN_WORK/ref.bin" "$MN_WORK/final.bin" || fail "the resumed field differs from the reference"
history=$(node_exec 0 "$SRS" history heat 2>&1) || fail "srs history: $history"
for set in node1,node2 node3,node4; do
  grep -q "$set" <<<"$history" || fail "the history lacks the hosts $set: $history"
done

# 3. TLS: one certificate naming every node (server and client alike), signed by a test CA.
pki=$MN_WORK/pki
mkdir -p "$pki" "$MN_WORK/tls"
san="DNS:localhost"
for k in 0 1 2 3 4; do san+=",DNS:node$k,IP:$(mn_addr "$k")"; done
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=SRS multinode CA" \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null || fail "openssl: CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=srs-node" -keyout "$pki/node.key" \
  -out "$pki/node.csr" 2>/dev/null || fail "openssl: request"
printf 'subjectAltName=%s\n' "$san" >"$pki/node.ext"
openssl x509 -req -in "$pki/node.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/node.ext" -out "$pki/node.pem" 2>/dev/null || fail "openssl: sign"
chmod 600 "$pki"/*.key
cd "$MN_WORK/tls" || exit 1
printf 'tls_ca = %s\ntls_cert = %s\ntls_key = %s\n' "$pki/ca.pem" "$pki/node.pem" \
  "$pki/node.key" >srs.config
out=$(node_exec 0 "$SRS" run -n 2 --hosts node1,node2 --depot-dir "$MN_WORK/tls-depots" -- \
  "$HEAT2D" --nx 32 --ny 30 --steps 200 2>&1) || fail "run with TLS: $out"
grep -q "heat finished (2 ranks" <<<"$out" || fail "the TLS run did not finish: $out"
grep -q "plain text" <<<"$out" && fail "plain-text warning although TLS is configured: $out"
logs=$(cat .srs/rss.log .srs/depot-node1.log .srs/depot-node2.log)
grep -q "INSECURE" <<<"$logs" && fail "a daemon ran without TLS: $logs"
grep -q "^tls_cert = " .srs/srs.config || fail "the jobs' config lacks the TLS keys"

# 4. A host that does not resolve is refused before anything starts.
expect_status 1 "cannot resolve host 'nosuchnode'" node_exec 0 "$SRS" run -n 2 \
  --hosts nosuchnode,node1 -- "${solver[@]}"
echo "$history"
echo PASS
