#!/usr/bin/env bash
# `srs drop JOB --epoch E` through the real daemons (tests/support/with-daemons.sh) and the real
# `srs`, as the job's owner (its owner secret, no admin token):
#   keep = 2; a requested checkpoint (E1) and the stop's (E2) are committed (and `srs repair`
#   finds both whole: the real depot's Stat agrees with the catalog); a wrong epoch is a
#   clear one-line error (exit 1); another user's owner secret is refused and changes nothing;
#   dropping E2 leaves E1 as the only committed checkpoint, E2's pieces leave the depot
#   directory, and a resume starts from E1 (`srs history --json`: resumed_from_epoch) with every
#   element right (the solver checks them: wrong=0) at an iteration before the stop's.
#
#   drop.sh SOLVER        (env from with-daemons: SRS_RSS, SRS_APP, SRS_TEST_WORKDIR, SRS_DEPOT_DIRS)
set -u
solver=$1
E2E_NAME=drop
# shellcheck source-path=SCRIPTDIR source=e2e_lib.sh
. "$(dirname "$0")/e2e_lib.sh"
# The job's owner holds its owner secret only; nobody here has the admin token.
unset SRS_TOKEN_FILE
export SRS_OWNER_FILE=$w/owner/owners SRS_KEEP=2
running() { local out; out=$("$SRS" status "$job" 2>/dev/null) && grep -q running <<<"$out"; }
epochs() {  # epochs in state ${1:-committed}, oldest first
  local out
  out=$("$SRS" ls --all "$job") || return 1
  awk -v s="${1:-committed}" '$1 == "checkpoint" && $3 == s {print $2}' <<<"$out"
}
depot_pieces() {
  local n=0 d
  for d in $SRS_DEPOT_DIRS; do n=$((n + $(find "$d/pieces" -name '*.h5' 2>/dev/null | wc -l))); done
  echo "$n"
}

