#!/usr/bin/env bash
# Restart at another site, unprivileged (issue 17; the network-namespace variant is
# two_site.sh): "site A" and "site B" are two depots on their own loopback addresses (127.0.0.2,
# 127.0.0.3), with their own directories and host names (srs-depot --host, SRS_HOST), and their
# own working directories; only the RSS (127.0.0.1) is shared. The heat solver runs at site A on 3
# ranks through `srs run`, is stopped with `srs stop` from site B, resumes at site B on 2 ranks
# reading site A's pieces across, and finishes bit-for-bit equal to an uninterrupted run; site B's
# depot never holds a piece of the stopped run, and SRS_Finish empties site A's depot. Every
# daemon must survive and exit 0 on SIGTERM. Always runs (no root needed).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../support/daemons.sh
source "$(dirname "$0")/../support/daemons.sh"
# shellcheck disable=SC2154  # started_addr is set by srsd_start
: "${HEAT2D:?}" "${SRS_RSS_BIN:?}" "${SRS_DEPOT_BIN:?}" "${SRS_RSS_ADMIN:?}"

tmp=${TMPDIR:-/tmp}
srsd_sweep_stale "$tmp/srs-test."
work=$(mktemp -d "$tmp/srs-test.XXXXXX")
echo $$ >"$work/owner.pid"
srsd_init "$work"
bg="" rc=1
finish() {
  local status=$rc
  if [ -n "$bg" ] && kill -0 "$bg" 2>/dev/null; then
    # shellcheck disable=SC2046
    kill -KILL $(srsd_tree "$bg") 2>/dev/null
    wait "$bg" 2>/dev/null
  fi
  srsd_stop_all || status=1
  ((status == 0)) || srsd_dump_logs
  if [ -n "${SRS_KEEP_WORKDIR:-}" ]; then rm -f "$work/owner.pid"; else rm -rf "$work"; fi
  exit "$status"
}
trap finish EXIT
trap 'rc=143; exit 143' TERM
trap 'rc=130; exit 130' INT

mkdir -p "$work/siteA" "$work/siteB"
srsd_start srs-rss "$SRS_RSS_BIN" --listen 127.0.0.1:0 --state "$work/rss" || exit 1
rss=$started_addr
srsd_start depotA "$SRS_DEPOT_BIN" --listen 127.0.0.2:0 --dir "$work/siteA/depot" --rss "$rss" \
  --host siteA --enroll-secret-file "$work/rss/admin.token" || exit 1
depot_a=$started_addr
srsd_start depotB "$SRS_DEPOT_BIN" --listen 127.0.0.3:0 --dir "$work/siteB/depot" --rss "$rss" \
  --host siteB --enroll-secret-file "$work/rss/admin.token" || exit 1
depot_b=$started_addr
SRS_RSS=$rss SRS_TOKEN_FILE=$work/rss/admin.token srsd_wait_depots "$SRS_RSS_ADMIN" 2 60 || exit 1
# Each site keeps its own copy of the admin token.
cp "$work/rss/admin.token" "$work/siteA/admin.token"
cp "$work/rss/admin.token" "$work/siteB/admin.token"

site() {  # A|B command...: runs in the site's directory and identity
  local s=$1
  shift
  (cd "$work/site$s" && env SRS_RSS="$rss" SRS_HOST="site$s" SRS_DEPOT=auto \
    SRS_TOKEN_FILE="$work/site$s/admin.token" SRS_APP="${APP:-heat}" "$@")
}
pieces() { find "$1/pieces" -name '*.h5' 2>/dev/null | wc -l; }

solver=("$HEAT2D" --nx 64 --ny 60 --steps 4000 --sleep-ms 1)
APP=heat-reference site B "$SRS" run -n 2 -- "$HEAT2D" --nx 64 --ny 60 --steps 4000 \
  --out "$work/reference.bin" >"$work/reference.out" 2>&1 ||
  fail "reference run failed: $(cat "$work/reference.out")"

site A "$SRS" run -n 3 -- "${solver[@]}" --out "$work/siteA/final.bin" >"$work/runA.out" 2>&1 &
bg=$!
t0=$SECONDS
until site B "$SRS" status heat 2>/dev/null | grep -q running; do
  ((SECONDS - t0 < 60)) || fail "heat never showed as running: $(cat "$work/runA.out")"
  sleep 0.1
done
site B "$SRS" stop heat --wait --timeout 120 || fail "stop from site B failed"
wait "$bg" || fail "site A run failed: $(cat "$work/runA.out")"
bg=""
grep -q "stopped with checkpoint" "$work/runA.out" || fail "no stop at site A: $(cat "$work/runA.out")"
ls_out=$(site A "$SRS" ls heat) || fail "srs ls failed"
grep -q "$depot_a" <<<"$ls_out" || fail "the checkpoint is not on site A's depot: $ls_out"
grep -q "$depot_b" <<<"$ls_out" && fail "the checkpoint has pieces on site B's depot: $ls_out"
(($(pieces "$work/siteA/depot") == 3)) || fail "site A's depot holds $(pieces "$work/siteA/depot") pieces, expected 3"
(($(pieces "$work/siteB/depot") == 0)) || fail "site B's depot holds pieces already"

# The rest of the run without the 1 ms pause a step: it only gave site B time to stop site A's
# run part-way.
expect_status 0 "heat finished \(2 ranks" site B "$SRS" run --resume -n 2 -- "${solver[@]}" \
  --sleep-ms 0 --out "$work/siteB/final.bin"
cmp -s "$work/reference.bin" "$work/siteB/final.bin" || fail "site B's result differs from the reference"
history=$(site B "$SRS" history heat) || fail "srs history failed"
grep -q "siteA" <<<"$history" || fail "history lacks site A: $history"
grep -q "siteB" <<<"$history" || fail "history lacks site B: $history"

# SRS_Finish deletes the job's pieces; site A's depot must end up empty.
t0=$SECONDS
while (($(pieces "$work/siteA/depot") > 0)); do
  ((SECONDS - t0 < 60)) || fail "site A's depot still holds pieces after SRS_Finish"
  sleep 0.1
done
echo "$history"
echo PASS
rc=0
