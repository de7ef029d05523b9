#!/usr/bin/env bash
# `srs export` against a configured (external) RSS and depot: a job holding one array of every
# distribution kind (block, cyclic, block_cyclic, complex, map, ScaLAPACK 2-D) on NP ranks is
# stopped; the export must open in h5dump and h5py with each array in global index order and the
# 2-D array as [rows][cols] with element (i, j) = i + j*rows. Also: status/ls in external mode,
# the depot address in ls, and srs stop on a job that is not running.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${EXPORT_LAYOUTS:?}" "${SRS_RSS:?run under with-daemons.sh}"
np=${1:-4}
work=$SRS_TEST_WORKDIR
cd "$work" || exit 1
bg=""
trap '[ -n "$bg" ] && kill -TERM $bg 2>/dev/null; wait' EXIT
export SRS_APP=layouts-$np

"$SRS" run -n "$np" -- "$EXPORT_LAYOUTS" >run.out 2>&1 &
bg=$!
wait_running "$SRS_APP"
expect_status 0 "checkpoint requested for $SRS_APP" "$SRS" checkpoint "$SRS_APP"
expect_status 0 "stopped: checkpoint epoch" "$SRS" stop "$SRS_APP" --wait --timeout 60
wait "$bg" || fail "srs run failed: $(cat run.out)"
bg=""
grep -q "stopped with checkpoint epoch" run.out || fail "no stop report: $(cat run.out)"
expect_status 0 "$SRS_APP +stopped +$np " "$SRS" status
expect_status 0 "${SRS_DEPOT_ADDRS%% *}" "$SRS" ls "$SRS_APP"
expect_status 0 " $np +[^ ]+ +stopped " "$SRS" history "$SRS_APP"
expect_status 0 "block_cyclic_2d\(23x17" "$SRS" ls "$SRS_APP"
# An output that cannot be created is named with the reason.
expect_status 1 "cannot create /nonexistent/x.h5.partial: No such file or directory" \
  "$SRS" export "$SRS_APP" /nonexistent/x.h5
expect_status 0 "exported $SRS_APP epoch" "$SRS" export "$SRS_APP" out.h5
[ ! -e out.h5.partial ] || fail "export left its temporary file"
h5dump -H out.h5 >/dev/null || fail "h5dump cannot read the export"
NP=$np /usr/bin/python3 - <<'PY' || fail "exported arrays are not in global order"
import h5py, numpy as np
f = h5py.File('out.h5', 'r')
g = np.arange
assert (f['b1'][...] == g(1001) + 0.5).all()
assert f['cy'].dtype == np.int32 and (f['cy'][...] == g(777)).all()
assert f['bc'].dtype == np.int64 and (f['bc'][...] == 3 * g(500)).all()
cz = f['cz'][...]
assert cz.dtype.kind == 'c' and (cz.real == g(50)).all() and (cz.imag == -g(50)).all()
assert (f['mp'][...] == g(100)).all()
m2 = f['m2'][...]
assert m2.shape == (23, 17), m2.shape
i, j = np.meshgrid(g(23), g(17), indexing='ij')
assert (m2 == i + j * 23).all()
assert f['m2'].attrs['distribution'] in (b'block_cyclic_2d', 'block_cyclic_2d')
assert int(f.attrs['nprocs']) == int(__import__('os').environ['NP'])
PY
echo PASS
