#!/usr/bin/env bash
# shellcheck disable=SC2317  # the predicates are called through wait_for
# End-to-end claims through the real daemons (tests/support/with-daemons.sh) and the real `srs`
# command line, with tests/e2e/cxx_solver (written against srs.hpp; every element it restores is
# checked against the known function of the iteration, so "resumed from iteration I with the right
# data" identifies the checkpoint exactly). One case per CTest test:
#
#   e2e.sh SOLVER CASE
#   cxx_restart      srs stop on 3 ranks, srs run --resume on 2, stop, resume on 4 to the end
#   checkpoint_cmd   `srs checkpoint JOB` makes a new committed epoch (seen in `srs ls`)
#   resume_epoch     keep=3; `srs run --resume --epoch E` restarts from E (not the newest): the
#                    iteration E holds comes from `srs export --epoch E`
#   keep             keep=2: after many checkpoints exactly 2 stay committed, the older ones are
#                    deleted, and the depot directory holds exactly their pieces
#   full_periodic    (depot capacity ~1.5 checkpoints) the second periodic checkpoint finds the
#                    depot full: a clear error, epoch 1 intact, the job resumes from it
#   full_stop        (same capacity) a stop's checkpoint finds the depot full: a clear error, the
#                    job ends, the previous checkpoint is intact and resumable
#   multi_depot      (2 depots, host names hostA/hostB) 3 ranks on two "hosts" write to both
#                    depots; resumed on 2 ranks of hostB (reading across) and on 4 of both
# Env (with-daemons): SRS_RSS, SRS_TOKEN_FILE, SRS_APP, SRS_TEST_WORKDIR, SRS_DEPOT_DIRS,
# SRS_DEPOT_ADDRS; SRS_TOOL; SRS_MPIEXEC.
set -u
solver=$1 case=$2
E2E_NAME="e2e($case)"
# shellcheck source-path=SCRIPTDIR source=e2e_lib.sh
. "$(dirname "$0")/e2e_lib.sh"
running() { "$SRS" status "$job" 2>/dev/null | grep -q running; }
# Epochs in the given state (committed by default) per `srs ls --all`, oldest first.
epochs() { "$SRS" ls --all "$job" | awk -v s="${1:-committed}" '$1 == "checkpoint" && $3 == s {print $2}'; }
count_epochs() { epochs "$@" | wc -l; }
depot_pieces() {  # every .h5 piece in every depot directory
  local n=0 d
  for d in $SRS_DEPOT_DIRS; do n=$((n + $(find "$d/pieces" -name '*.h5' 2>/dev/null | wc -l))); done
  echo "$n"
}
# start NAME NP ARGS...: `srs run -n NP -- SOLVER ARGS` in the background (a new job name, so it
# starts fresh whatever the default of a plain `srs run` is).
start() {
  local name=$1 np=$2
  shift 2
  "$SRS" run -n "$np" -- "$solver" "$@" >"$w/$name.log" 2>&1 &
  bg=$!
  wait_for 60 "$name running" running
}
# stop_job NAME: `srs stop --wait` must succeed and the run must end with STOPPED; sets stopped
# to the iteration it stopped at (not echoed: `wait` needs this shell, not a subshell).
stop_job() {
  "$SRS" stop "$job" --wait --timeout 120 >"$w/$1.stop.log" 2>&1 || fail "srs stop failed: $(cat "$w/$1.stop.log")"
  ended() { ! kill -0 "$bg" 2>/dev/null; }
  wait_for 120 "$1: the job ends after srs stop" ended
  wait "$bg" || fail "$1: srs run exited $? after the stop"
  bg=""
  log_has "$1" "^STOPPED iter=" || fail "$1: no STOPPED line"
  stopped=$(sed -n 's/^STOPPED iter=//p' "$w/$1.log")
}
tree() {  # PID and its descendants
  local child
  echo "$1"
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$child"; done
}
resumed_iter() { sed -n 's/^RESUMED iter=\([0-9]*\) .*/\1/p' "$w/$1.log"; }

