#!/usr/bin/env bash
# Resume semantics and preemption of `srs run` with the real daemons, mpiexec and heat solver:
#  1. a plain re-run after a stop resumes (and says from which epoch, with the old/new counts);
#  2. --fresh keeps the old checkpoint until the fresh run commits: the fresh run's ranks are
#     killed (kill -9) before its first commit, srs run ends the run at the RSS at once, and a
#     plain re-run resumes the OLD checkpoint with no --force and no lease wait; a fresh run that
#     commits drops it;
#  3. SIGTERM to srs run = checkpoint and stop (exit 75); the plain re-run resumes;
#  4. a second signal (SIGINT, then SIGTERM) = stop at once (no checkpoint): no rank survives,
#     the run is ended, and an immediate resume from the last committed checkpoint needs no
#     --force;
#  5. the resumed field equals an uninterrupted run's bit for bit;
#  7. after kill -9 of srs run itself, the next srs run waits out the dead run's lease, saying
#     how many seconds are left, instead of failing;
#  8. SIGTERM to srs run, mpiexec, the proxy, the ranks and the private daemons at once (as a
#     batch system signals a job) still ends in a committed stop checkpoint;
#  6. SRS_MPIEXEC / --mpiexec take a name on PATH; a missing launcher or program is named.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${HEAT2D:?}"
fresh_dir
bg=""
trap '[ -n "$bg" ] && kill -KILL $bg 2>/dev/null; wait; rm -rf "$test_dir"' EXIT
trap 'exit 143' TERM
export SRS_APP=heat
grid=(--nx 40 --ny 30)

# Every process below $1 (from ps), one pid a line.
descendants() {
  ps -eo pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; while (q in parent && q != root && q > 1) q = parent[q];
                              if (q == root && p != root) print p } }'
}
# The heat2d ranks launched by srs run $1.
ranks_of() { for p in $(descendants "$1"); do [ "$(cat /proc/"$p"/comm 2>/dev/null)" = heat2d ] && echo "$p"; done; }
# Starts a long heat run in the background (srs run's pid in $bg, output in $1).
start_long() {
  local out=$1; shift
  # 20 ms a step: section 5 resumes within a few hundred steps, well inside the 2000-step
  # reference (whose 3-rank run on 2 cores is the slowest part of the test).
  "$SRS" run "$@" -- "$HEAT2D" "${grid[@]}" --steps 100000 --sleep-ms 20 --out long.bin >"$out" 2>&1 &
  bg=$!
  wait_running heat
}
committed_epochs() {
  "$SRS" ls heat | grep -E '^checkpoint [0-9]+ +committed' | awk '{print $2}' | sort -n | tr '\n' ' '
}

# --- 6. launcher lookup -------------------------------------------------------------------
expect_status 1 "MPI launcher \(--mpiexec\) no-such-mpiexec cannot be started: not found on PATH" \
  "$SRS" run --mpiexec no-such-mpiexec -n 1 -- "$HEAT2D"
expect_status 1 "the program ./no-such-solver cannot be started" "$SRS" run -n 1 -- ./no-such-solver
SRS_MPIEXEC=mpiexec.mpich expect_status 0 "heat finished \(2 ranks" \
  "$SRS" run -n 2 -- "$HEAT2D" "${grid[@]}" --steps 2000 --out ref.bin
cp ref.bin ref2000.bin

# --- 1. stop, plain re-run resumes --------------------------------------------------------
start_long run1.out -n 3
expect_status 0 "heat stopped: checkpoint epoch [0-9]+ committed" "$SRS" stop heat --wait --timeout 120
wait "$bg" || fail "srs run exited non-zero after srs stop: $(cat run1.out)"
bg=""
e1=$(committed_epochs | awk '{print $NF}')
[ -n "$e1" ] || fail "no committed checkpoint after the stop"
expect_status 0 "resuming heat from checkpoint epoch $e1 .*3 ranks then, 2 now" \
  "$SRS" run -n 2 -- "$HEAT2D" "${grid[@]}" --steps 1 --out x.bin
grep -q "heat finished" <<<"$last_output" || fail "the resumed run did not finish: $last_output"

# --- 2. --fresh keeps the old checkpoint until it commits ---------------------------------
start_long run2.out -n 2
expect_status 0 "stopped: checkpoint epoch" "$SRS" stop heat --wait --timeout 120
wait "$bg" || fail "second long run: $(cat run2.out)"
bg=""
old=$(committed_epochs | awk '{print $NF}')
start_long fresh.out -n 2 --fresh
grep -q "starting heat fresh (--fresh); its checkpoint epoch $old stays resumable" fresh.out ||
  fail "--fresh did not say it keeps epoch $old: $(cat fresh.out)"
