# shellcheck shell=bash source-path=SCRIPTDIR
# Job helpers of the multinode tests (sourced; brings ../tools/lib.sh and netns_lib.sh along;
# call mn_setup first; sets -o pipefail). Every `srs` runs in node0, the head node, in the
# current directory.
#
#   mn_launch_env             a clean SRS environment (no inherited rss, config, token, depot,
#                             host, resume, redundancy) and Hydra's launcher set to
#                             netns_launcher.sh through HYDRA_LAUNCHER/HYDRA_LAUNCHER_EXEC, which
#                             `srs run` passes on to the job's and the depots' mpiexec
#   mn_pieces K...            piece files (*.h5 under pieces/) in those nodes' storage
#   mn_reference OUT ARGS...  the solver ARGS run uninterrupted on 2 ranks in node0 alone (loopback
#                             daemons of a directory of its own, no RSS inherited), field to OUT
#   mn_stop_run JOB LOG SRS_RUN_ARGS... -- SOLVER...
#                             `srs run SRS_RUN_ARGS -- SOLVER` as job JOB in the background (output
#                             in LOG), waits until the RSS shows it running, stops it with
#                             `srs stop --wait`, and checks it stopped with a committed checkpoint;
#                             $MN_WHILE_RUNNING (a command), if set, runs just before the stop

MN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MN_LAUNCHER=$MN_DIR/netns_launcher.sh
# shellcheck source=../tools/lib.sh
source "$MN_DIR/../tools/lib.sh"
# shellcheck source=netns_lib.sh
source "$MN_DIR/netns_lib.sh"
set -o pipefail

mn_launch_env() {
  unset SRS_RSS SRS_CONFIG SRS_TOKEN_FILE SRS_DEPOT SRS_HOST SRS_RESUME SRS_REDUNDANCY
  export HYDRA_LAUNCHER=ssh HYDRA_LAUNCHER_EXEC=$MN_LAUNCHER
}

mn_pieces() {
  local k n=0
  for k in "$@"; do
    n=$((n + $(find "$MN_STORAGE/node$k" -path '*pieces*' -name '*.h5' 2>/dev/null | wc -l)))
  done
  echo "$n"
}

mn_reference() {
  local out=$1
  shift
  mkdir -p "$MN_WORK/reference"
  (cd "$MN_WORK/reference" && node_exec 0 env -u SRS_RSS -u SRS_TOKEN_FILE -u SRS_DEPOT \
    -u SRS_REDUNDANCY SRS_APP=reference "$SRS" run -n 2 -- "$@" --out "$out") \
    >"$MN_WORK/reference.out" 2>&1 || fail "reference run: $(cat "$MN_WORK/reference.out")"
}

mn_stop_run() {
  local job=$1 log=$2 bg st=""
  shift 2
  SRS_APP=$job node_exec 0 "$SRS" run "$@" >"$log" 2>&1 &
  bg=$!
  for _ in $(seq 300); do
    st=$(node_exec 0 "$SRS" status "$job" 2>&1) || true
    grep -q running <<<"$st" && break
    kill -0 "$bg" 2>/dev/null || break
    sleep 0.2
  done
  grep -q running <<<"$st" || fail "$job never ran: $st $(cat "$log")"
  sleep 1  # let it compute past its start
  if [ -n "${MN_WHILE_RUNNING:-}" ]; then "$MN_WHILE_RUNNING" || fail "$MN_WHILE_RUNNING failed"; fi
  node_exec 0 "$SRS" stop "$job" --wait --timeout 60 >/dev/null || fail "srs stop $job failed"
  wait "$bg" || fail "$job: srs run failed: $(cat "$log")"
  grep -q "stopped with checkpoint" "$log" || fail "$job did not stop with a checkpoint: $(cat "$log")"
}
