#!/usr/bin/env bash
# End to end through the real daemons: a solver on 3 ranks is stopped from outside (RSS
# RequestStop with the admin token), resumed on 2 ranks (fewer), stopped again, resumed on 4
# (more) and run to the end; every resume checks every restored element (the solver exits 3 on
# a wrong value). SRS_Finish must then leave no piece in any depot directory.
#   stop_resume.sh SOLVER RSS_ADMIN [EVERY]
# EVERY > 0: the solver also calls SRS_Checkpoint every EVERY sweeps (synchronous checkpoints
# between the stops: from the second on, each piece is written while its begin is under way).
set -u
solver=$1 admin=$2 every=${3:-0}
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
export SRS_LOG=${SRS_LOG:-error}
out=$SRS_TEST_WORKDIR/solver.out
fail() { echo "stop_resume: $*" >&2; cat "$out" >&2; exit 1; }

# Runs the solver on $1 ranks in the background and stops it once it has made progress.
run_and_stop() {
  local np=$1
  : >"$out"
  "$mpiexec" -n "$np" "$solver" 100000 5 10007 "$every" >"$out" 2>&1 &
  local pid=$!
  for _ in $(seq 300); do grep -q "^iter" "$out" && break; sleep 0.05; done
  grep -q "^iter" "$out" || { kill "$pid"; wait "$pid"; fail "no progress on $np ranks"; }
  "$admin" stop "$SRS_APP" || { kill "$pid"; wait "$pid"; fail "RequestStop failed"; }
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid"; fail "not stopped on $np ranks"; fi
  wait "$pid" || fail "solver on $np ranks exited $?"
  stopped=$(sed -n 's/^stopped at iter //p' "$out")
  [ -n "$stopped" ] || fail "no 'stopped at iter' line on $np ranks"
}

run_and_stop 3
first=$stopped
run_and_stop 2
grep -q "^resumed at iter $first on 2 ranks" "$out" || fail "2-rank run did not resume at $first"
second=$stopped
[ "$second" -gt "$first" ] || fail "no progress after resume ($first -> $second)"

"$mpiexec" -n 4 "$solver" $((second + 40)) 1 10007 "$every" >"$out" 2>&1 || fail "final run exited $?"
grep -q "^resumed at iter $second on 4 ranks" "$out" || fail "4-rank run did not resume at $second"
grep -q "^finished at iter $((second + 40))" "$out" || fail "final run did not finish"

# SRS_Finish: the RSS deletes the job's pieces from the depots (maybe asynchronously).
for _ in $(seq 100); do
  # shellcheck disable=SC2086  # a list of directories
  left=$(find $SRS_DEPOT_DIRS -name '*.h5' | wc -l)
  [ "$left" -eq 0 ] && break
  sleep 0.1
done
# shellcheck disable=SC2086
[ "$left" -eq 0 ] || { find $SRS_DEPOT_DIRS -name '*.h5' >&2; fail "$left piece(s) left after SRS_Finish"; }
# Nor anything in a spool: no staged put, no piece written ahead of its put and left behind.
# shellcheck disable=SC2086
spooled=$(find $SRS_DEPOT_DIRS -path '*/spool/*' | wc -l)
# shellcheck disable=SC2086
[ "$spooled" -eq 0 ] || { find $SRS_DEPOT_DIRS -path '*/spool/*' >&2; fail "$spooled file(s) left in a spool"; }
echo "stop_resume: stopped at $first (3 ranks), $second (2 ranks), finished on 4 ranks"
