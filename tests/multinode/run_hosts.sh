#!/usr/bin/env bash
# `srs run --hosts` with no daemon started by hand (issue 13), through the multi-node harness:
# in node0 (the head node: `srs run`, mpiexec, the private RSS) with no RSS configured,
#   1. `srs run --hosts node1,node2` runs the heat solver on 2 ranks: the private RSS listens on
#      node0's bridge address, a depot is started on node1 and node2 through Hydra (the same
#      launcher as the job: HYDRA_LAUNCHER/HYDRA_LAUNCHER_EXEC), each rank writes its piece into
#      its own node's depot directory; `srs stop` from node0 stops it with a checkpoint and the
#      depots are gone afterwards;
#   2. `srs run --resume --hosts node3,node4` brings depots up on node3 and node4 and again on
#      node1 and node2, which hold the checkpoint; the ranks on node3/node4 read the pieces over
#      the bridge and finish bit for bit equal to an uninterrupted run;
#   3. bad input: an unresolvable host is named before anything starts.
# shellcheck source-path=SCRIPTDIR source=../tools/lib.sh
source "$(dirname "$0")/../tools/lib.sh"
# shellcheck source=netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
: "${HEAT2D:?}"
set -o pipefail
mn_setup 4
unset SRS_RSS SRS_CONFIG SRS_TOKEN_FILE SRS_DEPOT SRS_HOST SRS_RESUME SRS_REDUNDANCY
export HYDRA_LAUNCHER=ssh HYDRA_LAUNCHER_EXEC
HYDRA_LAUNCHER_EXEC=$(cd "$(dirname "$0")" && pwd)/netns_launcher.sh
export SRS_APP=heat
solver=("$HEAT2D" --nx 64 --ny 60 --steps 3000)
storage=$MN_STORAGE
pieces() { find "$storage/$1" -name '*.h5' -path '*pieces*' 2>/dev/null | wc -l; }

# The uninterrupted reference, on node0 alone (loopback daemons of its own directory).
mkdir -p "$MN_WORK/ref" "$MN_WORK/head"
(cd "$MN_WORK/ref" && node_exec 0 "$SRS" run -n 2 -- "${solver[@]}" --out "$MN_WORK/ref.bin") \
  >"$MN_WORK/ref.out" 2>&1 || fail "reference run: $(cat "$MN_WORK/ref.out")"
cd "$MN_WORK/head" || exit 1

# 1. Two ranks on node1,node2; stopped from node0.
node_exec 0 "$SRS" run -n 2 --hosts node1,node2 --depot-dir "$storage" -- "${solver[@]}" \
  --sleep-ms 2 --out "$MN_WORK/final.bin" >"$MN_WORK/run1.out" 2>&1 &
bg=$!
for _ in $(seq 300); do
  st=$(node_exec 0 "$SRS" status heat 2>&1) || true
  grep -q running <<<"$st" && break
  kill -0 "$bg" 2>/dev/null || break
  sleep 0.2
done
grep -q running <<<"$st" || fail "the job never ran: $st $(cat "$MN_WORK/run1.out")"
sleep 1
node_exec 0 "$SRS" stop heat --wait --timeout 60 >/dev/null || fail "srs stop failed"
wait "$bg" || fail "run on node1,node2: $(cat "$MN_WORK/run1.out")"
run1=$(cat "$MN_WORK/run1.out")
grep -q "starting a depot on node1,node2 (RSS at $MN_NET\." <<<"$run1" ||
  fail "no depots started on node1,node2 with the RSS on the bridge: $run1"
grep -q "stopped with checkpoint" <<<"$run1" || fail "no stop: $run1"
grep -q "plain text" <<<"$run1" || fail "no warning about plain text on the network: $run1"
[ "$(pieces node1)" = 1 ] || fail "node1's depot holds $(pieces node1) pieces, want 1"
[ "$(pieces node2)" = 1 ] || fail "node2's depot holds $(pieces node2) pieces, want 1"
[ "$(pieces node3)$(pieces node4)" = 00 ] || fail "node3/node4 hold pieces before the resume"
for k in 1 2; do
  [ -z "$(node_pids "$k")" ] || fail "processes left on node$k after the run: $(node_pids "$k")"
done
ls=$(node_exec 0 "$SRS" ls heat 2>&1) || fail "srs ls: $ls"
grep -q "node1:" <<<"$ls" && grep -q "node2:" <<<"$ls" || fail "srs ls names no node1/node2 depots: $ls"

# 2. Resume on node3,node4: the checkpoint's hosts get their depots back for the reads.
out=$(node_exec 0 "$SRS" run -n 2 --resume --hosts node3,node4 --depot-dir "$storage" -- \
  "${solver[@]}" --out "$MN_WORK/final.bin" 2>&1) || fail "resume on node3,node4: $out"
grep -q "starting a depot on node3,node4 and, for the checkpoint's copies, on node1,node2" \
  <<<"$out" || fail "the resume did not start the checkpoint's depots: $out"
grep -q "heat finished (2 ranks" <<<"$out" || fail "the resume did not finish: $out"
cmp -s "$MN_WORK/ref.bin" "$MN_WORK/final.bin" || fail "the resumed field differs from the reference"
history=$(node_exec 0 "$SRS" history heat 2>&1) || fail "srs history: $history"
grep -q "node1,node2" <<<"$history" && grep -q "node3,node4" <<<"$history" ||
  fail "the history lacks the two host sets: $history"

# 3. A host that does not resolve is refused before anything starts.
expect_status 1 "cannot resolve host 'nosuchnode'" node_exec 0 "$SRS" run -n 2 \
  --hosts nosuchnode,node1 -- "${solver[@]}"
echo "$history"
echo PASS
