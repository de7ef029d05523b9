// DepotRegistry: the depots the RSS knows, by id (issue 13: depots are known by id, not address).
//
// A depot registers at start and then re-registers every few seconds; each registration is its
// heartbeat and may carry a new address (a depot restarted on another port keeps its id, which
// it stores in its directory), host, failure domain, free space and heartbeat period. A depot is
// "down" when no registration arrived within DownAfter() = max(down_timeout,
// 3 * heartbeat + 2 s): about three missed heartbeats, and never less than the operator's
// --depot-timeout. Down depots get no new pieces (`depot = auto` skips them) and their copies are
// not offered to reads.
//
// Pieces name their copies by depot id; PresentPiece fills each copy with its depot's CURRENT
// address and state for an answer, so a depot that moved still serves what it holds.
//
// Plain data: not thread-safe (RssState keeps it under its mutex). Times are passed in, so tests
// move a fake clock.
#ifndef SRS_RSS_DEPOT_REGISTRY_H_
#define SRS_RSS_DEPOT_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {

// The heartbeat period assumed for a depot that does not announce one (older depots re-register
// every 5 s).
inline constexpr absl::Duration kDefaultDepotHeartbeat = absl::Seconds(5);
// Default and bounds of srs-rss --depot-timeout.
inline constexpr absl::Duration kDefaultDepotDownTimeout = absl::Seconds(15);
inline constexpr absl::Duration kMinDepotDownTimeout = absl::Milliseconds(100);
inline constexpr absl::Duration kMaxDepotDownTimeout = absl::Hours(24);

class DepotRegistry {
 public:
  explicit DepotRegistry(absl::Duration down_timeout = kDefaultDepotDownTimeout)
      : down_timeout_(down_timeout) {}

  // Replaces the contents with `depots` (loaded from the store); state fields are ignored.
  void Load(const std::vector<rss::v1::DepotRecord>& depots);

  // The record a (validated) registration makes at `now`: id (the address when the depot sent
  // none), host, address, failure domain (the host when ""), space, heartbeat, last_seen. Does
  // not change the registry: the caller stores it, then calls Put.
  rss::v1::DepotRecord RecordOf(const rss::v1::RegisterDepotRequest& req, absl::Time now) const;
  // Adds or replaces the record with `depot.depot_id()`. Returns the address it replaces ("" when
  // the depot is new or kept its address), for the log.
  std::string Put(const rss::v1::DepotRecord& depot);

  // How long `depot` may stay silent before it is down.
  absl::Duration DownAfter(const rss::v1::DepotRecord& depot) const;
  bool DepotIsUp(const rss::v1::DepotRecord& depot, absl::Time now) const;
  // Null when no depot has that id / address. Several ids may have held one address over time:
  // ById is exact, ByAddress answers the one seen last.
  const rss::v1::DepotRecord* ById(const std::string& id) const;
  const rss::v1::DepotRecord* ByAddress(const std::string& address) const;
  // The id of the depot registered at `address`, "" when none.
  std::string IdOfAddress(const std::string& address) const;
  // Every depot (by id), with state "up"/"down" at `now`.
  std::vector<rss::v1::DepotRecord> List(absl::Time now) const;

  // The address to reach the depot holding `copy` now: its depot's current address, or the
  // copy's recorded address when its depot id is unknown.
  std::string CurrentAddress(const rss::v1::PieceCopy& copy) const;
  // `record` as an answer carries it: copies filled (from the legacy fields if needed), each with
  // its depot's current address, state ("ok", "depot_down", "depot_unknown"; a "lost" mark is
  // kept), failure domain and last heartbeat; manage capabilities stripped when `strip_manage`;
  // the legacy fields mirror copies[0].
  rss::v1::PieceRecord PresentPiece(const rss::v1::PieceRecord& record, absl::Time now,
                                    bool strip_manage) const;
  // `record` as the RSS stores it: copies filled from the legacy fields when absent, each copy
  // without a depot id given the id of the depot registered at its address (if any), answer-only
  // fields cleared, legacy fields = copies[0].
  rss::v1::PieceRecord NormalizePiece(const rss::v1::PieceRecord& record) const;

 private:
  absl::Duration down_timeout_;
  std::map<std::string, rss::v1::DepotRecord> depots_;  // by id
};

}  // namespace srs

#endif  // SRS_RSS_DEPOT_REGISTRY_H_
