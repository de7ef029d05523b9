// Internal to srs_layout: the per-kind implementation interface behind Distribution, and the
// small arithmetic and segment helpers the kinds share.
#ifndef SRS_LIBSRS_SRC_LAYOUT_IMPL_H_
#define SRS_LIBSRS_SRC_LAYOUT_IMPL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "libsrs/src/layout/distribution.h"

namespace srs {
namespace layout {

// One subclass per kind. Distribution checks the generic preconditions (impl present,
// global_count >= 0, nprocs >= 1, rank in range) before calling the query methods, which may
// also assume Validate(global_count, nprocs) succeeded.
class Distribution::Impl {
 public:
  virtual ~Impl() = default;
  virtual Kind kind() const = 0;
  virtual std::vector<int64_t> params() const { return {}; }
  virtual absl::Status Validate(int64_t global_count, int nprocs) const = 0;
  virtual int64_t LocalCount(int64_t global_count, int rank, int nprocs) const = 0;
  virtual std::vector<Segment> Segments(int64_t global_count, int rank, int nprocs) const = 0;
  virtual Location Locate(int64_t global, int64_t global_count, int nprocs) const = 0;
  virtual bool LocalOrderIsGlobalOrder(int64_t global_count, int nprocs) const { return true; }
};

namespace internal {

// Division rounding toward minus infinity (b > 0): patterns are extended below their start.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
inline int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// global_count >= 0 and nprocs >= 1, with `what` (the kind) in the message.
absl::Status CheckShape(const char* what, int64_t global_count, int nprocs);

// Appends `s` to a rank's segment list in local order: skips it if empty, normalizes a
// contiguous run to one block, and merges it into the previous segment when the pair is still
// one regular run. This is what keeps segment lists O(1) for regular kinds.
void AppendSegment(std::vector<Segment>* out, Segment s);

// The segments of a block-cyclic pattern over n elements (blocks of b, block J on the process at
// distance J % P from the source), for the process at distance d, shifted by global_base and
// local_base. Shared by block_cyclic (the whole array) and block_cyclic_2d (rows of a column).
void AppendBlockCyclicSegments(int64_t n, int64_t b, int nprocs, int d, int64_t global_base,
                               int64_t local_base, std::vector<Segment>* out);

std::shared_ptr<const Distribution::Impl> NewBlockImpl();
std::shared_ptr<const Distribution::Impl> NewBlockCyclicImpl(int64_t block_size, bool cyclic);
std::shared_ptr<const Distribution::Impl> NewBlockCyclic2DImpl(int64_t rows, int64_t cols,
                                                               int64_t mb, int64_t nb, int nprow,
                                                               int npcol, int rsrc, int csrc);
std::shared_ptr<const Distribution::Impl> NewFuncImpl(DistributeFn fn);
std::shared_ptr<const Distribution::Impl> NewMapImpl(std::vector<int> owner);
std::shared_ptr<const Distribution::Impl> NewExplicitImpl(
    std::vector<std::vector<int64_t>> global_index_per_rank);

}  // namespace internal
}  // namespace layout
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_LAYOUT_IMPL_H_
