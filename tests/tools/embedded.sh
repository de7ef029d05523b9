#!/usr/bin/env bash
# The embedded default end to end, with the real daemons and mpiexec: `srs run` brings up a
# private srs-rss/srs-depot under ./.srs, the job finishes; a second run is stopped from outside
# (`srs stop --wait`) and reports its checkpoint and the resume command; the daemons never
# linger but their state does (the read-only tools bring the RSS back up from it); status, ls,
# history and export show the checkpoint; export's array equals the field the solver holds at
# that step (a resume with --steps = the stopped step writes exactly that field); --resume on
# another count finishes; nothing to resume / unknown job are clear errors.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${HEAT2D:?}"
fresh_dir
bg=""
trap '[ -n "$bg" ] && kill -TERM $bg 2>/dev/null; wait; rm -rf "$test_dir"' EXIT
export SRS_APP=heat
py=/usr/bin/python3

expect_status 1 "nothing to resume: .* knows no job 'heat'" "$SRS" run --resume -n 2 -- "$HEAT2D"
expect_status 0 "heat finished \(2 ranks" "$SRS" run -n 2 -- "$HEAT2D" --nx 32 --ny 32 --steps 20
for f in .srs/rss/admin.token .srs/srs.config .srs/ports; do [ -e "$f" ] || fail "$f missing"; done
for port in $(private_ports); do port_open "$port" && fail "a private daemon still listens on $port"; done
expect_status 1 "nothing to resume: job 'heat' has no committed checkpoint" \
  "$SRS" run --resume -n 3 -- "$HEAT2D"

# A long run, stopped from outside part-way.
"$SRS" run -n 4 -- "$HEAT2D" --nx 64 --ny 48 --steps 100000 --sleep-ms 1 >run.out 2>&1 &
bg=$!
wait_running heat
expect_status 0 "checkpoint requested" "$SRS" checkpoint heat
expect_status 0 "heat stopped: checkpoint epoch [0-9]+ committed" "$SRS" stop heat --wait --timeout 60
wait "$bg" || fail "srs run exited non-zero after a stop: $(cat run.out)"
bg=""
grep -q "heat stopped with checkpoint epoch" run.out || fail "run did not report the stop: $(cat run.out)"
grep -q "srs run --resume -n 4 -- " run.out || fail "run did not print the resume command"
for port in $(private_ports); do port_open "$port" && fail "a private daemon lingers on $port"; done

# The daemons are down; the read-only tools bring the RSS (and export the depot) back up.
expect_status 0 "heat +stopped +4 " "$SRS" status
expect_status 0 "heat +stopped +4 " "$SRS" status heat
expect_status 0 "reason stop" "$SRS" ls heat
grep -qE "^  3 +127\.0\.0\.1:[0-9]+ +.* xxh3:[0-9a-f]{16}" <<<"$last_output" || fail "ls lacks rank 3's piece: $last_output"
grep -q "timings: write" <<<"$last_output" || fail "ls lacks timings"
expect_status 0 "stopped" "$SRS" history heat
expect_status 1 "unknown job 'nosuch'" "$SRS" ls nosuch
expect_status 1 "unknown job 'nosuch'" "$SRS" stop nosuch
expect_status 1 "no committed epoch 999" "$SRS" export heat x.h5 --epoch 999
expect_status 0 "exported heat epoch" "$SRS" export heat state.h5
# Between runs the private depot is not running: the checkpoint's copies are out of reach, not
# lost, and srs repair must not advise dropping it (a newcomer following that would delete it).
expect_status 1 "none known lost" "$SRS" repair heat
if grep -q "srs drop" <<<"$last_output"; then
  fail "srs repair advises dropping a checkpoint whose depot is only stopped: $last_output"
fi
for port in $(private_ports); do port_open "$port" && fail "a tool left a daemon on $port"; done

# The exported field is the checkpointed one: resuming with --steps = the stopped step writes it.
step=$($py -c "import h5py; print(int(h5py.File('state.h5')['step'][0]))") ||
  fail "state.h5 has no step counter"
expect_status 0 "heat finished \(3 ranks" "$SRS" run --resume -n 3 -- "$HEAT2D" --nx 64 --ny 48 --steps "$step" --out field.bin
$py - <<'PY' || fail "exported u differs from the checkpointed field"
import h5py, numpy
f = h5py.File('state.h5')
u = [f[n] for n in f if f[n].shape == (64 * 48,)][0][...]
ref = numpy.fromfile('field.bin', dtype='<f8')
assert u.shape == ref.shape and (u.view('u8') == ref.view('u8')).all(), (u[:4], ref[:4])
assert f.attrs['app'] in (b'heat', 'heat')
PY
expect_status 0 "finished" "$SRS" history heat
[ "$(grep -c finished <<<"$last_output")" -ge 2 ] || fail "history lacks the runs: $last_output"
# SIGTERM to srs run makes the job checkpoint and stop (exit 75) and stops the daemons it
# started; their state stays.
"$SRS" run -n 2 -- "$HEAT2D" --nx 32 --ny 32 --steps 100000 --sleep-ms 1 >term.out 2>&1 &
bg=$!
wait_running heat
kill -TERM "$bg"
rc=0
wait "$bg" || rc=$?
bg=""
[ "$rc" = 75 ] || fail "srs run exited $rc after SIGTERM, want 75: $(cat term.out)"
grep -q "interrupted" term.out || fail "srs run did not say it was interrupted: $(cat term.out)"
for port in $(private_ports); do port_open "$port" && fail "a daemon survived SIGTERM on $port"; done
expect_status 0 "heat " "$SRS" status heat
echo PASS
