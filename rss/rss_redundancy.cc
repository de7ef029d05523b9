// RssState: redundancy (issue 13) — where the copies of each rank's piece go, whether a
// checkpoint's copies are complete, and how copies are shown to clients.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rss/client/piece_copies.h"
#include "rss/replica_placement.h"
#include "rss/rss_state.h"

namespace srs {

namespace v1 = rss::v1;

namespace {

std::string DomainOf(const v1::DepotRecord& depot) {
  return depot.failure_domain().empty() ? depot.host() : depot.failure_domain();
}

PlacementDepot ToPlacement(const v1::DepotRecord& depot) {
  return {depot.depot_id(), depot.address(), DomainOf(depot)};
}

}  // namespace

// Up as the depot registry judges it from heartbeats (rss/depot_registry.h).
bool RssState::DepotUp(const v1::DepotRecord& depot) const {
  return registry_.DepotIsUp(depot, options_.clock());
}

// The depot a copy is on: by id; a copy without one (written before depots were known by id) by
// the address it was written to. Null when the RSS knows no such depot.
const v1::DepotRecord* RssState::DepotOfCopy(const v1::PieceCopy& copy) const {
  return copy.depot_id().empty() ? registry_.ByAddress(copy.depot_address())
                                 : registry_.ById(copy.depot_id());
}

absl::StatusOr<std::vector<v1::ReplicaTargets>> RssState::PlaceCopies(
    const std::vector<std::string>& rank_depots, int copies) const {
  std::vector<v1::ReplicaTargets> out(rank_depots.size());
  if (copies <= 1) return out;
  std::vector<PlacementDepot> live;
  for (const v1::DepotRecord& depot : registry_.List(options_.clock())) {
    if (depot.state() == "up") live.push_back(ToPlacement(depot));
  }
  // A rank's depot is named by address: the most recently seen depot registered there.
  std::vector<PlacementDepot> own;
  for (size_t r = 0; r < rank_depots.size(); ++r) {
    const v1::DepotRecord* found = registry_.ByAddress(rank_depots[r]);
    if (found == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "redundancy: rank ", r, "'s depot ", rank_depots[r],
          " is not registered with the RSS, so its failure domain is unknown; copies need "
          "registered depots (srs-depot --rss ...)"));
    }
    own.push_back(ToPlacement(*found));
  }
  absl::StatusOr<std::vector<std::vector<PlacementDepot>>> placed =
      PlaceReplicas(own, live, copies);
  if (!placed.ok()) return placed.status();
  for (size_t r = 0; r < placed->size(); ++r) {
    for (const PlacementDepot& depot : (*placed)[r]) {
      v1::ReplicaTarget* target = out[r].add_targets();
      target->set_depot_id(depot.id);
      target->set_address(depot.address);
      target->set_failure_domain(depot.failure_domain);
    }
  }
  return out;
}

absl::Status RssState::CheckCopies(const Checkpoint& ckpt, int copies) const {
  if (copies <= 1) return absl::OkStatus();
  std::vector<std::string> short_ranks;
  int count = 0;
  for (const auto& [rank, piece] : ckpt.pieces) {
    std::set<std::string> domains;
    std::vector<std::string> unknown;
    for (const v1::PieceCopy& copy : CopiesOf(piece)) {
      const v1::DepotRecord* depot = DepotOfCopy(copy);
      if (depot == nullptr) {
        unknown.push_back(copy.depot_id().empty() ? copy.depot_address() : copy.depot_id());
        continue;
      }
      domains.insert(DomainOf(*depot));
    }
    if (static_cast<int>(domains.size()) >= copies) continue;
    if (++count > 10) continue;
    short_ranks.push_back(absl::StrCat(
        "rank ", rank, ": ", domains.size(), " failure domain(s) (", absl::StrJoin(domains, ", "),
        ")",
        unknown.empty()
            ? ""
            : absl::StrCat(", copies on unknown depots: ", absl::StrJoin(unknown, ", "))));
  }
  if (count == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "CommitCheckpoint: epoch ", ckpt.summary.epoch(), " needs ", copies,
      " copies of every piece on distinct failure domains; ", count,
      " piece(s) fall short: ", absl::StrJoin(short_ranks, "; "), count > 10 ? "; ..." : ""));
}

std::string RssState::CopyAddress(const v1::PieceCopy& copy) const {
  const v1::DepotRecord* depot = DepotOfCopy(copy);
  if (depot != nullptr && !depot->address().empty()) return depot->address();
  return copy.depot_address();
}

}  // namespace srs
