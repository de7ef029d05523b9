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
  // Whether the depot at `address` registered this process's host, whatever the transport (a
  // restart reads a copy on its own host first). One Info RPC, cached with SharesHost's.
  // UNAVAILABLE when the depot does not answer (asked again next time). Thread-safe.
  absl::StatusOr<bool> OnMyHost(const std::string& address);
  // Whether an Info of the depot at `address` failed within the last kUnreachableMemory: the
  // copy choice then does not ask again, so planning many reads does not wait out the RPC budget
  // once per read (the reads themselves still try it). Thread-safe.
  bool RecentlyUnreachable(const std::string& address);

  // The verified file of the piece `read_cap` names on the shared-host depot at `address`
  // (OpenLocal, asked once per piece and cached: a restart reads many arrays from one piece,
  // and the depot's answer cannot change while the checkpoint is pinned). Thread-safe.
  absl::StatusOr<std::string> LocalPath(const std::string& address, const std::string& read_cap);

  // Where `dataset`'s stored bytes lie in the local piece file `path` when they can be read
  // as they are as `wire_type` (depot/raw_dataset.h), looked up once per (path, dataset, type);
  // nullopt when they must go through HDF5. Thread-safe.
  absl::StatusOr<std::optional<depot::RawDataset>> RawLocation(const std::string& path,
                                                               const std::string& dataset,
                                                               ElementType wire_type);

  const std::string& my_host() const { return my_host_; }

  static constexpr absl::Duration kUnreachableMemory = absl::Seconds(10);

 private:
  struct Entry {
    std::shared_ptr<DepotClient> client;
    int on_my_host = -1;                                  // -1: not asked yet
    absl::Time unreachable_until = absl::InfinitePast();  // after a failed Info
  };
  const std::string my_host_;
  const Transport transport_;
  const absl::Duration rpc_timeout_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> local_paths_;  // read capability -> verified path
  std::map<std::string, std::optional<depot::RawDataset>> raw_locations_;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_DEPOT_POOL_H_
