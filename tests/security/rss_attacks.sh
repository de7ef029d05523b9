#!/usr/bin/env bash
# Attacks on a job through the real srs-rss and srs-depot (run inside with-daemons.sh), by a
# hostile client (rss_hostile_client: raw gRPC, no owner secret, no admin token):
#   read    RegisterRun AUTO / RESUME of the victim's job          -> refused, no manifest
#   delete  RegisterRun FRESH; FinishRun with another run's token  -> refused / own run only
#   poison  heat2d with SRS_APP=<victim> and no owner secret       -> SRS_Init refused
#   oversize a 256 MiB job name                                    -> RESOURCE_EXHAUSTED
#   flood   maximal-size requests from several threads             -> refused, VmHWM bounded
#   forge   a newline in a job name                                -> INVALID_ARGUMENT, log clean
# The victim (its own owner file, no admin token) is stopped with `srs stop` using its owner
# secret, and after the attacks it resumes on another process count bit for bit.
#
#   rss_attacks.sh HOSTILE_CLIENT SRS_TOOL HEAT2D COMPARE
set -euo pipefail
hostile=$1 srs_tool=$2 heat2d=$3 compare=$4
: "${SRS_RSS:?run me inside with-daemons.sh}" "${SRS_RSS_PID:?}" "${SRS_TEST_WORKDIR:?}"
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
work=$SRS_TEST_WORKDIR/attacks
mkdir -p "$work"
admin_token_file=$SRS_TOKEN_FILE
unset SRS_TOKEN_FILE  # neither the victim nor the attacker holds the admin token
victim=victim-$$
job_pid=""
cleanup() {
  if [ -n "$job_pid" ] && kill -0 "$job_pid" 2>/dev/null; then
    kill -TERM "$job_pid" 2>/dev/null || true
    sleep 1
    kill -KILL "$job_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "rss_attacks: FAIL: $*" >&2
  for f in "$work"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done
  exit 1
}
expect() {  # expect CODE LINE: the hostile call's answer starts with CODE
  case "$2" in "$1 "*) echo "ok: $1 <- ${3:-}";; *) fail "${3:-}: expected $1, got: $2";; esac
}
heat() {  # heat NP OWNER_FILE OUT [extra args]
  local np=$1 owners=$2 out=$3; shift 3
  SRS_OWNER_FILE=$owners "$mpiexec" -n "$np" "$heat2d" --nx 48 --ny 40 --steps 200 \
    --out "$out" "$@"
}
victim_state() {  # the victim's whole record (runs, checkpoints, pieces) as the admin sees it
  "$hostile" "$SRS_RSS" snapshot "$victim" "$(cat "$admin_token_file")"
}

echo "== reference, uninterrupted"
SRS_APP=ref-$$ heat 2 "$work/ref.owners" "$work/ref.bin" >"$work/ref.log" 2>&1 || fail "reference"

echo "== victim: 3 ranks, stopped with srs stop and its owner secret"
SRS_APP=$victim heat 3 "$work/victim.owners" "$work/out.bin" --sleep-ms 20 >"$work/stop.log" 2>&1 &
job_pid=$!
for _ in $(seq 600); do grep -q running "$work/stop.log" && break; sleep 0.05; done
grep -q running "$work/stop.log" || fail "the victim never started"
[ "$(stat -c %a "$work/victim.owners")" = 600 ] || fail "the owner file is not mode 0600"
SRS_OWNER_FILE=$work/victim.owners "$srs_tool" stop "$victim" || fail "srs stop with the owner secret"
wait "$job_pid" || fail "the victim did not stop cleanly"
job_pid=""
grep -q "stopped at step" "$work/stop.log" || fail "the victim did not checkpoint and stop"
[ ! -e "$work/out.bin" ] || fail "the stopped victim wrote its result"
echo "== the owner's tools work with the owner secret alone; another user's do not"
SRS_OWNER_FILE=$work/victim.owners "$srs_tool" status >"$work/status.log" 2>&1 \
  || fail "srs status with the owner secret"
grep -q "$victim" "$work/status.log" || fail "srs status does not list the owner's job"
SRS_OWNER_FILE=$work/victim.owners "$srs_tool" ls "$victim" >"$work/ls.log" 2>&1 \
  || fail "srs ls with the owner secret"
if SRS_OWNER_FILE=$work/attacker.owners "$srs_tool" ls "$victim" >"$work/ls-attacker.log" 2>&1; then
  fail "srs ls without the owner secret was answered"
