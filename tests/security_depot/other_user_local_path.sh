#!/usr/bin/env bash
# Issue 12, "several users on one node's depot": a job of another Unix user (nobody) on the host
# of a depot run by root, with the default transport (auto). It must checkpoint, stop and resume
# on another count like the depot's own user's jobs do — and must not be able to read the
# depot's pieces directly. Under with-daemons.sh (root's srs-rss and srs-depot).
#   other_user_local_path.sh HEAT2D SRS_TOOL
# Needs root (to run as nobody); elsewhere it skips (77), except in CI where that fails.
set -u
heat=$1 srs=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
  [ "${CI:-}" = true ] && fail "needs root and the user nobody (in CI a skip is a failure)"
  echo "skipped: needs root and the user nobody"; exit 77
fi
work=$SRS_TEST_WORKDIR/other-user
mkdir -p "$work"
cp "$heat" "$work/heat2d"
# The build tree may sit under a directory nobody cannot enter (a CI clone in a 0700 mktemp
# directory): nobody runs copies of the programs and of libsrs from its own directory.
cp "$srs" "$work/srs"
mkdir -p "$work/lib"
cp -a "$(dirname "$heat")"/../libsrs/libsrs.so* "$work/lib/"
srs=$work/srs
chown -R nobody "$work"
chmod 755 "$SRS_TEST_WORKDIR"
job=other-user-$$
# as_nobody CMD...: as nobody, in $work, with the RSS and nothing of root's credentials.
# shellcheck disable=SC2016 # $HOME and $@ expand in the inner shell
as_nobody() {
  runuser -u nobody -- env -i PATH="$PATH" HOME="$work" XDG_STATE_HOME="$work/state" \
    LD_LIBRARY_PATH="$work/lib" \
    SRS_RSS="$SRS_RSS" SRS_DEPOT=auto SRS_APP="$job" SRS_LOG=warning \
    SRS_MPIEXEC="${SRS_MPIEXEC:-mpiexec.mpich}" bash -c 'cd "$HOME" && "$@"' _ "$@"
}
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
as_nobody "$mpiexec" -n 2 ./heat2d --nx 64 --ny 64 --steps 1000000 --sleep-ms 10 \
  >"$work/run.out" 2>"$work/run.err" &
job_pid=$!
trap 'kill -9 $job_pid 2>/dev/null' EXIT
for _ in $(seq 300); do
  out=$(as_nobody "$srs" status "$job" 2>&1) || true
  grep -q running <<<"$out" && break
  sleep 0.1
done
grep -q running <<<"$out" || fail "nobody's job never showed as running: $out"
rc=0
stop=$(as_nobody "$srs" stop "$job" --wait --timeout 60 2>&1) || rc=$?
wait "$job_pid"
jrc=$?
if [ "$rc" != 0 ] || [ "$jrc" != 0 ]; then
  fail "nobody's job could not checkpoint and stop on root's depot (stop $rc, job $jrc): $stop $(tail -n 3 "$work/run.err")"
fi
rc=0
out=$(as_nobody "$mpiexec" -n 3 ./heat2d --nx 64 --ny 64 --steps 5 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "nobody's job could not resume from root's depot: $out"
# Nothing of the depot's directory is readable by nobody.
for d in $SRS_DEPOT_DIRS; do
  runuser -u nobody -- ls "$d/pieces" >/dev/null 2>&1 && fail "nobody can list $d/pieces"
done
echo "another user's job on root's depot: stop and resume ok, pieces not readable"
