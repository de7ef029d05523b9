#!/usr/bin/env bash
# The SRS demo (README's first command runs it through scripts/demo.sh):
#   1. the 2-D heat solver runs uninterrupted on 2 ranks (the reference field);
#   2. the same job runs on 4 ranks under `srs run`, and is stopped from outside part-way
#      (`srs stop --wait`): it writes a checkpoint to the private depot and leaves;
#   3. it resumes on 3 ranks (`srs run --resume -n 3`) and runs to the end;
#   4. the final field is compared bit for bit with the reference, and the stop and restart
#      timings are printed from `srs history`.
# Everything runs in a fresh directory with a private srs-rss/srs-depot (`srs run` starts and
# stops them); nothing is left running afterwards.
#
#   tools/demo.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: demo.sh BUILD_DIR}" && pwd)
srs=$build/tools/srs
heat=$build/examples/heat2d
for exe in "$srs" "$heat"; do
  [ -x "$exe" ] || { echo "demo: $exe is missing; build it first (cmake --build $build)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/srs-demo.XXXXXX")
bg=""
cleanup() {
  if [ -n "$bg" ] && kill -0 "$bg" 2>/dev/null; then kill -TERM "$bg"; wait "$bg" 2>/dev/null || true; fi
  [ -n "${SRS_DEMO_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
unset SRS_RSS SRS_CONFIG SRS_APP SRS_TOKEN_FILE SRS_DEPOT
# Big enough to take several seconds, so there is time to stop it part-way.
solver=("$heat" --nx 128 --ny 128 --steps 1000 --sleep-ms 2)
say() { printf '\n== %s\n' "$*"; }

say "reference: heat2d, uninterrupted, 2 ranks"
SRS_APP=heat2d-reference "$srs" run -n 2 -- "${solver[@]}" --out reference.bin

say "heat2d on 4 ranks under srs run (in the background)"
"$srs" run -n 4 -- "${solver[@]}" --out final.bin &
bg=$!
for _ in $(seq 300); do
  "$srs" status heat2d 2>/dev/null | grep -q running && break
  kill -0 "$bg" 2>/dev/null || { echo "demo: the 4-rank run ended before it could be stopped" >&2; exit 1; }
  sleep 0.1
done
sleep 1

say "srs stop heat2d --wait (from outside, part-way)"
"$srs" stop heat2d --wait
wait "$bg"
bg=""
"$srs" status heat2d
"$srs" ls heat2d

say "resume on 3 ranks: srs run --resume -n 3"
"$srs" run --resume -n 3 -- "${solver[@]}" --out final.bin

say "history (stop = checkpoint write + commit; restart = reading the checkpoint back)"
"$srs" history heat2d

say "final field vs. the uninterrupted run"
if cmp -s reference.bin final.bin; then
  echo "bit-for-bit identical ($(stat -c %s final.bin) bytes): stopped on 4 ranks, resumed on 3"
else
  echo "demo: the final fields differ" >&2
  exit 1
fi
