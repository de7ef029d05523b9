// Where the redundant copies of a checkpoint's pieces go (issue 13), as a pure function.
//
// Every rank writes its piece to its own depot; with K copies in all, the piece is copied to K-1
// other depots, each in another failure domain than the rank's depot and than each other. The
// job's own failure domains (where its ranks write) form a ring in sorted order, like SCR's
// PARTNER scheme, which pairs a node with the next one of the job's nodes: a rank's copies go to
// the next domains of that ring with a live depot, so losing one domain never takes both a piece
// and its first copy, the load spreads around the ring, and copies stay on the job's own hosts.
// Only when the job spans too few domains do copies go to other domains with a live depot.
// Inside a target domain, the ranks that land there are spread round-robin over its live depots
// (sorted by id).
//
//   std::vector<PlacementDepot> own = {{"d-a", "a:7000", "hostA"}, {"d-b", "b:7000", "hostB"}};
//   auto targets = PlaceReplicas(own, live_depots, /*copies=*/2);
//   // (*targets)[0] == {d-b on hostB}, (*targets)[1] == {d-a on hostA}
#ifndef SRS_RSS_REPLICA_PLACEMENT_H_
#define SRS_RSS_REPLICA_PLACEMENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace srs {

inline constexpr int kMaxCopies = 8;

struct PlacementDepot {
  std::string id;
  std::string address;
  std::string failure_domain;  // never empty (the depot's host unless it registered another)
};

// The copies a `redundancy` value asks for: "" or "none" -> 1, "partner" -> 2, "replicas:K" ->
// K (1 <= K <= kMaxCopies). INVALID_ARGUMENT (naming the value and the accepted forms) for
// anything else. Case-sensitive: the library sends it lower-cased.
absl::StatusOr<int> CopiesForRedundancy(absl::string_view redundancy);
// The stored form of a valid value: "none", "partner" or "replicas:K".
std::string NormalizeRedundancy(absl::string_view redundancy);

// For each rank r (index into `rank_depots`, its own depot), the `copies - 1` depots its piece is
// copied to, in ring order. `live`: the depots that may receive copies (up). `copies` in
// 1..kMaxCopies (INVALID_ARGUMENT otherwise); 1 gives empty lists. FAILED_PRECONDITION when some
// rank cannot get copies-1 targets in other failure domains than its own, with a message naming
// the redundancy, the domains that have a live depot and the rank's domain.
absl::StatusOr<std::vector<std::vector<PlacementDepot>>> PlaceReplicas(
    const std::vector<PlacementDepot>& rank_depots, const std::vector<PlacementDepot>& live,
    int copies);

}  // namespace srs

#endif  // SRS_RSS_REPLICA_PLACEMENT_H_
