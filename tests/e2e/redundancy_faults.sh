#!/usr/bin/env bash
# shellcheck disable=SC2317  # the predicates are called through wait_for
# Redundancy under faults (issue 13 review), through the real daemons, the real `srs` tool and
# tests/e2e/cxx_solver (every restored element is checked: "wrong=0" means bit for bit). A job
# of one rank on hostA and one on hostB with redundancy = partner is stopped first (each piece
# then has a copy on hostA's depot and one on hostB's), then:
#
#   redundancy_faults.sh SOLVER CASE
#   corrupt_resume  (2 depots) one byte of every piece file on hostA's depot is flipped (bit rot
#                   on one node): the resume reads the good copies on hostB, exactly.
#   corrupt_repair  (3 depots, hostC idle) the same flip: `srs repair` finds both copies on
#                   hostA corrupt (a depot's Stat must check the bytes, not answer the record it
#                   made at put time), re-makes them on hostC, and a second repair is a no-op.
#   repair_down     (2 depots) hostB's depot is frozen (SIGSTOP) until the RSS marks it down;
#                   `srs repair` then has no other domain to copy to (a listed problem) and must
#                   leave hostB's copies in the record: thawed, a second repair finds every piece
#                   whole, hostB keeps its pieces, and after hostA's node is lost (kill -9,
#                   pieces gone) the job resumes from hostB.
# Env (with-daemons): SRS_RSS, SRS_APP, SRS_TEST_WORKDIR, SRS_DEPOT_DIRS, SRS_DEPOT_ADDRS,
# SRS_DEPOT_PIDS; SRS_TOOL; SRS_MPIEXEC.
set -u
solver=$1 case=$2
E2E_NAME="redundancy_faults($case)"
# shellcheck source-path=SCRIPTDIR source=e2e_lib.sh
. "$(dirname "$0")/e2e_lib.sh"
export SRS_REDUNDANCY=partner
read -r -a dirs <<<"$SRS_DEPOT_DIRS"
read -r -a pids <<<"$SRS_DEPOT_PIDS"
n=50003
# Starts the partner job and stops it; sets $stopped (the iteration it stopped at).
start_and_stop() {
  SRS_RESUME=no run_two a --n $n --iters 1000000 --sleep-ms 5
  wait_for 60 "progress" log_has a "^ITER"
  "$SRS" stop "$job" --wait --timeout 120 >"$w/a.stop.log" 2>&1 ||
    fail "srs stop failed: $(cat "$w/a.stop.log")"
  wait "$bg" || fail "the job exited $? after the stop"
  bg=""
  stopped=$(sed -n 's/^STOPPED iter=//p' "$w/a.log")
  [ -n "$stopped" ] || fail "no STOPPED line"
  (($(pieces_in "${dirs[0]}") == 2 && $(pieces_in "${dirs[1]}") == 2)) ||
    fail "hostA and hostB should hold 2 pieces each"
}
# Flips one byte in the middle of every piece file of depot directory $1 (the mtime changes,
# as with any write: this is not about fooling the depot's cache of verified files).
corrupt_all_in() {
  local f size
  for f in "$1"/pieces/*.h5; do
    size=$(stat -c %s "$f")
    /usr/bin/python3 - "$f" $((size / 2)) <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)
    f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0x40]))
EOF
  done
}
# resume_exactly [HOST]: resumes (one rank on hostA and one on hostB, or both on HOST without
# redundancy) to a few iterations past the stop; every element must be right.
resume_exactly() {
  if (($#)); then
    SRS_REDUNDANCY=none SRS_RESUME=yes "$mpiexec" -n 2 -env SRS_HOST "$1" "$solver" --n $n \
      --iters $((stopped + 5)) --sleep-ms 1 >"$w/b.log" 2>&1 || fail "the resume failed (exit $?)"
  else
    SRS_RESUME=yes run_two b --n $n --iters $((stopped + 5)) --sleep-ms 1
    wait "$bg" || fail "the resume failed (exit $?)"
    bg=""
  fi
  grep -q "^RESUMED iter=$stopped np=2 wrong=0" "$w/b.log" ||
    fail "bad resume: $(grep RESUMED "$w/b.log")"
  log_has b "^DONE" || fail "the resumed run did not finish"
}

case_corrupt_resume() {
  start_and_stop
  corrupt_all_in "${dirs[0]}"
  resume_exactly
  say "every piece on hostA corrupt; resumed exactly at $stopped from hostB's copies"
}

case_corrupt_repair() {
  start_and_stop
  corrupt_all_in "${dirs[0]}"
  out=$("$SRS" repair "$job" 2>&1)
  echo "$out"
  grep -q "2 copies made, 0 problems" <<<"$out" ||
    fail "srs repair did not replace the 2 corrupt copies on hostA: $out"
  again=$("$SRS" repair "$job" 2>&1) || fail "second srs repair: $again"
  grep -q "0 copies made, 0 problems" <<<"$again" || fail "the second repair was not a no-op: $again"
  (($(pieces_in "${dirs[2]}") == 2)) || fail "hostC holds $(pieces_in "${dirs[2]}") pieces, not 2"
  resume_exactly
  say "corrupt copies found and re-made: $(tr '\n' ';' <<<"$out")"
}

case_repair_down() {
  start_and_stop
  kill -STOP "${pids[1]}"
  thawed=0
  thaw() { ((thawed)) || kill -CONT "${pids[1]}" 2>/dev/null; }
  trap 'thaw; cleanup' EXIT
  down() {
    local depots
    depots=$("$SRS" depots 2>/dev/null) || return 1
    grep -qE "hostB.* down" <<<"$depots"
  }
  wait_for 60 "hostB's depot marked down" down
  out=$("$SRS" repair "$job" 2>&1) && fail "srs repair with hostB down reported no problem: $out"
  echo "$out"
  grep -q "no live depot in another failure domain" <<<"$out" || fail "bad repair problem: $out"
  kill -CONT "${pids[1]}"
  thawed=1
  up() {
    local depots
    depots=$("$SRS" depots 2>/dev/null) || return 1
    ! grep -qE "hostB.* down" <<<"$depots"
  }
  wait_for 60 "hostB's depot up again" up
  # hostB back: a repair now finds both copies of every piece healthy (had the first repair
  # dropped hostB's copies from the catalog, this one would copy them to hostB all over again,
  # and their deletion, queued for hostB's return, would race with it).
  again=$("$SRS" repair "$job" 2>&1) || fail "srs repair with hostB back: $again"
  grep -q "0 copies made, 0 problems" <<<"$again" || fail "hostB's copies were not kept: $again"
  (($(pieces_in "${dirs[1]}") == 2)) ||
    fail "hostB lost its copies after the repair: $(pieces_in "${dirs[1]}") left"
  json=$("$SRS" ls --json "$job")
  # shellcheck disable=SC2016  # python, not shell
  /usr/bin/python3 -c '
import json, sys
for c in json.load(sys.stdin)["checkpoints"]:
    if c["state"] == "committed":
        for p in c["pieces"]:
            if len(p.get("copies", [])) != 2:
                sys.exit("rank %s has copies %s" % (p["rank"], p.get("copies")))
' <<<"$json" || fail "the catalog lost hostB's copies: $json"
  # hostA's node is lost: the job must resume from hostB's copies.
  echo "${pids[0]}" >>"$w/daemons.killed"
  kill -KILL "${pids[0]}"
  rm -rf "${dirs[0]}/pieces"
  resume_exactly hostB
  say "a repair while hostB was down kept its copies; resumed from them after hostA was lost"
}

"case_$case"
