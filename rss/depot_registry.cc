#include "rss/depot_registry.h"

#include <algorithm>

#include "rss/client/piece_copies.h"

namespace srs {

namespace v1 = rss::v1;

void DepotRegistry::Load(const std::vector<v1::DepotRecord>& depots) {
  depots_.clear();
  for (const v1::DepotRecord& depot : depots) Put(depot);
}

v1::DepotRecord DepotRegistry::RecordOf(const v1::RegisterDepotRequest& req, absl::Time now) const {
  v1::DepotRecord depot;
  // A depot without an id is known by its address.
  depot.set_depot_id(req.depot_id().empty() ? req.address() : req.depot_id());
  depot.set_host(req.host());
  depot.set_address(req.address());
  depot.set_capacity_bytes(req.capacity_bytes());
  depot.set_free_bytes(req.free_bytes());
  depot.set_last_seen_unix_ms(absl::ToUnixMillis(now));
  depot.set_failure_domain(req.failure_domain().empty() ? req.host() : req.failure_domain());
  depot.set_heartbeat_seconds(std::max(0, req.heartbeat_seconds()));
  return depot;
}

std::string DepotRegistry::Put(const v1::DepotRecord& depot) {
  v1::DepotRecord& slot = depots_[depot.depot_id()];
  std::string replaced =
      !slot.address().empty() && slot.address() != depot.address() ? slot.address() : "";
  slot = depot;
  slot.clear_state();  // computed at answer time, never stored
  // Records stored before failure domains existed: the host is the domain.
  if (slot.failure_domain().empty()) slot.set_failure_domain(slot.host());
  return replaced;
}

absl::Duration DepotRegistry::DownAfter(const v1::DepotRecord& depot) const {
  absl::Duration heartbeat = depot.heartbeat_seconds() > 0
                                 ? absl::Seconds(depot.heartbeat_seconds())
                                 : kDefaultDepotHeartbeat;
  return std::max(down_timeout_, 3 * heartbeat + absl::Seconds(2));
}

bool DepotRegistry::DepotIsUp(const v1::DepotRecord& depot, absl::Time now) const {
  if (depot.last_seen_unix_ms() <= 0) return false;
  return now - absl::FromUnixMillis(depot.last_seen_unix_ms()) <= DownAfter(depot);
}

const v1::DepotRecord* DepotRegistry::ById(const std::string& id) const {
  auto it = depots_.find(id);
  return it == depots_.end() ? nullptr : &it->second;
}

const v1::DepotRecord* DepotRegistry::ByAddress(const std::string& address) const {
  const v1::DepotRecord* best = nullptr;
  for (const auto& [id, depot] : depots_) {
    if (depot.address() != address) continue;
    if (best == nullptr || depot.last_seen_unix_ms() > best->last_seen_unix_ms()) best = &depot;
  }
  return best;
}

std::string DepotRegistry::IdOfAddress(const std::string& address) const {
  const v1::DepotRecord* depot = ByAddress(address);
  return depot == nullptr ? std::string() : depot->depot_id();
}

std::vector<v1::DepotRecord> DepotRegistry::List(absl::Time now) const {
  std::vector<v1::DepotRecord> out;
  for (const auto& [id, depot] : depots_) {
    out.push_back(depot);
    out.back().set_state(DepotIsUp(depot, now) ? "up" : "down");
  }
  return out;
}

std::string DepotRegistry::CurrentAddress(const v1::PieceCopy& copy) const {
  const v1::DepotRecord* depot = copy.depot_id().empty() ? nullptr : ById(copy.depot_id());
  return depot == nullptr ? copy.depot_address() : depot->address();
}

v1::PieceRecord DepotRegistry::PresentPiece(const v1::PieceRecord& record, absl::Time now,
                                            bool strip_manage) const {
  v1::PieceRecord out = WithLegacyMirror(record);
  for (v1::PieceCopy& copy : *out.mutable_copies()) {
    const v1::DepotRecord* depot = copy.depot_id().empty() ? nullptr : ById(copy.depot_id());
    if (depot == nullptr && copy.depot_id().empty()) depot = ByAddress(copy.depot_address());
    if (strip_manage) copy.clear_manage_cap();
    if (depot == nullptr) {
      if (copy.state() != "lost") copy.set_state("depot_unknown");
      continue;
    }
    copy.set_depot_address(depot->address());
    copy.set_failure_domain(depot->failure_domain());
    copy.set_depot_last_seen_unix_ms(depot->last_seen_unix_ms());
    if (copy.state() != "lost") copy.set_state(DepotIsUp(*depot, now) ? "ok" : "depot_down");
  }
  out = WithLegacyMirror(std::move(out));
  if (strip_manage) out.clear_manage_cap();
  return out;
}

v1::PieceRecord DepotRegistry::NormalizePiece(const v1::PieceRecord& record) const {
  v1::PieceRecord out = WithLegacyMirror(record);
  for (v1::PieceCopy& copy : *out.mutable_copies()) {
    if (copy.depot_id().empty()) copy.set_depot_id(IdOfAddress(copy.depot_address()));
    // Answer-only fields: a client does not get to say a copy is healthy.
    copy.clear_state();
    copy.clear_failure_domain();
    copy.clear_depot_last_seen_unix_ms();
  }
  return WithLegacyMirror(std::move(out));
}

}  // namespace srs
