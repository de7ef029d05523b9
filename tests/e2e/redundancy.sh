#!/usr/bin/env bash
# shellcheck disable=SC2317  # the predicates are called through wait_for
# Redundancy end to end (issue 13) through the real daemons and the real `srs` tool, with
# tests/e2e/cxx_solver (every restored element is checked against the known function of the
# iteration: "wrong=0" means bit for bit).
#
#   redundancy.sh SOLVER CASE
#   partner     (2 depots, hosts hostA and hostB) redundancy = partner on a rank of each host:
#               after `srs stop`, `srs ls` shows 2 copies of every piece on the two depots (both
#               "ok") and each depot holds 2 pieces; the job resumes exactly, takes periodic
#               (async) checkpoints with partner copies, and SRS_Finish deletes every copy.
#   copy_fails  (2 depots) a partner job commits a checkpoint, then depot B is killed (kill -9):
#               the stop checkpoint cannot get its copies, fails as a whole naming depot B, and
#               the first checkpoint stays the committed restart point.
#   one_domain  (1 depot) redundancy = partner: SRS_Init fails at once, naming the redundancy
#               and the failure domains, and nothing is registered.
# Env (with-daemons): SRS_RSS, SRS_APP, SRS_TEST_WORKDIR, SRS_DEPOT_DIRS, SRS_DEPOT_ADDRS;
# SRS_TOOL; SRS_MPIEXEC.
set -u
solver=$1 case=$2
E2E_NAME="redundancy($case)"
# shellcheck source-path=SCRIPTDIR source=e2e_lib.sh
. "$(dirname "$0")/e2e_lib.sh"

case_partner() {
  read -r depot_a depot_b <<<"$SRS_DEPOT_ADDRS"
  read -r dir_a dir_b <<<"$SRS_DEPOT_DIRS"
  export SRS_REDUNDANCY=partner
  SRS_RESUME=no run_two a --n 200003 --iters 1000000 --sleep-ms 5
  wait_for 60 "progress" log_has a "^ITER"
  "$SRS" stop "$job" --wait --timeout 120 >"$w/a.stop.log" 2>&1 ||
    fail "srs stop failed: $(cat "$w/a.stop.log")"
  wait "$bg" || fail "the job exited $? after the stop"
  bg=""
  s=$(sed -n 's/^STOPPED iter=//p' "$w/a.log")
  [ -n "$s" ] || fail "no STOPPED line"
  ls_out=$("$SRS" ls "$job")
  echo "$ls_out"
  grep -q "redundancy: 2 copies of every piece" <<<"$ls_out" || fail "no redundancy line"
  # Rank 0 (hostA) first on A, copied to B; rank 1 (hostB) the other way round.
  grep -qE "^  0 .*$depot_a .* $depot_a hostA ok; depot-[0-9a-f]+ $depot_b hostB ok" <<<"$ls_out" ||
    fail "rank 0 is not on A with a copy on B: $ls_out"
  grep -qE "^  1 .*$depot_b .* $depot_b hostB ok; depot-[0-9a-f]+ $depot_a hostA ok" <<<"$ls_out" ||
    fail "rank 1 is not on B with a copy on A: $ls_out"
  json=$("$SRS" ls "$job" --json)
  grep -q '"copies_required":2' <<<"$json" || fail "ls --json lacks copies_required: $json"
  (($(pieces_in "$dir_a") == 2 && $(pieces_in "$dir_b") == 2)) ||
    fail "each depot should hold 2 pieces: A $(pieces_in "$dir_a"), B $(pieces_in "$dir_b")"
  # Resume exactly, then run with periodic (asynchronous) checkpoints, each with its copies.
  SRS_RESUME=yes SRS_CHECKPOINT_INTERVAL=1 run_two b --n 200003 --iters $((s + 150)) --sleep-ms 20
  wait "$bg" || fail "the resumed run exited $?"
  bg=""
  grep -q "^RESUMED iter=$s np=2 wrong=0" "$w/b.log" || fail "bad resume: $(grep RESUMED "$w/b.log")"
  log_has b "^DONE iter=$((s + 150))" || fail "the resumed run did not finish"
  ! log_has b "ERROR" || fail "errors in the resumed run"
  # The periodic checkpoints of the resumed run were committed with their copies (retention
  # deleted all but the last, SRS_Finish that one).
  periodic=$("$SRS" ls --all "$job" | grep -c "^checkpoint [0-9]*  deleted  reason periodic")
  ((periodic >= 1)) || fail "no periodic checkpoint was committed with partner copies"
  # SRS_Finish: every copy of every kept checkpoint is deleted (asynchronously).
  none_left() { (($(pieces_in "$dir_a") + $(pieces_in "$dir_b") == 0)); }
  wait_for 30 "every copy deleted after SRS_Finish" none_left
  say "partner copies on both hosts, resumed exactly at $s, $periodic periodic checkpoints, nothing left"
}

