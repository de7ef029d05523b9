#include "rss/testing/fake_depot.h"

#include "absl/strings/str_cat.h"
#include "srs/depot/v1/depot.grpc.pb.h"

namespace srs {

class FakeDepot::Service final : public depot::v1::Depot::Service {
 public:
  grpc::Status Renew(grpc::ServerContext*, const depot::v1::RenewRequest* req,
                     depot::v1::RenewResponse*) override {
    absl::Duration delay;
    {
      absl::MutexLock lock(&mu);
      ++renew_calls;  // counted on arrival, so a test can act while the call is held
      delay = renew_delay;
    }
    absl::SleepFor(delay);
    absl::MutexLock lock(&mu);
    if (down) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake depot is down");
    if (req->lease_seconds() == 0) {
      for (const std::string& cap : req->manage_caps()) pinned.insert(cap);
    }
    return grpc::Status::OK;
  }
  grpc::Status Delete(grpc::ServerContext*, const depot::v1::DeleteRequest* req,
                      depot::v1::DeleteResponse*) override {
    absl::MutexLock lock(&mu);
    if (down) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake depot is down");
    deleted.insert(req->manage_cap());
    return grpc::Status::OK;
  }

  mutable absl::Mutex mu;
  std::set<std::string> pinned ABSL_GUARDED_BY(mu);
  std::set<std::string> deleted ABSL_GUARDED_BY(mu);
  int renew_calls ABSL_GUARDED_BY(mu) = 0;
  bool down ABSL_GUARDED_BY(mu) = false;
  absl::Duration renew_delay ABSL_GUARDED_BY(mu);
};

absl::StatusOr<std::unique_ptr<FakeDepot>> FakeDepot::Start() {
  std::unique_ptr<FakeDepot> depot(new FakeDepot());
  depot->service_ = std::make_unique<Service>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &depot->port_);
  builder.RegisterService(depot->service_.get());
  builder.SetMaxReceiveMessageSize(-1);
  depot->server_ = builder.BuildAndStart();
  if (!depot->server_ || depot->port_ == 0) {
    return absl::UnavailableError("fake depot: cannot listen on 127.0.0.1:0");
  }
  return depot;
}

FakeDepot::~FakeDepot() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

std::string FakeDepot::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::set<std::string> FakeDepot::pinned() const {
  absl::MutexLock lock(&service_->mu);
  return service_->pinned;
}
std::set<std::string> FakeDepot::deleted() const {
  absl::MutexLock lock(&service_->mu);
  return service_->deleted;
}
int FakeDepot::renew_calls() const {
  absl::MutexLock lock(&service_->mu);
  return service_->renew_calls;
}
void FakeDepot::set_renew_delay(absl::Duration delay) {
  absl::MutexLock lock(&service_->mu);
  service_->renew_delay = delay;
}
void FakeDepot::set_down(bool down) {
  absl::MutexLock lock(&service_->mu);
  service_->down = down;
}

}  // namespace srs
