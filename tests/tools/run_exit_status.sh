#!/usr/bin/env bash
# The exit status of `srs run` follows tools/README.md ("Exit status"), with the real private
# daemons and mpiexec:
#  1. SIGTERM while the private daemons start, before anything is launched: exit 75 (nothing was
#     lost; Slurm's RequeueExit=75 requeues the job) and one line saying so; nothing launched;
#  2. ranks killed by SIGKILL: 128 + 9 = 137 (mpiexec itself exits 9 for that), while a job that
#     exits 9 on its own still gives 9;
#  3. a second signal that differs from the first (SIGTERM, then SIGINT) is named as received.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${HEAT2D:?}"
fresh_dir
bg=""
trap '[ -n "$bg" ] && kill -KILL $bg 2>/dev/null; wait; rm -rf "$test_dir"' EXIT
trap 'exit 143' TERM
export SRS_APP=heat
# The heat2d ranks below srs run $1 (not other tests' on a shared machine).
ranks_of() {
  ps -eo pid=,ppid=,comm= | awk -v root="$1" '
    { parent[$1] = $2; comm[$1] = $3 }
    END { for (p in parent) { q = p; while (q in parent && q != root && q > 1) q = parent[q];
                              if (q == root && comm[p] == "heat2d") print p } }'
}

# --- 1. a preemption signal before launching ----------------------------------------------------
# A launcher that leaves a trace: it must never run.
cat >fake-mpiexec <<'SH'
#!/bin/sh
touch "$(dirname "$0")/launched"
exec mpiexec.mpich "$@"
SH
chmod +x fake-mpiexec
"$SRS" run --mpiexec "$PWD/fake-mpiexec" -n 1 -- "$HEAT2D" --steps 10 >early.out 2>&1 &
bg=$!
# .srs/ appears once srs run starts its daemons (its signal handlers are in place by then).
for _ in $(seq 300); do [ -e .srs/rss.log ] && break; sleep 0.01; done
[ -e .srs/rss.log ] || fail "srs run never started its private daemons: $(cat early.out)"
kill -TERM "$bg"
rc=0
wait "$bg" || rc=$?
bg=""
[ "$rc" = 75 ] || fail "SIGTERM before launching: exit $rc, want 75: $(cat early.out)"
grep -q "Terminated before launching heat; nothing was started or lost" early.out ||
  fail "no clear line for the early signal: $(cat early.out)"
[ ! -e launched ] || fail "the launcher ran after the signal: $(cat early.out)"

# --- 2. killed ranks: 128 + signal; a job's own status as it is --------------------------------
# The ranks live half a second first: ranks that all end within milliseconds of their start race
# Hydra's own set-up, and under load mpiexec then dies of SIGPIPE on a proxy's closed control
# socket (141) or fails an assertion (255) whatever the ranks did (seen 3 in 40 runs at load 2).
# shellcheck disable=SC2016 # $$ is the rank's shell's
expect_status 137 "exited with status 137" "$SRS" run -n 2 -- /bin/sh -c 'sleep 0.5; kill -KILL $$'
expect_status 9 "exited with status 9" "$SRS" run -n 2 -- /bin/sh -c 'sleep 0.5; exit 9'

# --- 3. the second signal is named ---------------------------------------------------------------
"$SRS" run -n 2 -- "$HEAT2D" --nx 40 --ny 30 --steps 100000 --sleep-ms 2 >two.out 2>&1 &
bg=$!
wait_running heat
pids=$(ranks_of "$bg")
[ -n "$pids" ] || fail "no heat2d ranks"
# Frozen, so the checkpoint the first signal asks for cannot finish before the second arrives.
# shellcheck disable=SC2086 # a list of pids
kill -STOP $pids
kill -TERM "$bg"
for _ in $(seq 100); do grep -q "asking heat to checkpoint" two.out && break; sleep 0.05; done
kill -INT "$bg"
rc=0
wait "$bg" || rc=$?
bg=""
grep -q "srs run: Interrupt (a second signal): stopping heat at once" two.out ||
  fail "the second signal (SIGINT) is not named: $(cat two.out)"
grep -q "interrupted (Terminated, then Interrupt)" two.out ||
  fail "the last line does not name both signals: $(cat two.out)"
[ "$rc" = 137 ] || fail "stopped at once: exit $rc, want 137: $(cat two.out)"
echo PASS
