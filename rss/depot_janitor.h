// DepotJanitor: the two things the RSS asks of depots — pin the pieces of a checkpoint it commits
// (srs.depot.v1 Renew with lease 0) and delete pieces it no longer needs (Delete with the manage
// capability). Behind an interface so the state layer's tests can fake depots and inject faults.
#ifndef SRS_RSS_DEPOT_JANITOR_H_
#define SRS_RSS_DEPOT_JANITOR_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace srs {

class DepotJanitor {
 public:
  virtual ~DepotJanitor() = default;
  // Pins every piece in `manage_caps` on the depot at `depot` (all or nothing). An error names
  // the depot; the caller treats any error as "not pinned".
  virtual absl::Status Pin(const std::string& depot,
                           const std::vector<std::string>& manage_caps) = 0;
  // Deletes one piece. NOT_FOUND means it is already gone (callers treat that as done).
  virtual absl::Status Delete(const std::string& depot, const std::string& manage_cap) = 0;
};

// The real janitor: srs.depot.v1 stubs over cached channels, one per depot address. Pins are sent
// in batches so a 4096-rank checkpoint does not make one oversized message.
class GrpcDepotJanitor : public DepotJanitor {
 public:
  explicit GrpcDepotJanitor(absl::Duration rpc_timeout);
  ~GrpcDepotJanitor() override;
  absl::Status Pin(const std::string& depot, const std::vector<std::string>& manage_caps) override;
  absl::Status Delete(const std::string& depot, const std::string& manage_cap) override;

 private:
  struct Stub;
  Stub* StubFor(const std::string& depot);

  absl::Duration rpc_timeout_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace srs

#endif  // SRS_RSS_DEPOT_JANITOR_H_
