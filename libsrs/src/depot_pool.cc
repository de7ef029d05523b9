#include "libsrs/src/depot_pool.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace srs {
namespace libsrs {

absl::StatusOr<std::shared_ptr<DepotClient>> DepotPool::Get(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = entries_[address];
  if (entry.client == nullptr) {
    SRS_ASSIGN_OR_RETURN(std::unique_ptr<DepotClient> client,
                         DepotClient::Connect(address, rpc_timeout_));
    entry.client = std::move(client);
  }
  return entry.client;
}

absl::StatusOr<bool> DepotPool::SharesHost(const std::string& address) {
  if (transport_ == Transport::kGrpc) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(address);
    if (it != entries_.end() && it->second.fast_path_denied) return false;
  }
  return OnMyHost(address);
}

void DepotPool::DenyFastPath(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = entries_[address];
  if (!entry.fast_path_denied) {
    SRS_LOG(INFO).Field("depot", address)
        << "the depot's files are not accessible to this process (another user): using its RPCs";
  }
  entry.fast_path_denied = true;
}

absl::StatusOr<bool> DepotPool::OnMyHost(const std::string& address, bool probe) {
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<DepotClient> client, Get(address));
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Entry& entry = entries_[address];
    if (entry.on_my_host >= 0) return entry.on_my_host == 1;
  }
  // The RPC runs outside the lock so parallel fetchers to other depots are not held up. Choosing
  // between copies probes (a dead depot whose copy another depot also holds must cost seconds;
  // the read of a sole copy still retries for the whole budget).
  absl::StatusOr<depot::v1::DepotInfo> info = probe ? client->Probe(kProbeTimeout) : client->Info();
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = entries_[address];
  if (!info.ok()) {
    entry.unreachable_until = absl::Now() + kUnreachableMemory;
    return info.status();
  }
  entry.on_my_host = info->host() == my_host_ ? 1 : 0;
  entry.depot_id = info->depot_id();  // the same answer: spares DepotId an RPC
  return entry.on_my_host == 1;
}

absl::StatusOr<std::string> DepotPool::DepotId(const std::string& address) {
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<DepotClient> client, Get(address));
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string& known = entries_[address].depot_id;
    if (!known.empty()) return known;
  }
  SRS_ASSIGN_OR_RETURN(depot::v1::DepotInfo info, client->Info());
  std::lock_guard<std::mutex> lock(mu_);
  entries_[address].depot_id = info.depot_id();
  return info.depot_id();
}

bool DepotPool::RecentlyUnreachable(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(address);
  return it != entries_.end() && it->second.on_my_host < 0 &&
         absl::Now() < it->second.unreachable_until;
}

absl::StatusOr<std::string> DepotPool::LocalPath(const std::string& address,
                                                 const std::string& read_cap) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto known = local_paths_.find(read_cap);
    if (known != local_paths_.end()) return known->second;
  }
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<DepotClient> client, Get(address));
  SRS_ASSIGN_OR_RETURN(std::string path, client->OpenLocal(read_cap));
  // The depot's directory is private to its user: a process of another user gets the path but
  // cannot read it. Say so (PERMISSION_DENIED) and stop offering the shared-host path.
  if (access(path.c_str(), R_OK) != 0) {
    const int error = errno;
    DenyFastPath(address);
    return absl::PermissionDeniedError(absl::StrCat("piece file ", path, " of depot ", address,
                                                    " is not readable here: ", strerror(error)));
  }
  std::lock_guard<std::mutex> lock(mu_);
  local_paths_[read_cap] = path;
  return path;
}

absl::StatusOr<std::optional<depot::RawDataset>> DepotPool::RawLocation(const std::string& path,
                                                                        const std::string& dataset,
                                                                        ElementType wire_type) {
  if (dataset.find('/') == std::string::npos) {
    // A root dataset: from the piece's table, located once for all its arrays.
    SRS_ASSIGN_OR_RETURN(std::shared_ptr<const PieceDatasets> table, PieceTable(path));
    auto found = table->find(dataset);
    if (found == table->end() || found->second.type != wire_type) return std::nullopt;
    return found->second.raw;
  }
  const std::string key = absl::StrCat(path, "\n", dataset, "\n", ElementTypeName(wire_type));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto known = raw_locations_.find(key);
    if (known != raw_locations_.end()) return known->second;
  }
  SRS_ASSIGN_OR_RETURN(std::optional<depot::RawDataset> raw,
                       depot::LocateRawDataset(path, dataset, wire_type));
  std::lock_guard<std::mutex> lock(mu_);
  raw_locations_[key] = raw;
  return raw;
}

absl::StatusOr<std::shared_ptr<const DepotPool::PieceDatasets>> DepotPool::PieceTable(
    const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto known = piece_tables_.find(path);
    if (known != piece_tables_.end()) return known->second;
  }
  SRS_ASSIGN_OR_RETURN(PieceDatasets located, depot::LocateRawDatasets(path));
  auto table = std::make_shared<const PieceDatasets>(std::move(located));
  std::lock_guard<std::mutex> lock(mu_);
  return piece_tables_.emplace(path, std::move(table)).first->second;
}

}  // namespace libsrs
}  // namespace srs
