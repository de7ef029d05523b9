// FakeDepot: a real gRPC server implementing the two srs.depot.v1 calls the RSS makes (Renew to
// pin, Delete), in-process on 127.0.0.1:0. It records what was pinned and deleted, and can be
// told to answer UNAVAILABLE, as a depot that is down would. Other calls are UNIMPLEMENTED.
#ifndef SRS_RSS_TESTING_FAKE_DEPOT_H_
#define SRS_RSS_TESTING_FAKE_DEPOT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace srs {

class FakeDepot {
 public:
  static absl::StatusOr<std::unique_ptr<FakeDepot>> Start();
  ~FakeDepot();

  std::string address() const;
  std::set<std::string> pinned() const;
  std::set<std::string> deleted() const;
  int renew_calls() const;
  void set_down(bool down);  // every call answers UNAVAILABLE
  // Renew waits this long before answering (a slow depot, to crash the RSS mid-commit).
  void set_renew_delay(absl::Duration delay);

 private:
  class Service;
  FakeDepot() = default;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace srs

#endif  // SRS_RSS_TESTING_FAKE_DEPOT_H_
