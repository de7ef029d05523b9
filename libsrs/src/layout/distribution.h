// Distributions of a 1-D global array over the P ranks of a run (DESIGN.md §2), described in a
// form the redistribution planner can intersect without visiting every element.
//
//   using srs::layout::Distribution;
//   Distribution d = Distribution::BlockCyclic(64);
//   SRS_RETURN_IF_ERROR(d.Validate(n, nprocs));          // always before the queries below
//   int64_t mine = d.LocalCount(n, rank, nprocs);
//   for (const Segment& s : d.Segments(n, rank, nprocs)) { ... }   // O(1) for regular kinds
//
// A Distribution is an immutable value (a shared_ptr to its parameters or tables): cheap to
// copy, safe to share between threads. The factories never fail; Validate(global_count, nprocs)
// says whether the layout makes sense for one array on one run, and every other query has that
// as its precondition (on an invalid layout they return empty/zero results, never crash).
#ifndef SRS_LIBSRS_SRC_LAYOUT_DISTRIBUTION_H_
#define SRS_LIBSRS_SRC_LAYOUT_DISTRIBUTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace srs {
namespace layout {

// One 1-D HDF5 hyperslab: `count` blocks of `block` consecutive indices, block j starting at
// start + j*stride. The planner keeps stride >= block when count > 1 (HDF5 forbids overlapping
// blocks) and writes stride = block when count == 1. Same fields as srs::piece::Hyperslab.
struct Hyperslab {
  int64_t start = 0;
  int64_t stride = 1;
  int64_t count = 0;
  int64_t block = 1;

  int64_t elements() const { return count * block; }
  bool operator==(const Hyperslab& o) const {
    return start == o.start && stride == o.stride && count == o.count && block == o.block;
  }
};

// Converts to any struct with the same four field names (e.g. srs::piece::Hyperslab).
template <typename T>
T ConvertSlab(const Hyperslab& h) {
  T t;
  t.start = h.start;
  t.stride = h.stride;
  t.count = h.count;
  t.block = h.block;
  return t;
}

// A regular run of one rank's elements: `count` blocks of `block` consecutive global indices,
// global index global_start + j*global_stride + k (0 <= j < count, 0 <= k < block) sitting at
// local position local_start + j*block + k. A rank's segments are listed in local order, their
// local ranges tile 0..LocalCount-1, and global_stride > block whenever count > 1 (a contiguous
// run is one block: count 1, global_stride = block).
struct Segment {
  int64_t global_start = 0;
  int64_t global_stride = 1;
  int64_t count = 0;
  int64_t block = 1;
  int64_t local_start = 0;

  int64_t elements() const { return count * block; }
  bool operator==(const Segment& o) const {
    return global_start == o.global_start && global_stride == o.global_stride && count == o.count &&
           block == o.block && local_start == o.local_start;
  }
};

enum class Kind { kBlock, kCyclic, kBlockCyclic, kBlockCyclic2D, kFunc, kMap, kExplicit };

// "block", "cyclic", "block_cyclic", "block_cyclic_2d", "func", "map", "explicit".
absl::string_view KindName(Kind kind);

// Where a global element lives: rank -1 / local -1 for an index out of range.
struct Location {
  int rank = -1;
  int64_t local = -1;
  bool operator==(const Location& o) const { return rank == o.rank && local == o.local; }
};

// A user function (SRS_DistributeFunc without the `user` pointer, which the caller binds):
// sets *owner (0 <= owner < nprocs) and *local for `global`, returns 0 (non-zero = error).
using DistributeFn = std::function<int(int64_t global, int nprocs, int* owner, int64_t* local)>;

// ScaLAPACK's NUMROC: how many of n rows (or columns), dealt in blocks of nb starting on process
// isrcproc, process iproc of nprocs owns.
int64_t Numroc(int64_t n, int64_t nb, int iproc, int isrcproc, int nprocs);

class Distribution {
 public:
  class Impl;  // one per kind, in the .cc files

