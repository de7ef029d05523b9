#include "rss/client/copy_order.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "rss/client/piece_copies.h"

namespace srs {

PieceLocation LocationOf(const rss::v1::PieceRecord& record) {
  PieceLocation out;
  out.rank = record.rank();
  for (const rss::v1::PieceCopy& copy : CopiesOf(record)) {
    out.copies.push_back({copy.depot_id(), copy.depot_address(), copy.read_cap(), copy.state(),
                          copy.depot_last_seen_unix_ms()});
  }
  return out;
}

bool IsReadable(const CopyLocation& copy) {
  return copy.state != "depot_down" && copy.state != "lost";
}

std::string DepotKey(const CopyLocation& copy) {
  return copy.depot_id.empty() ? copy.address : copy.depot_id;
}

PieceLocation OrderCopies(const PieceLocation& piece,
                          const std::function<bool(const CopyLocation&)>& on_my_host,
                          const std::map<std::string, int>& load) {
  const int n = static_cast<int>(piece.copies.size());
  // Sort key: (unreadable, not local, load, rotation by old rank).
  std::vector<std::tuple<int, int, int, int, int>> keys;
  for (int i = 0; i < n; ++i) {
    const CopyLocation& copy = piece.copies[i];
    const bool readable = IsReadable(copy);
    const bool local = readable && on_my_host && on_my_host(copy);
    auto found = load.find(DepotKey(copy));
    const int used = found == load.end() ? 0 : found->second;
    const int rotation = ((i - piece.rank) % n + n) % n;
    keys.emplace_back(readable ? 0 : 1, local ? 0 : 1, readable ? used : 0, rotation, i);
  }
  std::sort(keys.begin(), keys.end());
  PieceLocation out;
  out.rank = piece.rank;
  for (const auto& key : keys) out.copies.push_back(piece.copies[std::get<4>(key)]);
  return out;
}

bool IsFallbackError(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsNotFound(status) || absl::IsDataLoss(status);
}

namespace {

std::string Describe(const CopyLocation& copy) {
  return absl::StrCat("depot ", copy.depot_id.empty() ? "(unregistered)" : copy.depot_id, " (",
                      copy.address, ")");
}

std::string WhySkipped(const CopyLocation& copy) {
  if (copy.state == "lost") return "not tried: the copy is lost (a repair found it gone)";
  std::string since =
      copy.last_seen_unix_ms > 0
          ? absl::StrCat(" since ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                                     absl::FromUnixMillis(copy.last_seen_unix_ms),
                                                     absl::UTCTimeZone()))
          : "";
  return absl::StrCat("not tried: down", since, " (no heartbeat at the RSS)");
}

}  // namespace

absl::Status ReadAnyCopy(const PieceLocation& piece, const std::string& what,
                         const std::function<absl::Status(const CopyLocation&)>& read) {
  std::vector<std::string> tried;
  absl::StatusCode code = absl::StatusCode::kUnavailable;
  for (size_t i = 0; i < piece.copies.size(); ++i) {
    const CopyLocation& copy = piece.copies[i];
    if (!IsReadable(copy)) {
      tried.push_back(absl::StrCat(Describe(copy), ": ", WhySkipped(copy)));
      continue;
    }
    absl::Status status = read(copy);
    if (status.ok()) {
      if (!tried.empty()) {
        SRS_LOG(WARNING).Field("depot", DepotKey(copy))
            << what << ": read from another copy after " << absl::StrJoin(tried, "; ");
      }
      return status;
    }
    if (!IsFallbackError(status)) {
      return Annotate(status, absl::StrCat(what, " from ", Describe(copy)));
    }
    code = status.code();
    tried.push_back(absl::StrCat(Describe(copy), ": ", status.ToString()));
  }
  if (piece.copies.empty()) {
    return absl::DataLossError(absl::StrCat(what, ": the checkpoint records no copy of it"));
  }
  return absl::Status(code, absl::StrCat(what, ": no copy could be read (", piece.copies.size(),
                                         piece.copies.size() == 1 ? " copy" : " copies",
                                         "): ", absl::StrJoin(tried, "; ")));
}

}  // namespace srs
