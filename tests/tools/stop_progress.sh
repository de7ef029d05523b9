#!/usr/bin/env bash
# A stop checkpoint's write progress (libsrs/src/checkpoint_progress.h): `srs stop --wait` on a
# terminal (under script(1), a pty) shows "stopping JOB: X of Y  P%  RATE/s  N s left" with
# bytes done while the ranks are still writing (rank 0's reports of its piece's bytes on disk,
# common/write_behind.h), not only once they report their finished pieces; nothing of it when
# its stderr is a file or with --quiet on a terminal.
# Local writes of 35 MiB a rank take well under a second, too quick for any report (the first
# waits 0.5 s): the test-only hook SRS_TEST_SLOW_WRITE_MS=250 makes every 8 MiB a rank writes back
# wait 250 ms, so each rank's piece takes about 1.5 s.
# Runs inside with-daemons.sh (SRS_RSS, SRS_TOKEN_FILE, SRS_DEPOT_ADDRS).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${HEAT2D:?}" "${SRS_RSS:?run under with-daemons.sh}"
work=$(mktemp -d "${TMPDIR:-/tmp}/srs-stop-progress.XXXXXX")
cd "$work" || exit 1
bg=""
trap '[ -n "$bg" ] && kill -TERM $bg 2>/dev/null; wait; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
unset SRS_PROGRESS
export SRS_TEST_SLOW_WRITE_MS=250

# stop_cycle JOB OUT MODE [STOP FLAGS...]: starts the heat solver (3000 x 3000 doubles, 68.7 MiB
# over 2 ranks) under srs run in the background, waits until it runs, then `srs stop --wait` with
# its stdout and stderr into OUT, on a pty (MODE=pty) or into files (MODE=file: stderr alone into
# OUT.err); waits for srs run.
stop_cycle() {
  local job=$1 out=$2 mode=$3; shift 3
  SRS_APP=$job "$SRS" run -n 2 -q -- "$HEAT2D" --nx 3000 --ny 3000 --steps 1000000 --sleep-ms 1 \
    >"$job.run.out" 2>&1 &
  bg=$!
  wait_running "$job" 90
  local cmd="'$SRS' stop $job --wait --timeout 120 $*"
  if [ "$mode" = pty ]; then
    script -qec "$cmd" /dev/null >"$out" 2>&1 || fail "srs stop failed: $(cat -v "$out")"
  else
    bash -c "$cmd" >"$out" 2>"$out.err" || fail "srs stop failed: $(cat "$out" "$out.err")"
  fi
  wait "$bg" || fail "srs run of $job failed: $(cat -v "$job.run.out")"
  bg=""
  grep -aq "$job stopped: checkpoint epoch [0-9]* committed (68.7 MiB)" "$out" ||
    fail "no stop checkpoint: $(cat -v "$out")"
}

# On a terminal: the line, with bytes of the checkpoint's own total (68.7 MiB, as rank 0 reported
# it), a percentage below 100 (the write still going on), a rate and a time left.
stop_cycle heatstop tty.out pty
line='stopping heatstop: [0-9.]+ [KMG]?i?B of 68\.7 MiB +[0-9]{1,2}% +[0-9.]+ [KMG]?i?B/s +[0-9]+ s left'
grep -aqE $'\r'"$line" tty.out ||
  fail "no progress with bytes done while the ranks wrote: $(cat -v tty.out)"
grep -aqE $'\r\033\\[K' tty.out || fail "the line is never erased: $(cat -v tty.out)"

# stderr a file: nothing. --quiet on a terminal: nothing.
stop_cycle heatstop file.out file
grep -aq "stopping heatstop" file.out file.out.err && fail "progress leaked into a file: $(cat -v file.out.err)"
stop_cycle heatstop quiet.out pty --quiet
grep -aq "stopping heatstop" quiet.out && fail "--quiet still showed progress: $(cat -v quiet.out)"
echo PASS
