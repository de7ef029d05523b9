#!/usr/bin/env bash
# The embedded default across the upgrade to job ownership (schema 1 -> 2), with the real
# daemons: a job stopped with a committed checkpoint, its state turned back into what the
# previous release left (schema version 1, no owner, no owner file), then a plain
# `srs run --resume` on another process count must resume with no extra step (the private RSS's
# admin token adopts the job) and leave the job with an owner secret in .srs/owners (0600).
# shellcheck source-path=SCRIPTDIR source=../tools/lib.sh
source "$(dirname "$0")/../tools/lib.sh"
: "${HEAT2D:?}"
fresh_dir
bg=""
trap '[ -n "$bg" ] && kill -TERM $bg 2>/dev/null; wait; rm -rf "$test_dir"' EXIT
export SRS_APP=heat

"$SRS" run -n 3 -- "$HEAT2D" --nx 48 --ny 40 --steps 100000 --sleep-ms 1 >run.out 2>&1 &
bg=$!
wait_running heat
expect_status 0 "heat stopped: checkpoint epoch [0-9]+ committed" "$SRS" stop heat --wait --timeout 60
wait "$bg" || fail "srs run exited non-zero after a stop: $(cat run.out)"
bg=""
[ "$(stat -c %a .srs/owners)" = 600 ] || fail ".srs/owners is not mode 0600"
grep -q "	heat	" .srs/owners || fail "no owner secret for heat in .srs/owners"
grep -q "^owner_file = .*/.srs/owners$" .srs/srs.config || fail "srs.config lacks owner_file"

# What the first release left: schema version 1, jobs without owner_hash, a delete queue that
# names depots by address only (schema 3 added depot_id), no owner file.
sqlite3 .srs/rss/rss.db "BEGIN; ALTER TABLE jobs DROP COLUMN owner_hash;
  ALTER TABLE delete_queue DROP COLUMN depot_id; PRAGMA user_version=1; COMMIT;" \
  || fail "cannot turn the database back into schema 1"
rm .srs/owners

expect_status 0 "heat finished \(2 ranks" "$SRS" run --resume -n 2 -- "$HEAT2D" --nx 48 --ny 40 --steps 100000
[ "$(sqlite3 .srs/rss/rss.db "PRAGMA user_version")" = 3 ] || fail "the database was not migrated"
[ "$(stat -c %a .srs/owners)" = 600 ] || fail "the adopted job's owner file is not mode 0600"
grep -q "	heat	" .srs/owners || fail "the adopted job got no owner secret"
echo "rss_upgrade_embedded: a schema-1 job resumed with no extra step and now has an owner"
