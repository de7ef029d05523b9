#!/usr/bin/env bash
# Memory of the RSS under a flood of *valid* maximal requests (issue 12: "Memory of the RSS stays
# bounded when flooded with maximal-size requests"; docs/security.md "Memory and quotas").
# rss_attacks_e2e floods with oversize job names, which validation refuses before any work; here
# every request is valid: a new job of 2^20 ranks (the nprocs limit, ~38 MB on the wire), 8 at
# once from an anonymous client, then 3000 one-rank jobs as fast as 8 threads go.
#   rss_valid_flood.sh RSS_HOSTILE_CLIENT          (under with-daemons.sh)
#
# The bound, 1 GiB of peak memory, comes from the request budget (srs-rss --request-budget-mib,
# 64 MiB of wire bytes parsed at once, ~10x that in working memory) plus what the 8 jobs keep
# (~38 MB each, packed) and the wire bytes of the calls still waiting. Measured on the reference
# machine: ~0.8 GiB with the budget; 1.6-1.7 GiB with --request-budget-mib 0 and 2.1-3.0 GiB
# before issue 12's fix, so removing the budget makes this test fail.
set -u
set -o pipefail
hostile=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
before_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SRS_RSS_PID/status")
out=$("$hostile" "$SRS_RSS" ranks-flood $((1 << 20)) 8 8) || fail "ranks-flood: $out"
echo "$out"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SRS_RSS_PID/status")
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$SRS_RSS_PID/status")
db_kb=$(du -sk "$SRS_TEST_WORKDIR/rss" | awk '{print $1}')
echo "srs-rss VmHWM $((before_kb / 1024)) MiB before, $((hwm_kb / 1024)) MiB after" \
  "(VmRSS $((rss_kb / 1024)) MiB); state dir $((db_kb / 1024)) MiB"
# Every call got an answer: served, or shed with "try again" (never INTERNAL, never a timeout).
others=$(grep -Ev '^(OK|RESOURCE_EXHAUSTED) ' <<<"$out")
[[ -z $others ]] || fail "unexpected answers: $others"
((hwm_kb < 1024 * 1024)) || fail "srs-rss peak memory $((hwm_kb / 1024)) MiB is not bounded (1 GiB)"
# What stays: the jobs that were created, packed (~38 MB each on disk and in memory), not ~200 MB
# of parsed placements each.
((rss_kb < 640 * 1024)) || fail "srs-rss keeps $((rss_kb / 1024)) MiB after the flood"

# Anonymous job creation is rate limited (default: a burst of 600, then 600 a minute): 3000 new
# one-rank jobs as fast as possible are mostly refused, with a message that says why.
start=$(date +%s)
out=$("$hostile" "$SRS_RSS" ranks-flood 1 3000 8) || fail "ranks-flood 1: $out"
echo "$out"
elapsed=$(($(date +%s) - start + 1))
ok=$(awk '$1 == "OK" {print $2}' <<<"$out")
shed=$(awk '$1 == "RESOURCE_EXHAUSTED" {print $2}' <<<"$out")
((${shed:-0} > 0)) || fail "3000 anonymous new jobs were all accepted"
# The bucket: at most 600 at once plus 10 a second (the 8 big jobs above took some of the burst).
((${ok:-0} <= 600 + 10 * elapsed)) || fail "${ok} new jobs in ${elapsed} s exceed the rate"
db_kb=$(du -sk "$SRS_TEST_WORKDIR/rss" | awk '{print $1}')
echo "anonymous new jobs: ${ok:-0} accepted, ${shed} shed in ${elapsed} s; state dir $((db_kb / 1024)) MiB"

# The job cap, through the real flags: a second srs-rss with --max-jobs 3 (and no rate limit)
# takes 3 new jobs and refuses the next ones; a malformed value is a usage error (exit 2).
code=0
"$SRS_RSS_BIN" --state "$SRS_TEST_WORKDIR/capped" --max-jobs -1 >/dev/null 2>&1 || code=$?
((code == 2)) || fail "srs-rss --max-jobs -1 is not a usage error (exit $code)"
fifo=$SRS_TEST_WORKDIR/capped.out
mkfifo "$fifo"
"$SRS_RSS_BIN" --listen 127.0.0.1:0 --state "$SRS_TEST_WORKDIR/capped" --max-jobs 3 \
  --new-jobs-per-minute 0 >"$fifo" 2>"$SRS_TEST_WORKDIR/capped.err" &
capped_pid=$!
trap 'kill "$capped_pid" 2>/dev/null; wait "$capped_pid" 2>/dev/null' EXIT
read -r -t 30 line <"$fifo" || fail "the capped srs-rss did not start: $(cat "$SRS_TEST_WORKDIR/capped.err")"
capped_addr=${line##* }
out=$("$hostile" "$capped_addr" ranks-flood 1 10 1) || fail "ranks-flood on the capped rss: $out"
echo "--max-jobs 3: $out"
grep -qx 'OK 3' <<<"$out" || fail "--max-jobs 3 did not take exactly 3 jobs: $out"
grep -qx 'RESOURCE_EXHAUSTED 7' <<<"$out" || fail "--max-jobs 3 did not refuse 7 jobs: $out"
kill "$capped_pid"
wait "$capped_pid" || fail "the capped srs-rss did not exit 0 on SIGTERM"
trap - EXIT
