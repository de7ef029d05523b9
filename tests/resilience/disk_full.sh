#!/usr/bin/env bash
# Disk full (issue 14): the depot's directory is a small file system (a tmpfs mounted by the test
# when it runs as root, else the depot's --capacity). A job commits a checkpoint, then the disk is
# filled and `srs stop --wait` asks for a stop. The stop checkpoint cannot be written:
#  - `srs stop --wait` exits non-zero, naming RESOURCE_EXHAUSTED and the depot's free space;
#  - the job's error is RESOURCE_EXHAUSTED in one line, with no HDF5 error-stack dump, and the
#    RSS recorded it (`srs status` and `srs history` show it);
#  - the previous checkpoint stays resumable: once space is freed the job resumes from it on
#    another process count, every element verified, and runs to the end.
#
#   disk_full.sh SOLVER FAULT_INSPECT WAIT_NEW_FILE SRS_TOOL
# Env: SRS_RSS_BIN, SRS_DEPOT_BIN, SRS_MPIEXEC.
# shellcheck disable=SC2154  # insp_*, started_* and job_pid are set by resilience_lib.sh
set -u
# shellcheck source=resilience_lib.sh
. "$(dirname "$0")/resilience_lib.sh"
SOLVER=$1 SRS_TOOL=$4
export FAULT_INSPECT=$2  # used by fault_inspect in resilience_lib.sh
SRS_MPIEXEC=${SRS_MPIEXEC:-mpiexec.mpich}
FAULT_LEASE=3