fi
grep -q "no owner secret" "$work/ls-attacker.log" || fail "srs ls without a secret does not say why"
before=$(victim_state) || fail "no record of the victim"
grep -q 'state: "committed"' <<<"$before" || fail "the victim has no committed checkpoint"

echo "== read: register the victim's job without its secret"
expect UNAUTHENTICATED "$("$hostile" "$SRS_RSS" register "$victim" auto)" "AUTO, no secret"
line=$("$hostile" "$SRS_RSS" register "$victim" resume)
expect UNAUTHENTICATED "$line" "RESUME, no secret"
case "$line" in *"pieces=0 read_caps=0"*) ;; *) fail "a manifest was handed out: $line";; esac
expect PERMISSION_DENIED "$("$hostile" "$SRS_RSS" register "$victim" auto "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')")" "AUTO, guessed secret"

echo "== delete: FRESH without the secret; FinishRun with the attacker's own run token"
expect UNAUTHENTICATED "$("$hostile" "$SRS_RSS" register "$victim" fresh)" "FRESH, no secret"
own=$("$hostile" "$SRS_RSS" register "attacker-$$" auto)
expect OK "$own" "the attacker's own job"
token=$(echo "$own" | sed -n 's/.*run_token=\([0-9a-f]*\).*/\1/p')
expect OK "$("$hostile" "$SRS_RSS" finish "$token")" "FinishRun of the attacker's own run"
expect PERMISSION_DENIED "$("$hostile" "$SRS_RSS" finish "0123456789abcdef0123456789abcdef")" \
  "FinishRun with a made-up token"

echo "== poison: heat2d with SRS_APP=$victim and no owner secret"
rc=0
# One rank: with two, the other rank's MPI_Abort could cut the refused rank's error line.
SRS_APP=$victim heat 1 "$work/attacker.owners" "$work/poison.bin" --nx 20 >"$work/poison.log" 2>&1 \
  || rc=$?
((rc != 0)) || fail "the poisoning run was accepted"
grep -q "owner secret" "$work/poison.log" || fail "the poisoning run (exit $rc) does not say why"
[ ! -e "$work/poison.bin" ] || fail "the poisoning run computed a result"

echo "== oversize: a 256 MiB job name"
expect RESOURCE_EXHAUSTED "$("$hostile" "$SRS_RSS" oversize $((256 << 20)))" "256 MiB job name"

echo "== flood: 48 requests just under the 64 MiB limit from 8 threads"
flood=$("$hostile" "$SRS_RSS" flood $(((64 << 20) - 64)) 48 8)
echo "$flood"
# Each is refused: as invalid (name too long) or, when the transports' memory quota is spent,
# RESOURCE_EXHAUSTED. Nothing else, and all 48 answered.
refused=$(echo "$flood" | awk '$1 == "INVALID_ARGUMENT" || $1 == "RESOURCE_EXHAUSTED" {n += $2} END {print n + 0}')
[ "$refused" = 48 ] || fail "the flood was not refused: $flood"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SRS_RSS_PID/status")
echo "srs-rss VmHWM after the flood: $((hwm_kb / 1024)) MiB"
((hwm_kb < 2 * 1024 * 1024)) || fail "srs-rss peak memory ${hwm_kb} kB is not bounded"
db_kb=$(du -k "$SRS_TEST_WORKDIR/rss/rss.db" | awk '{print $1}')
((db_kb < 10 * 1024)) || fail "the flood grew the database to $db_kb kB"

echo "== forge: a newline in a job name"
expect INVALID_ARGUMENT "$("$hostile" "$SRS_RSS" name-with-newline)" "newline in a job name"
if grep -q "^.*FORGED" "$SRS_TEST_WORKDIR/rss.out.err"; then
  grep -n "FORGED" "$SRS_TEST_WORKDIR/rss.out.err" | grep -qv "\\\\n" && fail "a forged log line"
fi

echo "== nothing of the victim changed"
after=$(victim_state)
[ "$before" = "$after" ] || fail "the victim's record changed:"$'\n'"$before"$'\n---\n'"$after"

echo "== the victim resumes on 4 ranks, bit for bit"
SRS_APP=$victim heat 4 "$work/victim.owners" "$work/out.bin" >"$work/resume.log" 2>&1 \
  || fail "the victim could not resume"
grep -q "resumed at step" "$work/resume.log" || fail "the victim did not resume"
"$compare" 0 "$work/ref.bin" "$work/out.bin" || fail "the resumed result differs"
echo "rss_attacks: all attacks refused, victim intact"