case_cxx_restart() {
  start a 3 --n 100003 --iters 1000000 --sleep-ms 5
  wait_for 60 "progress" log_has a "^ITER"
  stop_job a
  s1=$stopped
  "$SRS" run --resume -n 2 -- "$solver" --n 100003 --iters 1000000 --sleep-ms 5 >"$w/b.log" 2>&1 &
  bg=$!
  wait_for 60 "resume on 2" log_has b "^RESUMED"
  [ "$(resumed_iter b)" = "$s1" ] || fail "resumed at $(resumed_iter b), stopped at $s1"
  grep -q "^RESUMED iter=$s1 np=2 wrong=0" "$w/b.log" || fail "bad resume: $(grep RESUMED "$w/b.log")"
  stop_job b
  s2=$stopped
  ((s2 >= s1)) || fail "went back: $s1 -> $s2"
  "$SRS" run --resume -n 4 -- "$solver" --n 100003 --iters $((s2 + 20)) >"$w/c.log" 2>&1 ||
    fail "final run failed"
  grep -q "^RESUMED iter=$s2 np=4 wrong=0" "$w/c.log" || fail "bad resume on 4: $(grep RESUMED "$w/c.log")"
  log_has c "^DONE iter=$((s2 + 20))" || fail "no DONE"
  say "srs.hpp solver stopped at $s1 (3 ranks), $s2 (2 ranks), finished on 4"
}

case_checkpoint_cmd() {
  start a 2 --n 50000 --iters 1000000 --sleep-ms 5
  wait_for 60 "progress" log_has a "^ITER"
  before=$(count_epochs)
  ((before == 0)) || fail "$before committed epochs before any checkpoint was asked for"
  "$SRS" checkpoint "$job" >"$w/ck.log" 2>&1 || fail "srs checkpoint failed: $(cat "$w/ck.log")"
  have_one() { (($(count_epochs) == 1)); }
  wait_for 60 "a committed epoch after srs checkpoint" have_one
  line=$("$SRS" ls "$job" | grep "^checkpoint ")
  grep -q "committed  reason requested" <<<"$line" || fail "not a requested checkpoint: $line"
  kill -0 "$bg" 2>/dev/null || fail "srs checkpoint stopped the job"
  e1=$(epochs)
  "$SRS" checkpoint "$job" >"$w/ck.log" 2>&1 || fail "second srs checkpoint failed"
  newer() { (($(epochs | tail -1) > e1)); }
  wait_for 60 "a newer committed epoch after the second srs checkpoint" newer
  stop_job a
  say "srs checkpoint committed new epochs: $(epochs | tr '\n' ' ')"
}

