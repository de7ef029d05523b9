#!/usr/bin/env bash
# relocated_use.sh PREFIX — the user's side of relocated_prefix_test.sh (copied beside lib.sh and
# run from there, maybe with the source tree hidden): a job run, stopped, resumed, and the
# benchmarks, with only PREFIX/bin and the system on PATH.
set -euo pipefail
prefix=$1
export PATH="$prefix/bin:/usr/bin:/bin" SRS_TOOL="$prefix/bin/srs"
# shellcheck source=../tools/lib.sh
source "$(dirname "$0")/lib.sh"
heat=$prefix/libexec/srs/examples/heat2d
fresh_dir
bg=""
trap '[ -n "$bg" ] && kill -TERM $bg 2>/dev/null; wait; rm -rf "$test_dir"' EXIT
export SRS_APP=heat

srs run -n 2 -- "$heat" --nx 32 --ny 32 --steps 100000 --sleep-ms 1 >run.out 2>&1 &
bg=$!
wait_running heat 60
expect_status 0 "heat stopped: checkpoint epoch [0-9]+ committed" srs stop heat --wait --timeout 60
wait "$bg" || fail "srs run exited non-zero after a stop: $(cat run.out)"
bg=""
grep -q "heat stopped with checkpoint epoch" run.out || fail "run did not report the stop: $(cat run.out)"
expect_status 0 "heat finished \(3 ranks" srs run --resume -n 3 -- "$heat" --nx 32 --ny 32 --steps 1
expect_status 0 "finished" srs history heat

# The benchmarks at their smallest: every one must run and report its figures. On 1 and 2 ranks
# (not srs-bench-all's default 1 2 4): where the prefix is makes no difference to the rank
# count, and 4 ranks on a 2-core machine made this the longest part of the test.
expect_status 0 "== suite" srs bench --tiny -- --ranks "1 2"
for figure in check_stop_ratio_np1 checkpoint_ratio_np2 phdf5_ratio; do
  grep -q "$figure" <<<"$last_output" || fail "srs bench --tiny lacks $figure: $last_output"
done
