// PlanRead: the new rank's segments against each old rank's segments. Only segment pairs whose
// global ranges overlap are intersected (a sweep over the new segments sorted by start), so a
// 2-D layout with many segments per rank does not cost a product of the two lists.
#include "libsrs/src/layout/planner.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "libsrs/src/layout/intersect.h"
#include "libsrs/src/layout/slab.h"

namespace srs {
namespace layout {
namespace {

using internal::SlabPair;

int64_t SegmentEnd(const Segment& s) {
  return s.global_start + (s.count - 1) * s.global_stride + s.block;
}

// The new rank's segments ordered by global start, with the running maximum of their ends so
// the first one that can reach a given index is found by binary search.
class SegmentIndex {
 public:
  explicit SegmentIndex(std::vector<Segment> segs) : segs_(std::move(segs)) {
    std::sort(segs_.begin(), segs_.end(),
              [](const Segment& a, const Segment& b) { return a.global_start < b.global_start; });
    int64_t max_end = INT64_MIN;
    for (const Segment& s : segs_) {
      max_end = std::max(max_end, SegmentEnd(s));
      max_end_.push_back(max_end);
    }
  }
  // Calls f(seg) for every segment whose global range overlaps [lo, hi), by start.
  template <typename F>
  void ForEachOverlapping(int64_t lo, int64_t hi, F f) const {
    size_t i = std::upper_bound(max_end_.begin(), max_end_.end(), lo) - max_end_.begin();
    for (; i < segs_.size() && segs_[i].global_start < hi; ++i) {
      if (SegmentEnd(segs_[i]) > lo) f(segs_[i]);
    }
  }

 private:
  std::vector<Segment> segs_;
  std::vector<int64_t> max_end_;
};

absl::Status CheckLayout(const char* which, const Distribution& d, int64_t global_count,
                         int nprocs) {
  return Annotate(d.Validate(global_count, nprocs),
                  absl::StrFormat("%s layout %s on %d processes", which, d.DebugString(), nprocs));
}

Transfer TransferFrom(int src_rank, const std::vector<SlabPair>& pairs) {
  Transfer t;
  t.src_rank = src_rank;
  t.src.reserve(pairs.size());
  t.dst.reserve(pairs.size());
  for (const SlabPair& p : pairs) {
    t.src.push_back(p.src);
    t.dst.push_back(p.dst);
    t.elements += p.src.elements();
  }
  return t;
}

}  // namespace

absl::StatusOr<std::vector<Transfer>> PlanRead(const Distribution& old_dist, int old_nprocs,
                                               const Distribution& new_dist, int new_nprocs,
                                               int new_rank, int64_t global_count) {
  SRS_RETURN_IF_ERROR(CheckLayout("old", old_dist, global_count, old_nprocs));
  SRS_RETURN_IF_ERROR(CheckLayout("new", new_dist, global_count, new_nprocs));
  if (new_rank < 0 || new_rank >= new_nprocs) {
    return absl::InvalidArgumentError(
        absl::StrFormat("new rank %d outside 0..%d", new_rank, new_nprocs - 1));
  }
  std::vector<Transfer> plan;
  SegmentIndex wanted(new_dist.Segments(global_count, new_rank, new_nprocs));
  for (int src_rank = 0; src_rank < old_nprocs; ++src_rank) {
    std::vector<SlabPair> pairs;
    for (const Segment& have : old_dist.Segments(global_count, src_rank, old_nprocs)) {
      wanted.ForEachOverlapping(have.global_start, SegmentEnd(have), [&](const Segment& want) {
        internal::IntersectSegments(have, want, &pairs);
      });
    }
    if (!pairs.empty()) plan.push_back(TransferFrom(src_rank, pairs));
  }
  return plan;
}

absl::StatusOr<std::vector<Transfer>> PlanReadWhole(const Distribution& old_dist, int old_nprocs,
                                                    int64_t global_count) {
  // One rank holding everything in a block layout is the global order itself.
  return PlanRead(old_dist, old_nprocs, Distribution::Block(), 1, 0, global_count);
}

int64_t TotalSlabs(const std::vector<Transfer>& plan) {
  int64_t n = 0;
  for (const Transfer& t : plan) n += static_cast<int64_t>(t.src.size() + t.dst.size());
  return n;
}

}  // namespace layout
}  // namespace srs
