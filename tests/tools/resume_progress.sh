#!/usr/bin/env bash
# A resume's read progress (libsrs/src/restore_progress.h): `srs run --resume` on a terminal
# (under script(1), a pty) shows rank 0's "srs resume: X of Y  P%  RATE/s" line while the ranks
# read a 30 MiB checkpoint; nothing of it when srs run's stderr is a file (even with
# SRS_PROGRESS=1 inherited), with --quiet on a terminal, or for a 1 MiB checkpoint on a terminal.
# Both read paths: a shared-host depot's file, and the network (SRS_TRANSPORT=grpc).
# Local reads take milliseconds, too quick for any line (it waits 0.5 s): the test-only hook
# SRS_TEST_SLOW_READ_MS=400 makes every 4 MiB slice a rank reads wait 400 ms, so each rank's
# 10 MiB share takes about 1.2 s; the silent cases read just as slowly.
# Runs inside with-daemons.sh (SRS_RSS, SRS_TOKEN_FILE, SRS_DEPOT_ADDRS).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${HEAT2D:?}" "${SRS_RSS:?run under with-daemons.sh}"
work=$(mktemp -d "${TMPDIR:-/tmp}/srs-resume-progress.XXXXXX")
cd "$work" || exit 1
bg=""
trap '[ -n "$bg" ] && kill -TERM $bg 2>/dev/null; wait; rm -rf "$work"' EXIT
unset SRS_PROGRESS SRS_TEST_SLOW_READ_MS

# heat JOB NX NY [RUN FLAGS...]: the srs run command line of the heat solver, stopped from outside.
heat() {
  local job=$1 nx=$2 ny=$3; shift 3
  echo "SRS_APP=$job '$SRS' run -n 3 $* -- '$HEAT2D' --nx $nx --ny $ny --steps 1000000 --sleep-ms 1"
}

# cycle JOB OUT MODE COMMAND: runs COMMAND (from heat) in the background, its stdout and stderr
# into OUT, on a pty (MODE=pty) or into files (MODE=file: stderr alone into OUT.err), waits until
# the job runs, stops it (a checkpoint for the next resume) and waits for srs run.
cycle() {
  local job=$1 out=$2 mode=$3 cmd=$4
  if [ "$mode" = pty ]; then
    script -qec "$cmd" /dev/null >"$out" 2>&1 &
  else
    bash -c "$cmd" >"$out" 2>"$out.err" &
  fi
  bg=$!
  wait_running "$job" 90
  expect_status 0 "stopped: checkpoint epoch" "$SRS" stop "$job" --wait --timeout 90
  wait "$bg" || fail "srs run of $job failed: $(cat -v "$out" "$out.err" 2>/dev/null)"
  bg=""
}

# The checkpoints: 2000 x 2000 doubles (30.5 MiB, 10.2 MiB a rank) and 350 x 350 (0.9 MiB).
cycle heatbig first.out file "$(heat heatbig 2000 2000)"
cycle heatsmall small-first.out file "$(heat heatsmall 350 350)"

export SRS_TEST_SLOW_READ_MS=400
# On a terminal: the line, with bytes of the total, a percentage and a rate.
cycle heatbig tty.out pty "$(heat heatbig 2000 2000 --resume)"
grep -aq "resuming heatbig from checkpoint epoch" tty.out || fail "did not resume: $(cat -v tty.out)"
line='srs resume: [0-9.]+ [KMG]?i?B of 30\.5 MiB +[0-9]+% +[0-9.]+ [KMG]?i?B/s'
grep -aqE "$line" tty.out || fail "no resume progress on a terminal: $(cat -v tty.out)"
# Drawn in place (carriage return, erase to end of line), and erased before SRS_Read returns.
grep -aqE $'\r'"$line" tty.out || fail "the line is not redrawn in place: $(cat -v tty.out)"
grep -aqE $'\r\033\\[K' tty.out || fail "the line is never erased: $(cat -v tty.out)"
# Some line while the ranks were still reading: below 100 %, with a time left.
grep -aqE "$line +[0-9]+ s left" tty.out ||
  fail "no line with a time left (all drawn after the reads?): $(cat -v tty.out)"

# Every byte over the network (the depot's data channel, as from another site): the same line,
# counted in the channel's slices.
cycle heatbig grpc.out pty "SRS_TRANSPORT=grpc $(heat heatbig 2000 2000 --resume)"
grep -aqE "$line +[0-9]+ s left" grpc.out || fail "no resume progress over the network: $(cat -v grpc.out)"

# stderr a file: nothing, even when the caller's environment asks for it (srs run decides).
cycle heatbig file.out file "SRS_PROGRESS=1 $(heat heatbig 2000 2000 --resume)"
grep -aq "resuming heatbig from checkpoint epoch" file.out || fail "did not resume: $(cat file.out)"
if grep -aq "srs resume" file.out file.out.err; then
  fail "progress leaked into a file: $(cat -v file.out.err)"
fi

# --quiet on a terminal: nothing.
cycle heatbig quiet.out pty "$(heat heatbig 2000 2000 --resume --quiet)"
grep -aq "srs resume" quiet.out && fail "--quiet still showed progress: $(cat -v quiet.out)"

# A 0.9 MiB checkpoint on a terminal, read as slowly: nothing (no flicker for small data).
cycle heatsmall small.out pty "$(heat heatsmall 350 350 --resume)"
grep -aq "resuming heatsmall from checkpoint epoch" small.out || fail "did not resume: $(cat -v small.out)"
grep -aq "srs resume" small.out && fail "progress for a 0.9 MiB checkpoint: $(cat -v small.out)"
echo PASS
