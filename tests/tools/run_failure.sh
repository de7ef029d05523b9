#!/usr/bin/env bash
# When a launched job dies of an SRS error, `srs run` says why in one line, from what the failing
# rank reported to the RSS (the launcher may drop the rank's own output), keeps the committed
# checkpoint, ends the run at the RSS so a resume needs no --force, and exits non-zero. The error
# here is a resume on another grid: heat2d registers `u` before it reads it, so SRS_Read knows
# the buffer is too small for the checkpoint and refuses instead of writing past its end. The
# right grid then resumes from the same checkpoint and finishes.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${HEAT2D:?}"
fresh_dir
bg=""
trap '[ -n "$bg" ] && kill -TERM $bg 2>/dev/null; wait; rm -rf "$test_dir"' EXIT
export SRS_APP=heatfail

"$SRS" run -n 3 -- "$HEAT2D" --nx 64 --ny 48 --steps 100000 --sleep-ms 1 >run.out 2>&1 &
bg=$!
wait_running heatfail
expect_status 0 "heatfail stopped: checkpoint epoch [0-9]+ committed" \
  "$SRS" stop heatfail --wait --timeout 60
wait "$bg" || fail "srs run exited non-zero after a stop: $(cat run.out)"
bg=""
epoch=$(sed -n 's/.*stopped with checkpoint epoch \([0-9]*\).*/\1/p' run.out)
[ -n "$epoch" ] || fail "no stop epoch in: $(cat run.out)"

# 40x48 instead of 64x48: 1920 cells against the checkpoint's 3072.
expect_status 1 "srs run: heatfail failed: rank [0-9]+, SRS_Read: INVALID_ARGUMENT: .*holds 3072 elements.* registered with 1920" \
  "$SRS" run -n 2 -- "$HEAT2D" --nx 40 --ny 48 --steps 10
grep -q "double free\|corruption\|Segmentation" <<<"$last_output" &&
  fail "the mismatched resume corrupted memory: $last_output"
grep -q "ended run .* at the RSS (lost)" <<<"$last_output" ||
  fail "srs run did not end the dead run at the RSS: $last_output"
expect_status 0 "checkpoint $epoch +committed" "$SRS" ls heatfail
# srs status keeps its table narrow: the reason cut short in STATE, whole in srs history.
expect_status 0 "heatfail +lost \(rank [0-9]+, SRS_Read: INVALID_ARGUMENT: .*\.\.\.\)" \
  "$SRS" status
widest=$(awk '{ if (length($0) > w) w = length($0) } END { print w }' <<<"$last_output")
[ "$widest" -le 140 ] || fail "srs status is $widest characters wide: $last_output"
expect_status 0 "holds 3072 elements.* registered with 1920" "$SRS" history heatfail

# The right grid resumes at once (no --force, no lease wait) from the kept checkpoint.
expect_status 0 "resuming heatfail from checkpoint epoch $epoch" \
  "$SRS" run -n 2 -- "$HEAT2D" --nx 64 --ny 48 --steps 10
grep -q "heatfail finished (2 ranks" <<<"$last_output" || fail "the resume did not finish: $last_output"
echo PASS
