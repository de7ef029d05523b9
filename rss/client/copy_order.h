// Which copy of an old piece a restart (or `srs export`) reads, and what it does when a read
// fails (issue 13: restart reads any healthy copy). Pure logic over the copies the RSS answered,
// so it is tested without daemons (tests/rss/copy_order_test.cc); the readers supply the I/O.
//
// Order: a copy on this host first (no network), then the other readable copies, least loaded
// first (load = the reads this process already sent to that depot), ties broken by the old rank
// so the ranks of a restart spread over the copies instead of all reading the first. Copies the
// RSS reports on a down depot, or lost, are never tried: with no other copy the read fails at
// once instead of retrying a dead address for the whole RPC timeout. A failed read of one copy
// (UNAVAILABLE, DEADLINE_EXCEEDED, NOT_FOUND, DATA_LOSS — a checksum mismatch is DATA_LOSS) falls
// back to the next; any other error (a bad request) fails at once, as every copy would refuse
// it alike. When no copy is left, the error names every depot tried or skipped, and why.
#ifndef SRS_RSS_CLIENT_COPY_ORDER_H_
#define SRS_RSS_CLIENT_COPY_ORDER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {

// One copy of an old piece, as the RSS answered it.
struct CopyLocation {
  std::string depot_id;
  std::string address;  // the depot's current address
  std::string read_cap;
  // "ok", "depot_down", "depot_unknown", "lost", or "" (an RSS that predates copies).
  std::string state;
  int64_t last_seen_unix_ms = 0;  // of its depot; 0 = unknown
};

// Every copy of one old rank's piece, in the order to try them.
struct PieceLocation {
  int rank = 0;
  std::vector<CopyLocation> copies;
};

// The copies of `record` in the RSS's order (the writer's first); legacy records give one copy.
PieceLocation LocationOf(const rss::v1::PieceRecord& record);

// False for copies the RSS reports down or lost: those are not tried.
bool IsReadable(const CopyLocation& copy);
// Load is counted per depot: its id, or its address when the id is unknown.
std::string DepotKey(const CopyLocation& copy);

// `piece` with its copies in the order to try them: readable copies on this host
// (`on_my_host(copy)`) first, then the other readable ones by ascending `load[DepotKey]`, ties
// by (position - old rank) modulo the copy count; unreadable copies last (kept for the error).
PieceLocation OrderCopies(const PieceLocation& piece,
                          const std::function<bool(const CopyLocation&)>& on_my_host,
                          const std::map<std::string, int>& load);

// Whether a failed read of one copy should fall back to the next copy.
bool IsFallbackError(const absl::Status& status);

// Runs `read` on the copies of `piece` in order until one succeeds. Unreadable copies are
// skipped. `what` names the read for the error ("array 'u': old rank 3's piece"). When every
// copy failed: the status of the last failure's code (UNAVAILABLE when none was tried) with a
// message naming each depot (id and address) and why ("down since <time>", the read error).
absl::Status ReadAnyCopy(const PieceLocation& piece, const std::string& what,
                         const std::function<absl::Status(const CopyLocation&)>& read);

}  // namespace srs

#endif  // SRS_RSS_CLIENT_COPY_ORDER_H_
