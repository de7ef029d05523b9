#!/usr/bin/env bash
# A real Slurm (slurm_lib.sh: munged, slurmctld, slurmd on this machine, generated slurm.conf
# with RequeueExit=75) runs an `sbatch --requeue` script that execs `srs run` of the heat
# solver, on 2 ranks, then 1 after the first requeue, then 2 (SLURM_RESTART_COUNT):
#   1. `scancel --signal=USR1 --batch JOB` (what --signal=B:USR1@T sends before a time limit):
#      srs run records the stop, the job checkpoints and leaves, srs run exits 75 and Slurm
#      requeues the job for that status (RequeueExit=75);
#   2. `scontrol requeue JOB` (what preemption does): Slurm's SIGTERM reaches srs run, mpiexec,
#      the ranks and the private daemons at once; the job still checkpoints and leaves, Slurm
#      requeues it;
#   3. the same script resumes each time (a plain `srs run` resumes) and finishes; the field
#      equals an uninterrupted run's bit for bit, and the history shows the three runs.
# Exit 77 (skipped) where Slurm cannot run (not root, packages missing).
# shellcheck source-path=SCRIPTDIR source=slurm_lib.sh
source "$(dirname "$0")/slurm_lib.sh"
: "${SRS_TOOL:?}" "${HEAT2D:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
test_dir=$(mktemp -d "${TMPDIR:-/tmp}/srs-slurm-test.XXXXXX")
cleanup() {
  slurm_stop
  if [ -n "${keep_on_failure:-}" ] && [ -z "${passed:-}" ]; then
    echo "kept $test_dir" >&2
  else
    rm -rf "$test_dir"
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM
unset SRS_RSS SRS_CONFIG SRS_TOKEN_FILE SRS_DEPOT SRS_HOST SRS_RESUME SLURM_JOB_ID
PATH="$(dirname "$SRS_TOOL"):$PATH"
export SRS_APP=heat PATH
args=(--nx 48 --ny 40 --steps 2500 --sleep-ms 4)

# The uninterrupted reference, outside Slurm.
mkdir -p "$test_dir/ref" "$test_dir/job"
(cd "$test_dir/ref" && srs run -n 2 -- "$HEAT2D" "${args[@]}" --sleep-ms 0 --out ref.bin) \
  >"$test_dir/ref.out" 2>&1 || fail "reference run: $(cat "$test_dir/ref.out")"

rc=0
slurm_extra_conf="RequeueExit=75"
slurm_start "$test_dir/slurm" || rc=$?
[ "$rc" = 0 ] || exit "$rc"
scontrol show config | grep -q 'RequeueExit *= 75' || fail "RequeueExit not in effect"

cat >"$test_dir/job/heat.sbatch" <<SCRIPT
#!/bin/bash
#SBATCH --job-name=heat --ntasks=2 --requeue --open-mode=append
ranks=(2 1 2)
n=\${ranks[\${SLURM_RESTART_COUNT:-0}]:-2}
exec srs run -n "\$n" -- "$HEAT2D" ${args[*]} --out field.bin
SCRIPT
job=$(cd "$test_dir/job" && sbatch --parsable --chdir="$test_dir/job" \
  --output="$test_dir/job/slurm.out" heat.sbatch) || fail "sbatch failed"
echo "slurm job $job ($(date -u +%T))"

restarts() { scontrol show job "$job" | grep -o 'Restarts=[0-9]*' | cut -d= -f2; }
job_state() { scontrol show job "$job" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
# Waits until the job runs the solver (attempt $1): the private RSS shows the run as running.
wait_solver_running() {
  slurm_wait "[ \"\$(restarts)\" = $1 ]" 120 || fail "attempt $1 never came: $(job_state)"
  slurm_wait "[ \"\$(restarts)\" = $1 ] && (cd '$test_dir/job' && srs status heat) | grep -q running" 120 ||
    fail "attempt $1 never ran the solver: $(job_state) $(cat "$test_dir/job/slurm.out")"
  sleep 1  # let it compute a little past its start
}

wait_solver_running 0
scancel --signal=USR1 --batch "$job" || fail "scancel --signal=USR1 --batch"
wait_solver_running 1
scontrol requeue "$job" || fail "scontrol requeue"
wait_solver_running 2
slurm_wait "[ \"\$(job_state)\" = COMPLETED ]" 240 ||
  fail "the job did not complete: $(job_state) $(cat "$test_dir/job/slurm.out")"

out=$(cat "$test_dir/job/slurm.out")
[ "$(grep -c 'stopped with checkpoint epoch' <<<"$out")" = 2 ] || fail "two stops expected: $out"
[ "$(grep -c 'resuming heat from checkpoint epoch' <<<"$out")" = 2 ] || fail "two resumes: $out"
grep -q 'SIGUSR1\|User defined signal 1' <<<"$out" || fail "USR1 not reported: $out"
grep -q 'Terminated' <<<"$out" || fail "SIGTERM not reported: $out"
grep -q 'restart count 2' <<<"$out" || fail "SLURM_RESTART_COUNT not seen: $out"
grep -q "heat finished (2 ranks" <<<"$out" || fail "no finish: $out"
cmp "$test_dir/ref/ref.bin" "$test_dir/job/field.bin" ||
  fail "the requeued job's field differs from the uninterrupted run's"
hist=$(cd "$test_dir/job" && srs history heat) || fail "srs history: $hist"
echo "$hist"
passed=1
echo PASS