case_copy_fails() {
  read -r _ depot_b <<<"$SRS_DEPOT_ADDRS"
  read -r _ pid_b <<<"$SRS_DEPOT_PIDS"
  export SRS_REDUNDANCY=partner SRS_RPC_TIMEOUT=5
  SRS_RESUME=no run_two a --n 50003 --iters 1000000 --sleep-ms 5
  wait_for 60 "progress" log_has a "^ITER"
  "$SRS" checkpoint "$job" >"$w/ck.log" 2>&1 || fail "srs checkpoint failed: $(cat "$w/ck.log")"
  committed() { "$SRS" ls "$job" | grep -q "^checkpoint [0-9]*  committed"; }
  wait_for 60 "the first checkpoint committed" committed
  first=$("$SRS" ls "$job" | awk '$1 == "checkpoint" && $3 == "committed" {print $2; exit}')
  echo "$pid_b" >>"$SRS_TEST_WORKDIR/daemons.killed"
  kill -KILL "$pid_b"
  # Within the RSS's 15 s window depot B still counts as up: it is chosen as a target (and is
  # rank 1's own depot), so the copies fail rather than the placement.
  if "$SRS" stop "$job" --wait --timeout 120 >"$w/stop.log" 2>&1; then
    fail "the stop checkpoint committed without depot B: $(cat "$w/stop.log")"
  fi
  ended() { ! kill -0 "$bg" 2>/dev/null; }
  wait_for 120 "the job ends after its stop checkpoint failed" ended
  wait "$bg" && fail "the job exited 0 although its stop checkpoint failed"
  bg=""
  grep -q "to depot depot-[0-9a-f]* at $depot_b" "$w/stop.log" ||
    fail "srs stop does not say which copy failed (depot B at $depot_b)"
  ls_out=$("$SRS" ls --all "$job")
  echo "$ls_out"
  now=$(awk '$1 == "checkpoint" && $3 == "committed" {print $2}' <<<"$ls_out")
  [ "$now" = "$first" ] || fail "committed epochs now '$now', expected only $first"
  grep -qE "^checkpoint [0-9]+  discarded" <<<"$ls_out" || fail "the failed checkpoint was not discarded"
  say "stop checkpoint refused: $(grep -h -m1 -o "copying the epoch [^(]*" "$w/stop.log" | head -1); epoch $first still committed"
}

case_one_domain() {
  export SRS_REDUNDANCY=partner
  t0=$SECONDS
  # One process started directly (MPI singleton): its stderr reaches the log for sure, while
  # mpiexec may drop what a rank printed just before MPI_Abort tore the job down.
  if SRS_RESUME=no "$solver" --n 1000 --iters 100 >"$w/a.log" 2>&1; then
    fail "the job ran with partner redundancy and a single failure domain"
  fi
  ((SECONDS - t0 < 30)) || fail "SRS_Init took $((SECONDS - t0)) s to fail"
  log_has a "redundancy = partner" || fail "the error does not name the redundancy"
  log_has a "failure domains with a live depot" || fail "the error does not explain why"
  if "$SRS" ls "$job" >"$w/ls.out" 2>&1; then fail "the refused job was registered"; fi
  say "refused at SRS_Init in $((SECONDS - t0)) s: $(grep -m1 ERROR "$w/a.log")"
}

"case_$case"