# 1. Two committed checkpoints of a 2-rank run: E1 (srs checkpoint), E2 (srs stop).
# Under mpiexec directly (as a batch script would): `srs run` wants a credential before the job
# has an owner secret when no admin token is configured.
SRS_RESUME=no "$mpiexec" -n 2 "$solver" --n 40000 --iters 1000000 --sleep-ms 5 >"$w/a.log" 2>&1 &
bg=$!
started() { log_has a "^ITER" || ! kill -0 "$bg" 2>/dev/null; }
wait_for 60 "progress" started
kill -0 "$bg" 2>/dev/null || fail "the job died at start"
wait_for 30 "srs status shows the job running (with the owner secret)" running
"$SRS" checkpoint "$job" >"$w/ck.log" 2>&1 || fail "srs checkpoint: $(cat "$w/ck.log")"
have_one() { [ "$(epochs | wc -l)" = 1 ]; }
wait_for 60 "a committed checkpoint after srs checkpoint" have_one
e1=$(epochs)
"$SRS" stop "$job" --wait --timeout 120 >"$w/stop.log" 2>&1 || fail "srs stop: $(cat "$w/stop.log")"
wait "$bg" || fail "the job exited $? after the stop"
bg=""
stopped=$(sed -n 's/^STOPPED iter=//p' "$w/a.log")
[ -n "$stopped" ] || fail "no STOPPED line"
mapfile -t kept < <(epochs)
if ((${#kept[@]} != 2)) || [ "${kept[0]}" != "$e1" ]; then
  fail "expected 2 committed epochs from $e1, have: ${kept[*]}"
fi
e2=${kept[1]}
four() { (($(depot_pieces) == 4)); }
wait_for 30 "4 pieces (2 checkpoints x 2 ranks) in the depot, have $(depot_pieces)" four

# Without redundancy every piece needs one copy: `srs repair` checks each (depot Stat: size and
# XXH3 as recorded) and has nothing to do.
repair=$("$SRS" repair "$job" 2>&1) || fail "srs repair of a whole job: $repair"
grep -q "^$job: 0 copies made, 0 problems (4 pieces in 2 committed checkpoints)$" <<<"$repair" ||
  fail "srs repair of a whole job: $repair"
repair=$("$SRS" repair --json "$job" 2>&1) || fail "srs repair --json: $repair"
/usr/bin/python3 -c 'import json,sys; j = json.load(sys.stdin); sys.exit(j != {"made": [], "problems": []})' \
  <<<"$repair" || fail "srs repair --json: $repair"

# 2. A wrong epoch: a clear one-line error, exit non-zero, nothing dropped.
if "$SRS" drop "$job" --epoch 999 >"$w/wrong.out" 2>"$w/wrong.err"; then
  fail "srs drop --epoch 999 succeeded: $(cat "$w/wrong.out")"
fi
[ "$(wc -l <"$w/wrong.err")" = 1 ] || fail "not a one-line error: $(cat "$w/wrong.err")"
grep -q "no checkpoint with epoch 999" "$w/wrong.err" || fail "unclear error: $(cat "$w/wrong.err")"
grep -q "committed epochs: $e1, $e2" "$w/wrong.err" || fail "the error does not list the epochs: $(cat "$w/wrong.err")"
if "$SRS" drop "$job" --epoch 0 >/dev/null 2>"$w/zero.err"; then fail "--epoch 0 accepted"; fi

# 3. Another user's owner secret for this job: refused, nothing changes.
mkdir -m 700 "$w/other"
(umask 077 && printf '%s\t%s\t%s\n' "$SRS_RSS" "$job" "0123456789abcdef0123456789abcdef" >"$w/other/owners")
if SRS_OWNER_FILE=$w/other/owners "$SRS" drop "$job" --epoch "$e2" >"$w/other.out" 2>"$w/other.err"; then
  fail "srs drop with another user's owner secret succeeded: $(cat "$w/other.out")"
fi
grep -qi "owner secret" "$w/other.err" || fail "the refusal does not say why: $(cat "$w/other.err")"
[ "$(epochs | tr '\n' ' ')" = "$e1 $e2 " ] || fail "a refused drop changed the epochs: $(epochs | tr '\n' ' ')"

# 4. The owner drops E2: E1 is left, E2's pieces leave the depot.
"$SRS" drop "$job" --epoch "$e2" >"$w/drop.out" 2>&1 || fail "srs drop --epoch $e2: $(cat "$w/drop.out")"
grep -q "epoch $e2 dropped" "$w/drop.out" || fail "srs drop does not say what it dropped: $(cat "$w/drop.out")"
grep -q "resume now starts from epoch $e1" "$w/drop.out" || fail "no restart point: $(cat "$w/drop.out")"
[ "$(epochs)" = "$e1" ] || fail "committed after the drop: $(epochs | tr '\n' ' ')"
epochs deleted | grep -qx "$e2" || fail "epoch $e2 is not deleted: $("$SRS" ls --all "$job")"
two() { (($(depot_pieces) == 2)); }
wait_for 60 "E2's 2 pieces deleted from the depot (have $(depot_pieces) pieces)" two
# Dropping it again is harmless.
"$SRS" drop "$job" --epoch "$e2" >"$w/again.out" 2>&1 || fail "a second drop failed: $(cat "$w/again.out")"

# 5. The resume starts from E1.
SRS_RESUME=yes "$mpiexec" -n 3 "$solver" --n 40000 --iters $((stopped + 3)) >"$w/b.log" 2>&1 ||
  fail "the resume failed"
resumed=$(sed -n 's/^RESUMED iter=\([0-9]*\) np=3 wrong=0.*/\1/p' "$w/b.log")
[ -n "$resumed" ] || fail "bad resume: $(grep RESUMED "$w/b.log")"
((resumed < stopped)) || fail "resumed at iteration $resumed, not before the stop's $stopped"
log_has b "^DONE" || fail "no DONE after the resume"
history=$("$SRS" history --json "$job") || fail "srs history --json failed"
from=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(sys.stdin)["runs"][-1]["resumed_from_epoch"]))' <<<"$history") ||
  fail "cannot read srs history --json: $history"
[ "$from" = "$e1" ] || fail "the resume started from epoch $from, not $e1"
say "committed $e1 (srs checkpoint) and $e2 (stop at $stopped); dropped $e2; resumed from $e1 at iteration $resumed"
