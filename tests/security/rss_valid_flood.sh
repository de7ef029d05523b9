#!/usr/bin/env bash
# Memory of the RSS under a flood of *valid* maximal requests (issue 12: "Memory of the RSS stays
# bounded when flooded with maximal-size requests"; docs/security.md: "under a flood of maximal
# requests the RSS sheds calls with RESOURCE_EXHAUSTED instead of growing"). rss_attacks_e2e
# floods with oversize job names, which validation refuses before any work; here every request is
# valid: a new job of 2^20 ranks (the nprocs limit), ~16 MiB, 8 at once from an anonymous client.
# The bound is rss_attacks_e2e's own (2 GiB).
#   rss_valid_flood.sh RSS_HOSTILE_CLIENT          (under with-daemons.sh)
set -u
hostile=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
before_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SRS_RSS_PID/status")
out=$("$hostile" "$SRS_RSS" ranks-flood $((1 << 20)) 8 8)
echo "$out"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SRS_RSS_PID/status")
db_kb=$(du -sk "$SRS_TEST_WORKDIR/rss" | awk '{print $1}')
echo "srs-rss VmHWM $((before_kb / 1024)) MiB before, $((hwm_kb / 1024)) MiB after; state dir $((db_kb / 1024)) MiB"
((hwm_kb < 2 * 1024 * 1024)) || fail "srs-rss peak memory $((hwm_kb / 1024)) MiB is not bounded"
