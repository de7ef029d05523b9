# shellcheck shell=bash disable=SC2034  # the insp_* and SRS_* variables are for the sourcing scripts
# Shared helpers of the fault tests (sourced, bash), run under tests/support/with-daemons.sh
# --lease FAULT_LEASE (a private srs-rss with a short run lease and one srs-depot). Launches jobs
# in their own process group and kills EVERY job it started on exit (by pid; never killall).
#
# Needs: SRS_RSS, SRS_TOKEN_FILE, SRS_DEPOT_DIRS, SRS_TEST_WORKDIR (with-daemons), FAULT_LEASE.
# Sets: FAULT_WORK, SRS_DEPOT_DIR, SRS_APP. Job control and fault_inspect: tests/support/job_lib.sh.

# shellcheck source-path=SCRIPTDIR source=../support/job_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../support/job_lib.sh"

fault_cleanup() { fault_kill_jobs; }

# The daemons come from tests/support/with-daemons.sh (--lease FAULT_LEASE): it waits until the
# depot is registered, and fails the test if a daemon died or did not exit 0 on SIGTERM.
fault_setup() {
  if [ -z "${SRS_RSS:-}" ] || [ -z "${SRS_TEST_WORKDIR:-}" ] || [ -z "${SRS_DEPOT_DIRS:-}" ]; then
    fault_fail "run me under tests/support/with-daemons.sh --lease $FAULT_LEASE"
  fi
  FAULT_WORK=$SRS_TEST_WORKDIR
  SRS_DEPOT_DIR=${SRS_DEPOT_DIRS%% *}
  export SRS_DEPOT=auto SRS_APP=${SRS_APP:-fault-$$-$RANDOM}
  trap fault_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
}

# fault_checkpoint_state EPOCH: the state of checkpoint EPOCH in the last fault_inspect.
fault_checkpoint_state() {
  local c
  for c in $insp_checkpoints; do
    [ "${c%%:*}" = "$1" ] && { c=${c#*:}; echo "${c%%:*}"; return 0; }
  done
  echo none
}

# fault_wait_depot_reclaimed SECONDS: waits until the depot directory holds exactly the pieces of
# the committed checkpoints (every piece of a killed, discarded or retired checkpoint deleted).
fault_wait_depot_reclaimed() {
  local secs=$1 t0=$SECONDS have
  while :; do
    fault_inspect
    have=$(find "$SRS_DEPOT_DIR/pieces" -name '*.h5' 2>/dev/null | wc -l)
    ((have == insp_committed_pieces)) && return 0
    ((SECONDS - t0 < secs)) || break
    sleep 0.5
  done
  ls -l "$SRS_DEPOT_DIR/pieces" >&2
  fault_fail "the depot holds $have pieces, the committed checkpoints $insp_committed_pieces ($insp_checkpoints)"
}

