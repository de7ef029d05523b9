// One DepotClient per depot address, shared by the checkpoint writer and the parallel restart
// fetchers, plus what decides the shared-host fast paths: the depot's registered host.
#ifndef SRS_LIBSRS_SRC_DEPOT_POOL_H_
#define SRS_LIBSRS_SRC_DEPOT_POOL_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "depot/client/depot_client.h"
#include "depot/raw_dataset.h"
#include "libsrs/src/settings.h"

namespace srs {
namespace libsrs {

class DepotPool {
 public:
  DepotPool(std::string my_host, Transport transport, absl::Duration rpc_timeout)
      : my_host_(std::move(my_host)), transport_(transport), rpc_timeout_(rpc_timeout) {}

  // The client for `address` (created on first use). Thread-safe.
  absl::StatusOr<std::shared_ptr<DepotClient>> Get(const std::string& address);

  // Whether to use the shared-host fast path with the depot at `address`: the transport allows
  // it and the depot's registered host (one Info RPC, cached) equals this process's host.
  // UNAVAILABLE when the depot does not answer. Thread-safe.
  absl::StatusOr<bool> SharesHost(const std::string& address);
  // The shared-host path to the depot at `address` is not for this process (its spool or pieces
  // are not accessible: the depot runs as another user, docs/security.md): from now on
  // SharesHost answers false and everything goes through the depot's RPCs. Thread-safe.
  void DenyFastPath(const std::string& address);
  // Whether the depot at `address` registered this process's host, whatever the transport (a
  // restart reads a copy on its own host first). One Info RPC, cached with SharesHost's.
  // UNAVAILABLE when the depot does not answer (asked again next time). Thread-safe.
  // `probe`: one bounded Info attempt (kProbeTimeout), for choosing between copies; otherwise
  // the Info is retried for the whole RPC budget (a writer must ride out a depot restart).
  absl::StatusOr<bool> OnMyHost(const std::string& address, bool probe = false);
  // Whether an Info of the depot at `address` failed within the last kUnreachableMemory: the
  // copy choice then does not ask again, so planning many reads does not wait out the RPC budget
  // once per read (the reads themselves still try it). Thread-safe.
  bool RecentlyUnreachable(const std::string& address);

  // The verified file of the piece `read_cap` names on the shared-host depot at `address`
  // (OpenLocal, asked once per piece and cached: a restart reads many arrays from one piece,
  // and the depot's answer cannot change while the checkpoint is pinned). Thread-safe.
  absl::StatusOr<std::string> LocalPath(const std::string& address, const std::string& read_cap);

  // Where `dataset`'s stored bytes lie in the local piece file `path` when they can be read
  // as they are as `wire_type` (depot/raw_dataset.h); nullopt when they must go through HDF5.
  // Root datasets come from the piece's table (every dataset located by one open of the file,
  // on the first lookup in that piece: a restart of many arrays opens each piece once); others
  // (the index datasets) are looked up once per (path, dataset, type). Thread-safe.
  absl::StatusOr<std::optional<depot::RawDataset>> RawLocation(const std::string& path,
                                                               const std::string& dataset,
                                                               ElementType wire_type);

  // Locates every root dataset of the local piece file `path` now (what RawLocation would do at
  // its first lookup there): a restart prepares its own piece before the first SRS_Read.
  absl::Status LocateDatasets(const std::string& path) { return PieceTable(path).status(); }

  // The id of the depot at `address` (its Info, asked once and cached): a piece's copies name
  // their depots by id. UNAVAILABLE when the depot does not answer. Thread-safe.
  absl::StatusOr<std::string> DepotId(const std::string& address);

  const std::string& my_host() const { return my_host_; }

  // A depot that did not answer a probe within kProbeTimeout is left alone (ordered after the
  // other copies, not asked again) for kUnreachableMemory: longer than a restart's reads of all
  // arrays, so one dead depot is probed once per restart, not once per array.
  static constexpr absl::Duration kProbeTimeout = absl::Seconds(5);
  static constexpr absl::Duration kUnreachableMemory = absl::Seconds(120);

 private:
  struct Entry {
    std::shared_ptr<DepotClient> client;
    int on_my_host = -1;                                  // -1: not asked yet
    absl::Time unreachable_until = absl::InfinitePast();  // after a failed Info
    std::string depot_id;                                 // "": not asked yet
    bool fast_path_denied = false;  // this process may not use the depot's files (another user)
  };
  const std::string my_host_;
  const Transport transport_;
  const absl::Duration rpc_timeout_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> local_paths_;  // read capability -> verified path
  std::map<std::string, std::optional<depot::RawDataset>> raw_locations_;
  using PieceDatasets = std::map<std::string, depot::StoredRawDataset>;
  // The piece file at `path`'s root datasets, located once (LocateRawDatasets) and cached.
  absl::StatusOr<std::shared_ptr<const PieceDatasets>> PieceTable(const std::string& path);
  std::map<std::string, std::shared_ptr<const PieceDatasets>> piece_tables_;  // by path
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_DEPOT_POOL_H_
