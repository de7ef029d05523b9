#!/usr/bin/env bash
# The example solvers' end-to-end test, run inside tests/support/with-daemons.sh (SRS_RSS,
# SRS_DEPOT=auto, SRS_APP, SRS_TOKEN_FILE exported):
#
#   stop_resume.sh --stop "CMD" --compare "CMD" --ref-np N --stop-np N --resume-np N \
#                  [--sleep-ms MS] [--stop-when REGEX] [--stop-after SECONDS] [--stop-args "ARGS"]
#                  [--resume-args "ARGS"] -- PROGRAM ARGS...
#
#  1. reference: PROGRAM ARGS --out ref.bin on --ref-np ranks, uninterrupted (its own job name);
#  2. PROGRAM ARGS STOP_ARGS --sleep-ms MS --out out.bin on --stop-np ranks; once its output
#     matches --stop-when (default "running"), plus --stop-after seconds (default 0.5), `CMD JOB`
#     stops it from outside; it must leave after a
#     committed checkpoint, mid-run, with exit 0 and without writing out.bin;
#  3. the same job again (PROGRAM ARGS RESUME_ARGS, e.g. another distribution or process grid)
#     on --resume-np ranks: it must resume at the step it stopped at and run
#     to the end, writing out.bin;
#  4. `--compare CMD ref.bin out.bin` decides (compare_fields TOL: 0 = bitwise).
# Every example prints "running ... from step K", "stopped at step K" and "resumed at step K".
set -euo pipefail
stop_cmd="" compare_cmd="" ref_np=2 stop_np=3 resume_np=4 sleep_ms=20 stop_after=0.5
stop_when="running" stop_args="" resume_args=""
while (($#)); do
  case "$1" in
    --stop) stop_cmd=$2; shift 2 ;;
    --compare) compare_cmd=$2; shift 2 ;;
    --ref-np) ref_np=$2; shift 2 ;;
    --stop-np) stop_np=$2; shift 2 ;;
    --resume-np) resume_np=$2; shift 2 ;;
    --sleep-ms) sleep_ms=$2; shift 2 ;;
    --stop-after) stop_after=$2; shift 2 ;;
    --stop-when) stop_when=$2; shift 2 ;;
    --stop-args) stop_args=$2; shift 2 ;;
    --resume-args) resume_args=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "stop_resume: unknown option $1" >&2; exit 2 ;;
  esac
done
: "${SRS_RSS:?run me inside with-daemons.sh}" "${SRS_APP:?}" "${SRS_TOKEN_FILE:?}"
if [ -z "$stop_cmd" ] || [ -z "$compare_cmd" ] || (($# == 0)); then echo "stop_resume: usage" >&2; exit 2; fi
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
work=${SRS_TEST_WORKDIR:-$(mktemp -d)}/example
mkdir -p "$work"
job_pid=""
cleanup() {  # only the mpiexec this script started, and only if it is still running
  if [ -n "$job_pid" ] && kill -0 "$job_pid" 2>/dev/null; then
    kill -KILL "$job_pid" 2>/dev/null
    wait "$job_pid" 2>/dev/null
  fi
  return 0
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
fail() {
  echo "stop_resume: FAIL: $*" >&2
  for f in "$work"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done
  exit 1
}

echo "== reference: $ref_np ranks, uninterrupted"
SRS_APP="$SRS_APP-ref" "$mpiexec" -n "$ref_np" "$@" --out "$work/ref.bin" >"$work/ref.log" 2>&1 \
  || fail "reference run failed"
cat "$work/ref.log"
[ -s "$work/ref.bin" ] || fail "reference run wrote no result"

echo "== run on $stop_np ranks, stopped from outside"
job="$SRS_APP-job"
# shellcheck disable=SC2086  # the extra args are meant to split into words
SRS_APP=$job "$mpiexec" -n "$stop_np" "$@" $stop_args --sleep-ms "$sleep_ms" --out "$work/out.bin" \
  >"$work/stop.log" 2>&1 &
job_pid=$!
t0=$SECONDS
while ((SECONDS - t0 < 60)); do
  grep -q "$stop_when" "$work/stop.log" && break
  kill -0 "$job_pid" 2>/dev/null || break
  sleep 0.05
done
grep -q "$stop_when" "$work/stop.log" || fail "the job never printed '$stop_when'"
sleep "$stop_after"  # let it compute some steps (a test parameter, not a timing assertion)
$stop_cmd "$job" >"$work/stop_cmd.log" 2>&1 || { cat "$work/stop_cmd.log" >&2; fail "'$stop_cmd $job' failed"; }
t0=$SECONDS
while kill -0 "$job_pid" 2>/dev/null; do
  ((SECONDS - t0 < 120)) || fail "the job did not end within 120 s of the stop"
  sleep 0.05
done
rc=0
wait "$job_pid" || rc=$?
job_pid=""
cat "$work/stop.log"
((rc == 0)) || fail "stopped run exited with $rc"
stopped=$(sed -n 's/.*stopped at step \([0-9]*\).*/\1/p' "$work/stop.log" | head -1)
[ -n "$stopped" ] || fail "the job ran to the end instead of stopping (no 'stopped at step')"
[ ! -e "$work/out.bin" ] || fail "a stopped run must not write its final result"
((stopped > 0)) || fail "stopped before the first step"

echo "== resume on $resume_np ranks"
# shellcheck disable=SC2086
SRS_APP=$job "$mpiexec" -n "$resume_np" "$@" $resume_args --out "$work/out.bin" \
  >"$work/resume.log" 2>&1 \
  || fail "resumed run failed"
cat "$work/resume.log"
resumed=$(sed -n 's/.*resumed at step \([0-9]*\).*/\1/p' "$work/resume.log" | head -1)
[ "$resumed" = "$stopped" ] || fail "resumed at step '$resumed', stopped at step $stopped"
[ -s "$work/out.bin" ] || fail "resumed run wrote no result"

echo "== compare"
$compare_cmd "$work/ref.bin" "$work/out.bin" || fail "resumed result differs from the reference"
echo "stop_resume: PASS (stopped at step $stopped on $stop_np ranks, resumed on $resume_np)"
