#!/usr/bin/env bash
# "If the RSS is down, the job keeps running": the RSS is killed (-9) under a running solver,
# which must keep iterating; the RSS is restarted on the same address and state; a stop
# requested then must still reach the job (its watcher reconnects), and the job resumes.
#   rss_down.sh SOLVER RSS_ADMIN
set -u
solver=$1 admin=$2
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
export SRS_LOG=${SRS_LOG:-error}
out=$SRS_TEST_WORKDIR/rss_down.out
pid="" rss2=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$rss2" ] && kill -TERM "$rss2" 2>/dev/null && wait "$rss2"
}
trap cleanup EXIT
fail() { echo "rss_down: $*" >&2; cat "$out" >&2; exit 1; }
iters() { grep -c "^iter" "$out"; }

"$mpiexec" -n 2 "$solver" 100000 5 >"$out" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q "^iter" "$out" && break; sleep 0.05; done
echo "$SRS_RSS_PID" >>"$SRS_TEST_WORKDIR/daemons.killed"; kill -KILL "$SRS_RSS_PID"
before=$(iters)
sleep 1.5
kill -0 "$pid" 2>/dev/null || fail "the job died with the RSS"
[ "$(iters)" -gt "$before" ] || fail "the job stopped iterating while the RSS was down"

"$SRS_RSS_BIN" --listen "$SRS_RSS" --state "$SRS_TEST_WORKDIR/rss" >"$SRS_TEST_WORKDIR/rss2.out" \
  2>&1 &
rss2=$!
for _ in $(seq 200); do grep -q "listening on" "$SRS_TEST_WORKDIR/rss2.out" && break; sleep 0.05; done
grep -q "listening on" "$SRS_TEST_WORKDIR/rss2.out" || fail "RSS did not restart"
"$admin" stop "$SRS_APP" || fail "RequestStop after the RSS restart failed"
for _ in $(seq 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "the stop did not reach the job after the RSS came back"
wait "$pid" || fail "solver exited $?"
pid=""
stopped=$(sed -n 's/^stopped at iter //p' "$out")
[ -n "$stopped" ] || fail "no 'stopped at iter' line"
"$mpiexec" -n 3 "$solver" $((stopped + 10)) 0 >"$out" 2>&1 || fail "resume exited $?"
grep -q "^resumed at iter $stopped on 3 ranks" "$out" || fail "did not resume at $stopped"
grep -q "^finished at iter $((stopped + 10))" "$out" || fail "did not finish"
echo "rss_down: kept running without the RSS, stopped at $stopped after it came back, resumed"
