// The redistribution planner: which selections of which old pieces a new rank needs, and where
// they land in its buffer, computed by intersecting the two layouts' segments (runs and strides),
// never by visiting every element.
//
//   SRS_ASSIGN_OR_RETURN(std::vector<Transfer> plan,
//                        PlanRead(old_dist, old_nprocs, new_dist, nprocs, rank, n));
//   for (const Transfer& t : plan) {
//     // read t.src (in request order) from old rank t.src_rank's piece into a buffer of
//     // t.elements, then scatter the buffer into the new local array along t.dst.
//   }
//
// Between periodic layouts (block, cyclic, block_cyclic with any block sizes and process counts)
// the plan has O(period) slabs independent of the array size: the intersection is computed in
// one period lcm(b1*P1, b2*P2) and repeated with a slab count, plus boundary pieces.
#ifndef SRS_LIBSRS_SRC_LAYOUT_PLANNER_H_
#define SRS_LIBSRS_SRC_LAYOUT_PLANNER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "libsrs/src/layout/distribution.h"

namespace srs {
namespace layout {

// What one new rank reads from one old rank's piece.
//  - src slabs index the OLD rank's local piece, dst slabs index the NEW rank's local buffer.
//  - src.size() == dst.size() and src[i].elements() == dst[i].elements(): src[i] and dst[i]
//    correspond element by element, each in its own iteration order (block j before block j+1,
//    index k before k+1 inside a block). So the k-th element of the concatenated src selection
//    (in request order, as srs::piece::ReadSelection returns it) goes to the k-th element of the
//    concatenated dst selection.
//  - No element appears twice in src, nor in dst. Slabs have count >= 1, block >= 1, and
//    stride >= block when count > 1 (stride == block when count == 1).
//  - When both layouts keep local order = global order (LocalOrderIsGlobalOrder), the mapping is
//    increasing, so the union of src (in index order) also matches the union of dst.
struct Transfer {
  int src_rank = 0;
  std::vector<Hyperslab> src;
  std::vector<Hyperslab> dst;
  int64_t elements = 0;
};

// The transfers new rank `new_rank` of `new_nprocs` needs to fill its piece of a
// `global_count`-element array laid out by `new_dist`, from the pieces of the old run
// (`old_nprocs` ranks, `old_dist`). Transfers are in increasing src_rank; old ranks that hold
// nothing this rank needs are omitted; the transfers' dst selections tile the new local buffer
// exactly. INVALID_ARGUMENT when either layout fails Validate (the message says which), or
// new_rank is out of range.
absl::StatusOr<std::vector<Transfer>> PlanRead(const Distribution& old_dist, int old_nprocs,
                                               const Distribution& new_dist, int new_nprocs,
                                               int new_rank, int64_t global_count);

// The same for a tool that wants the whole array in global order in one buffer (srs export):
// dst indexes the global array.
absl::StatusOr<std::vector<Transfer>> PlanReadWhole(const Distribution& old_dist, int old_nprocs,
                                                    int64_t global_count);

// Total number of slabs (src + dst) in a plan: the cost measure tests and benchmarks assert on.
int64_t TotalSlabs(const std::vector<Transfer>& plan);

}  // namespace layout
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_LAYOUT_PLANNER_H_