case_resume_epoch() {
  export SRS_KEEP=3
  start a 2 --n 40000 --iters 1000000 --sleep-ms 2 --checkpoint-every 10
  have_five() { (($(count_epochs committed) + $(count_epochs deleted) >= 5)); }
  wait_for 120 "five checkpoints" have_five
  stop_job a
  mapfile -t kept < <(epochs)
  ((${#kept[@]} == 3)) || fail "keep=3 but ${#kept[@]} committed: ${kept[*]}"
  e=${kept[0]} newest=${kept[2]}
  # What epoch E holds, independently of the restart path: srs export --epoch E.
  "$SRS" export "$job" "$w/e.h5" --epoch "$e" >"$w/export.log" 2>&1 || fail "srs export --epoch $e failed"
  iter_e=$(/usr/bin/python3 -c "import h5py; print(int(h5py.File('$w/e.h5')['iter'][0]))") ||
    fail "cannot read iter from the export of epoch $e"
  "$SRS" export "$job" "$w/n.h5" --epoch "$newest" >"$w/export.log" 2>&1 || fail "export of $newest failed"
  iter_n=$(/usr/bin/python3 -c "import h5py; print(int(h5py.File('$w/n.h5')['iter'][0]))")
  ((iter_e < iter_n)) || fail "epoch $e holds iteration $iter_e, the newest ($newest) $iter_n"
  "$SRS" run --resume --epoch "$e" -n 3 -- "$solver" --n 40000 --iters $((iter_e + 3)) \
    >"$w/b.log" 2>&1 || fail "srs run --resume --epoch $e failed"
  grep -q "^RESUMED iter=$iter_e np=3 wrong=0" "$w/b.log" ||
    fail "--epoch $e (iteration $iter_e) resumed: $(grep RESUMED "$w/b.log")"
  log_has b "^DONE iter=$((iter_e + 3))" || fail "no DONE"
  say "resumed from epoch $e (iteration $iter_e), not the newest $newest (iteration $iter_n)"
}

case_keep() {
  export SRS_KEEP=2
  start a 3 --n 30000 --iters 1000000 --sleep-ms 2 --checkpoint-every 5
  have_six() { (($(count_epochs deleted) >= 4)); }
  wait_for 120 "six checkpoints" have_six
  stop_job a
  s=$stopped
  mapfile -t kept < <(epochs)
  ((${#kept[@]} == 2)) || fail "keep=2 but ${#kept[@]} committed: ${kept[*]}"
  [ "$(epochs | tail -1)" -gt "$(epochs deleted | tail -1)" ] || fail "an older checkpoint was kept instead of a newer one"
  pieces_match() { (($(depot_pieces) == 2 * 3)); }
  wait_for 60 "exactly the 6 pieces of the 2 kept checkpoints in the depot (have $(depot_pieces))" pieces_match
  deleted=$(epochs deleted | tr '\n' ' ')
  "$SRS" run --resume -n 2 -- "$solver" --n 30000 --iters $((s + 1)) >"$w/b.log" 2>&1 || fail "resume failed"
  grep -q "^RESUMED iter=$s np=2 wrong=0" "$w/b.log" || fail "bad resume: $(grep RESUMED "$w/b.log")"
  say "keep=2: committed ${kept[*]}, deleted $deleted, 6 pieces on disk"
}

# full_*: with-daemons started the depot with SRS_TEST_DEPOT_CAPACITY (~1.5 checkpoints).
case_full_periodic() {
  # A failed periodic checkpoint is a warning on stderr; the job goes on (DESIGN §2).
  export SRS_CHECKPOINT_INTERVAL=0.3 SRS_LOG=warning
  "$SRS" run -n 2 -- "$solver" --n 60000 --iters 1000000 --sleep-ms 5 >"$w/a.log" 2>&1 &
  bg=$!
  # The second checkpoint cannot fit: the job either fails with a clear error or goes on (a
  # failed periodic checkpoint may be reported and retried); epoch 1 must stay the restart point.
  has_error() { grep -q "exceeds the depot capacity" "$w/a.log"; }
  wait_for 120 "a clear 'depot capacity' error" has_error
  if kill -0 "$bg" 2>/dev/null; then
    # shellcheck disable=SC2046  # pids
    kill -KILL $(tree "$bg") 2>/dev/null
  fi
  wait "$bg" 2>/dev/null
  bg=""
  mapfile -t kept < <(epochs)
  ((${#kept[@]} == 1)) || fail "expected epoch 1 alone committed, have: ${kept[*]}"
  "$SRS" export "$job" "$w/e.h5" >"$w/export.log" 2>&1 || fail "export failed"
  iter_e=$(/usr/bin/python3 -c "import h5py; print(int(h5py.File('$w/e.h5')['iter'][0]))")
  SRS_CHECKPOINT_INTERVAL=0 "$SRS" run --resume --force -n 3 -- "$solver" --n 60000 --iters $((iter_e + 2)) \
    >"$w/b.log" 2>&1 || fail "resume after a full depot failed"
  grep -q "^RESUMED iter=$iter_e np=3 wrong=0" "$w/b.log" || fail "bad resume: $(grep RESUMED "$w/b.log")"
  say "depot full at the second periodic checkpoint: $(grep -m1 -o 'exceeds the depot capacity.*' "$w/a.log" | head -c 120); resumed from epoch ${kept[0]}"
}

case_full_stop() {
  export SRS_LOG=warning  # a failed checkpoint's reason shows in the job's log
  start a 2 --n 60000 --iters 1000000 --sleep-ms 5
  wait_for 60 "progress" log_has a "^ITER"
  "$SRS" checkpoint "$job" >/dev/null 2>&1 || fail "srs checkpoint failed"
  have_one() { (($(count_epochs) == 1)); }
  wait_for 60 "epoch 1" have_one
  e1=$(epochs)
  # The stop's checkpoint cannot fit next to epoch 1: srs stop --wait must not report success,
  # the job must end with a clear error.
  if "$SRS" stop "$job" --wait --timeout 120 >"$w/a.stop.log" 2>&1; then
    fail "srs stop --wait succeeded although the depot is full: $(cat "$w/a.stop.log")"
  fi
  wait "$bg" && fail "the job exited 0 although its stop checkpoint failed"
  bg=""
  grep -q "exceeds the depot capacity" "$w/a.log" || fail "no clear 'depot capacity' error"
  [ "$(epochs)" = "$e1" ] || fail "committed epochs changed: $(epochs | tr '\n' ' '), expected $e1"
  "$SRS" export "$job" "$w/e.h5" >"$w/export.log" 2>&1 || fail "export failed"
  iter_e=$(/usr/bin/python3 -c "import h5py; print(int(h5py.File('$w/e.h5')['iter'][0]))")
  "$SRS" run --resume --force -n 3 -- "$solver" --n 60000 --iters $((iter_e + 2)) >"$w/b.log" 2>&1 ||
    fail "resume after a failed stop failed"
  grep -q "^RESUMED iter=$iter_e np=3 wrong=0" "$w/b.log" || fail "bad resume: $(grep RESUMED "$w/b.log")"
  say "stop checkpoint refused (depot full): $(head -c 160 "$w/a.stop.log"); resumed from epoch $e1"
}

# multi_depot: with-daemons started 2 depots with host names hostA and hostB.
case_multi_depot() {
  read -r depot_a depot_b <<<"$SRS_DEPOT_ADDRS"
  read -r dir_a dir_b <<<"$SRS_DEPOT_DIRS"
  SRS_RESUME=no "$mpiexec" -n 2 -env SRS_HOST hostA "$solver" --n 70001 --iters 1000000 --sleep-ms 5 : \
    -n 1 -env SRS_HOST hostB "$solver" --n 70001 --iters 1000000 --sleep-ms 5 >"$w/a.log" 2>&1 &
  bg=$!
  wait_for 60 "progress" log_has a "^ITER"
  "$SRS" stop "$job" --wait --timeout 120 >"$w/a.stop.log" 2>&1 || fail "srs stop failed"
  wait "$bg" || fail "the job exited $?"
  bg=""
  s=$(sed -n 's/^STOPPED iter=//p' "$w/a.log")
  ls_out=$("$SRS" ls "$job")
  grep -q "^  [01] .*$depot_a" <<<"$ls_out" || fail "ranks 0, 1 not on hostA's depot: $ls_out"
  grep -q "^  2 .*$depot_b" <<<"$ls_out" || fail "rank 2 not on hostB's depot: $ls_out"
  (($(find "$dir_a/pieces" -name '*.h5' | wc -l) == 2)) || fail "hostA's depot dir lacks its 2 pieces"
  (($(find "$dir_b/pieces" -name '*.h5' | wc -l) == 1)) || fail "hostB's depot dir lacks its piece"
  # 3 -> 2, both on hostB: ranks read hostA's pieces across.
  SRS_RESUME=yes "$mpiexec" -n 2 -env SRS_HOST hostB "$solver" --n 70001 --iters 1000000 --sleep-ms 5 \
    >"$w/b.log" 2>&1 &
  bg=$!
  wait_for 60 "resume on hostB" log_has b "^RESUMED"
  grep -q "^RESUMED iter=$s np=2 wrong=0" "$w/b.log" || fail "bad resume on hostB: $(grep RESUMED "$w/b.log")"
  "$SRS" stop "$job" --wait --timeout 120 >/dev/null 2>&1 || fail "second srs stop failed"
  wait "$bg" || fail "the hostB run exited $?"
  bg=""
  s2=$(sed -n 's/^STOPPED iter=//p' "$w/b.log")
  # 2 -> 4 over both hosts, to the end.
  SRS_RESUME=yes "$mpiexec" -n 1 -env SRS_HOST hostA "$solver" --n 70001 --iters $((s2 + 5)) : \
    -n 3 -env SRS_HOST hostB "$solver" --n 70001 --iters $((s2 + 5)) >"$w/c.log" 2>&1 ||
    fail "the final run failed"
  grep -q "^RESUMED iter=$s2 np=4 wrong=0" "$w/c.log" || fail "bad resume on 4: $(grep RESUMED "$w/c.log")"
  log_has c "^DONE" || fail "no DONE"
  say "pieces on 2 depots (hostA: 2, hostB: 1); resumed 3->2 on hostB at $s, 2->4 on both at $s2"
}

declare -F "case_$case" >/dev/null || fail "unknown case"
"case_$case"
