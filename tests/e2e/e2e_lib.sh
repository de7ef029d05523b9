# shellcheck shell=bash disable=SC2034  # SRS, mpiexec, w, job, bg are for the sourcing scripts
# Shared by the e2e scripts (e2e.sh, redundancy.sh, drop.sh, repair.sh; sourced after `set -u`):
# the environment with-daemons.sh gives them, a background job killed on exit, and the helpers
# fail/say (prefixed with E2E_NAME), wait_for and log_has.
# Env (with-daemons): SRS_RSS, SRS_APP, SRS_TEST_WORKDIR; SRS_TOOL; SRS_MPIEXEC. Sets SRS,
# mpiexec, w (the work directory, also the cwd), job, bg.
: "${SRS_TOOL:?}" "${SRS_RSS:?run me under with-daemons.sh}" "${SRS_TEST_WORKDIR:?}"
: "${E2E_NAME:?set E2E_NAME before sourcing e2e_lib.sh}"
SRS=$SRS_TOOL
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
export SRS_LOG=${SRS_LOG:-error}
w=$SRS_TEST_WORKDIR
job=$SRS_APP
cd "$w" || exit 1
bg=""  # the pid of a job started in the background, killed on exit
cleanup() {
  if [ -n "$bg" ] && kill -0 "$bg" 2>/dev/null; then
    kill -TERM "$bg" 2>/dev/null
    wait "$bg" 2>/dev/null
  fi
  return 0
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
fail() {
  echo "$E2E_NAME: FAIL: $*" >&2
  for f in "$w"/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }; done
  exit 1
}
say() { echo "$E2E_NAME: $*"; }
# wait_for SECONDS WHAT CMD...: polls CMD (every 0.1 s) until it succeeds; fails after SECONDS.
wait_for() {
  local secs=$1 what=$2 t0=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS - t0 < secs)) || fail "$what: not within $secs s"
    sleep 0.1
  done
}
# log_has NAME PATTERN: $w/NAME.log has a line matching PATTERN.
log_has() { grep -q "$2" "$w/$1.log"; }
# pieces_in DEPOT_DIR: how many piece files the depot directory holds.
pieces_in() { find "$1/pieces" -name '*.h5' 2>/dev/null | wc -l; }
# run_two NAME ARGS...: $solver on one rank of hostA and one of hostB (two depots' hosts), in
# the background ($bg its pid, $w/NAME.log its output). The sourcing script sets $solver.
# shellcheck disable=SC2154 # $solver: set by the script that sources this file
run_two() {
  local name=$1
  shift
  "$mpiexec" -n 1 -env SRS_HOST hostA "$solver" "$@" : -n 1 -env SRS_HOST hostB "$solver" "$@" \
    >"$w/$name.log" 2>&1 &
  bg=$!
}