pids=$(ranks_of "$bg")
[ -n "$pids" ] || fail "no ranks found below srs run $bg"
# shellcheck disable=SC2086 # a list of pids
kill -KILL $pids
rc=0
wait "$bg" || rc=$?
bg=""
[ "$rc" != 0 ] || fail "srs run exited 0 after its ranks were killed"
grep -q "ended run heat-[0-9]* at the RSS (lost)" fresh.out || fail "run not ended: $(cat fresh.out)"
[ "$(committed_epochs)" = "$old " ] || fail "the old checkpoint $old is gone: $(committed_epochs)"
expect_status 0 "heat +lost" "$SRS" status heat
# At once, no --force, no lease wait: resumes the old checkpoint and stops again.
start_long run3.out -n 3
grep -q "resuming heat from checkpoint epoch $old" run3.out || fail "not resumed: $(cat run3.out)"
grep -q "lease runs out" run3.out && fail "the resume waited for a lease: $(cat run3.out)"
# --- 3. SIGTERM to srs run: checkpoint and stop, exit 75 ----------------------------------
kill -TERM "$bg"
rc=0
wait "$bg" || rc=$?
bg=""
[ "$rc" = 75 ] || fail "srs run exited $rc after SIGTERM, want 75: $(cat run3.out)"
grep -q "stop recorded" run3.out || fail "no stop recorded: $(cat run3.out)"
grep -q "heat stopped with checkpoint epoch" run3.out || fail "no stop checkpoint: $(cat run3.out)"
e3=$(committed_epochs | awk '{print $NF}')
[ "$e3" -gt "$old" ] || fail "no new checkpoint after SIGTERM: $(committed_epochs)"
# A fresh run that commits drops the earlier checkpoints.
start_long fresh2.out -n 2 --fresh
expect_status 0 "checkpoint requested" "$SRS" checkpoint heat
only_new() { [ "$(committed_epochs | wc -w)" = 1 ] && [ "$(committed_epochs)" != "$e3 " ]; }
for _ in $(seq 300); do only_new && break; sleep 0.1; done
only_new || fail "after the fresh run's commit the old checkpoint $e3 is still there: $(committed_epochs)"
# --- 4. a second signal: stop at once ---------------------------------------------------------
pids=$(ranks_of "$bg")
# Back to back, and two different signals: two pending SIGINTs could merge into one. The ranks
# are frozen first, so the job cannot finish the stop checkpoint the first signal asks for before
# srs run has handled the second (on a loaded machine it sometimes did): the immediate stop kills
# them with SIGKILL, which a stopped process does not survive.
# shellcheck disable=SC2086 # a list of pids
kill -STOP $pids
kill -INT "$bg"
kill -TERM "$bg"
rc=0
wait "$bg" || rc=$?
bg=""
if [ "$rc" = 0 ] || [ "$rc" = 75 ]; then fail "srs run exited $rc after two signals: $(cat fresh2.out)"; fi
grep -q "stopping heat at once" fresh2.out || fail "no immediate stop: $(cat fresh2.out)"
# Alive = exists and is not a zombie (an orphan waits for init to reap it).
alive() { [ -r "/proc/$1/stat" ] && ! awk '{exit !($3 == "Z")}' "/proc/$1/stat" 2>/dev/null; }
for p in $pids; do alive "$p" && fail "rank $p survived the immediate stop: $(cat "/proc/$p/stat")"; done
expect_status 0 "heat +lost" "$SRS" status heat
# --- 5. resume at once to the end: equal to the uninterrupted run -------------------------
expect_status 0 "heat finished \(3 ranks" "$SRS" run -n 3 -- "$HEAT2D" "${grid[@]}" --steps 2000 --out ref.bin
grep -q "resuming heat from checkpoint epoch" <<<"$last_output" || fail "not resumed: $last_output"
step=$(grep -oE 'resumed at step [0-9]+' <<<"$last_output" | awk '{print $4}')
[ "${step:-0}" -lt 2000 ] || fail "resumed past step 2000 ($step): make the reference longer"
grep -q "lease runs out" <<<"$last_output" && fail "waited for a lease: $last_output"
cmp ref.bin ref2000.bin || fail "the resumed field differs from the uninterrupted run's"
# --- 7. srs run itself killed: nobody ends the run, the next one waits out its lease --------
start_long killed.out -n 2
kill -KILL "$bg"
wait "$bg" 2>/dev/null
bg=""
expect_status 0 "heat finished \(2 ranks" "$SRS" run -n 2 -- "$HEAT2D" "${grid[@]}" --steps 5
grep -qE "previous run heat-[0-9]+ died without ending; its lease runs out in [0-9]+ s, waiting" \
  <<<"$last_output" || fail "no lease wait reported: $last_output"
# --- 8. SIGTERM to every process at once (what Slurm does to a job it requeues or preempts) --
start_long all.out -n 2
# shellcheck disable=SC2046 # a list of pids
kill -TERM "$bg" $(descendants "$bg")
rc=0
wait "$bg" || rc=$?
bg=""
[ "$rc" = 75 ] || fail "srs run exited $rc after SIGTERM to the whole tree, want 75: $(cat all.out)"
grep -q "heat stopped with checkpoint epoch" all.out || fail "no stop checkpoint: $(cat all.out)"
echo PASS