  // Rank r holds one contiguous run; the first global_count % P ranks hold one element more.
  static Distribution Block();
  // Element i on rank i % P.
  static Distribution Cyclic();
  // Block i / b on rank (i / b) % P; b >= 1 (checked by Validate).
  static Distribution BlockCyclic(int64_t block_size);
  // ScaLAPACK 2-D block-cyclic layout of a rows x cols column-major matrix (global index
  // i + j*rows); grid rank = prow*npcol + pcol; local piece column-major, leading dimension
  // Numroc(rows, mb, prow, rsrc, nprow).
  static Distribution BlockCyclic2D(int64_t rows, int64_t cols, int64_t mb, int64_t nb, int nprow,
                                    int npcol, int rsrc, int csrc);
  // A user function, evaluated once per element per (global_count, nprocs) and cached in a
  // table (the table is what Validate checks: owners in range, local indices a bijection).
  static Distribution Func(DistributeFn fn);
  // owner[i] = rank of global element i; a rank stores its elements in increasing global order.
  static Distribution Map(std::vector<int> owner);
  // Rank r holds global_index_per_rank[r][k] at local position k (the layout of an old
  // user-defined piece, rebuilt at restart from its /srs_index lists).
  static Distribution Explicit(std::vector<std::vector<int64_t>> global_index_per_rank);

  // Rebuilds a regular kind from its name and params() (as stored in a piece or the RSS).
  // INVALID_ARGUMENT for an unknown name, a wrong number of params, or func/map/explicit
  // (those need their tables: use Explicit() with the stored index lists).
  static absl::StatusOr<Distribution> FromSpec(absl::string_view name,
                                               const std::vector<int64_t>& params);

  Kind kind() const;
  std::string name() const { return std::string(KindName(kind())); }
  // {} for block/cyclic/func/map/explicit, {b} for block_cyclic,
  // {rows, cols, mb, nb, nprow, npcol, rsrc, csrc} for block_cyclic_2d.
  std::vector<int64_t> params() const;
  // True for func/map/explicit: pieces must carry /srs_index (GlobalIndexOfLocal).
  bool user_defined() const;
  // e.g. "block_cyclic(64)".
  std::string DebugString() const;

  // OK if this layout can distribute global_count elements over nprocs ranks. INVALID_ARGUMENT
  // with a message naming the parameter otherwise (negative count, nprocs < 1, block size < 1,
  // 2-D rows*cols != global_count or nprow*npcol != nprocs, map of the wrong size or an owner
  // out of range, a func that fails, returns an owner out of range or local indices that are
  // not a bijection, explicit lists that do not cover 0..global_count-1 exactly once).
  absl::Status Validate(int64_t global_count, int nprocs) const;

  // Everything below requires Validate(global_count, nprocs).ok() and 0 <= rank < nprocs.
  int64_t LocalCount(int64_t global_count, int rank, int nprocs) const;
  // The rank's elements as segments in local order. O(1) segments for block, cyclic and
  // block_cyclic; O(owned column blocks) for block_cyclic_2d (O(1) when nprow == 1); runs of
  // the table for func/map/explicit.
  std::vector<Segment> Segments(int64_t global_count, int rank, int nprocs) const;
  Location Locate(int64_t global, int64_t global_count, int nprocs) const;
  // global index of each local element, in local order (the /srs_index of a func/map piece).
  std::vector<int64_t> GlobalIndexOfLocal(int64_t global_count, int rank, int nprocs) const;
  // True when every rank stores its elements in increasing global order (all kinds but some
  // func/explicit layouts). Then a plan between two such layouts maps increasing source
  // positions to increasing destination positions.
  bool LocalOrderIsGlobalOrder(int64_t global_count, int nprocs) const;

  const std::shared_ptr<const Impl>& impl() const { return impl_; }

 private:
  explicit Distribution(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace layout
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_LAYOUT_DISTRIBUTION_H_
