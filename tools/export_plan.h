// How `srs export` gathers one array of a committed checkpoint into global index order: a plan
// (from the layout planner's whole-array plan, or built here for per-rank "none" data) of which
// selections of which old rank's piece land where in the global array, cut into chunks small
// enough to hold in memory, each read with one ranged read from the depot holding the piece.
#ifndef SRS_TOOLS_EXPORT_PLAN_H_
#define SRS_TOOLS_EXPORT_PLAN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/datatype.h"
#include "depot/client/depot_client.h"
#include "libsrs/src/layout/planner.h"
#include "srs/rss/v1/rss.grpc.pb.h"

namespace srs::tools {

namespace rssv1 = ::srs::rss::v1;

// One chunk: `src` selections of old rank `src_rank`'s piece (request order), whose elements go,
// in order, to the `dst` selections of the global array.
struct ExportChunk {
  int src_rank = 0;
  std::vector<layout::Hyperslab> src;
  std::vector<layout::Hyperslab> dst;
  int64_t elements = 0;
};

// Elements [first, last) of a hyperslab's iteration order, as at most three hyperslabs.
std::vector<layout::Hyperslab> SliceSlab(const layout::Hyperslab& slab, int64_t first,
                                         int64_t last);

// Cuts a plan into chunks of at most `max_elements` elements each (a slab pair larger than that
// is sliced), keeping the element-by-element correspondence of src and dst.
std::vector<ExportChunk> ChunkPlan(const std::vector<layout::Transfer>& plan, int64_t max_elements);

// One client per depot address, created on first use.
class DepotSet {
 public:
  explicit DepotSet(absl::Duration rpc_timeout) : rpc_timeout_(rpc_timeout) {}
  absl::StatusOr<DepotClient*> Get(const std::string& address);

 private:
  absl::Duration rpc_timeout_;
  std::map<std::string, std::unique_ptr<DepotClient>> clients_;
};

// The whole-array plan of `array` as checkpointed by `checkpoint`'s nprocs ranks. Reads the
// /srs_index lists of user-defined layouts from the pieces.
absl::StatusOr<std::vector<layout::Transfer>> PlanWholeArray(
    const rssv1::CheckpointSummary& checkpoint, const rssv1::ArraySpec& array, DepotSet* depots);

// Reads one chunk's elements (as `type`) from the depot holding the piece into `out`.
absl::Status ReadChunk(const rssv1::CheckpointSummary& checkpoint, const std::string& dataset,
                       ElementType type, const ExportChunk& chunk, DepotSet* depots,
                       std::vector<char>* out);

}  // namespace srs::tools

#endif  // SRS_TOOLS_EXPORT_PLAN_H_