# 2 arrays x 2^18 elements x 8 bytes: 4 MiB per checkpoint.
solver_args=(--global $((1 << 18)) --sleep-ms 20)
depot_mb=16
FAULT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/srs-diskfull.XXXXXX")
mounted=""
cleanup() {
  fault_cleanup_keep=$FAULT_WORK
  FAULT_WORK="" fault_cleanup
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
  [ -z "${SRS_KEEP_WORKDIR:-}" ] && rm -rf "$fault_cleanup_keep"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
depot_dir=$FAULT_WORK/depot
mkdir -p "$depot_dir"
capacity=()
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=${depot_mb}m "srs-diskfull-$$" "$depot_dir" 2>/dev/null; then
  mounted=$depot_dir
  fault_log "depot on a ${depot_mb} MiB tmpfs"
else
  capacity=(--capacity $((depot_mb << 20)))
  fault_log "not root: depot limited by --capacity ${depot_mb} MiB"
fi

fault_start_daemon srs-rss "$FAULT_WORK/rss.out" "$SRS_RSS_BIN" --listen 127.0.0.1:0 \
  --state "$FAULT_WORK/rss" --lease "$FAULT_LEASE"
export SRS_RSS=$started_addr
fault_start_daemon srs-depot "$FAULT_WORK/depot.out" "$SRS_DEPOT_BIN" --listen 127.0.0.1:0 \
  --dir "$depot_dir" --rss "$SRS_RSS" "${capacity[@]}"
depot_pid=$started_pid
export SRS_DEPOT=auto SRS_TOKEN_FILE=$FAULT_WORK/rss/admin.token SRS_APP=diskfull-$$
for _ in $(seq 100); do [ -s "$SRS_TOKEN_FILE" ] && break; sleep 0.05; done
fault_wait_depot_registered "$FAULT_WORK/depot.out.err" 30
w=$FAULT_WORK

fault_launch "$w/a.log" 2 SRS_RESUME=no -- "$SOLVER" "${solver_args[@]}" --iters 1000000
a_pid=$job_pid
fault_wait_line "$w/a.log" FRESH 60 "$a_pid" || { cat "$w/a.log.err"; fault_fail "the job did not start"; }
"$SRS_TOOL" checkpoint "$SRS_APP" >/dev/null || fault_fail "srs checkpoint failed"
t0=$SECONDS
until fault_inspect && ((insp_last_epoch > 0)); do
  ((SECONDS - t0 < 60)) || fault_fail "no checkpoint committed in 60 s"
  sleep 0.2
done
good_epoch=$insp_last_epoch
good_iter=$insp_committed_value
fault_log "epoch $good_epoch committed (iter $good_iter); filling the depot's disk"

if [ -n "$mounted" ]; then
  # Leave about 1 MiB: HDF5 gets its header out, then runs out in the middle of the data.
  avail=$(df -B1 --output=avail "$depot_dir" | tail -1)
  head -c $((avail - (1 << 20))) /dev/zero >"$depot_dir/filler" 2>/dev/null
else
  # A second, much bigger array is not possible from outside: shrink the depot instead.
  kill -TERM "$depot_pid"
  wait "$depot_pid" 2>/dev/null
  fault_start_daemon srs-depot "$FAULT_WORK/depot2.out" "$SRS_DEPOT_BIN" \
    --listen "$(grep -m1 'listening on' "$FAULT_WORK/depot.out" | awk '{print $NF}')" \
    --dir "$depot_dir" --rss "$SRS_RSS" --capacity $((5 << 20))
fi

stop_out=$("$SRS_TOOL" stop --wait --timeout 120 "$SRS_APP" 2>&1)
stop_rc=$?
fault_log "srs stop --wait exited $stop_rc: $stop_out"
((stop_rc != 0)) || fault_fail "srs stop --wait succeeded on a full disk"
grep -q "RESOURCE_EXHAUSTED\|no space\|capacity" <<<"$stop_out" ||
  fault_fail "srs stop --wait does not say the depot is full: $stop_out"
[ "$(wc -l <<<"$stop_out")" -le 2 ] || fault_fail "srs stop --wait printed more than a line or two"

# The job aborts on the failed stop (crashy_solver exits on an SRS error).
for _ in $(seq 300); do kill -0 "$a_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$a_pid" 2>/dev/null && fault_fail "the job kept running after its stop failed"
wait "$a_pid" 2>/dev/null
# MPICH may drop the lines of ranks killed by another rank's MPI_Abort (the reason the RSS records
# failures, checked below with `srs status`): judge the lines that did arrive.
if grep -q "crashy_solver\[" "$w/a.log.err" && ! grep -q "RESOURCE_EXHAUSTED" "$w/a.log.err"; then
  cat "$w/a.log.err"
  fault_fail "the job's error is not RESOURCE_EXHAUSTED"
fi
if grep -q "HDF5-DIAG\|#000:" "$w/a.log.err"; then
  cat "$w/a.log.err"
  fault_fail "an HDF5 error stack was printed"
fi
if grep -qi "segmentation\|signal 11\|SIGSEGV" "$w/a.log.err"; then
  cat "$w/a.log.err"
  fault_fail "the job crashed"
fi
status_out=$("$SRS_TOOL" status "$SRS_APP" 2>&1)
grep -q "RESOURCE_EXHAUSTED" <<<"$status_out" || fault_fail "srs status does not show the failure: $status_out"
fault_log "srs status: $(tail -1 <<<"$status_out")"
history_out=$("$SRS_TOOL" history "$SRS_APP" 2>&1)
grep -q "SRS_Check_Stop: RESOURCE_EXHAUSTED" <<<"$history_out" ||
  fault_fail "srs history does not show the failure: $history_out"

# Space again; the previous checkpoint is the restart point.
rm -f "$depot_dir/filler"
if [ -z "$mounted" ]; then
  kill -TERM "$started_pid"
  wait "$started_pid" 2>/dev/null
  fault_start_daemon srs-depot "$FAULT_WORK/depot3.out" "$SRS_DEPOT_BIN" \
    --listen "$(grep -m1 'listening on' "$FAULT_WORK/depot.out" | awk '{print $NF}')" \
    --dir "$depot_dir" --rss "$SRS_RSS" "${capacity[@]}"
fi
t0=$SECONDS
until fault_inspect && [ "$insp_job_state" != running ]; do
  ((SECONDS - t0 < 30)) || fault_fail "the run did not end at the RSS"
  sleep 0.3
done
fault_launch "$w/b.log" 3 SRS_RESUME=yes SRS_FORCE=yes SRS_EXPECT_ITER="$good_iter" -- \
  "$SOLVER" "${solver_args[@]}" --iters $((good_iter + 20))
wait "$job_pid" || { cat "$w/b.log.err"; fault_fail "the resume failed"; }
grep -q "RESTORED iter=$good_iter nprocs=3 mismatches=0" "$w/b.log" ||
  fault_fail "did not resume from epoch $good_epoch: $(cat "$w/b.log")"
grep -q "DONE iter=$((good_iter + 20))" "$w/b.log" || fault_fail "the resumed job did not finish"
echo "disk_full: stop on a full depot reported ($stop_out); resumed from epoch $good_epoch (iter $good_iter) on 3 ranks"
