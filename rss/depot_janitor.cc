#include "rss/depot_janitor.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/tls.h"
#include "srs/depot/v1/depot.grpc.pb.h"

namespace srs {

namespace {
constexpr size_t kPinBatch = 1024;
}  // namespace

struct GrpcDepotJanitor::Stub {
  std::unique_ptr<depot::v1::Depot::Stub> stub;
};

GrpcDepotJanitor::GrpcDepotJanitor(absl::Duration rpc_timeout) : rpc_timeout_(rpc_timeout) {}
GrpcDepotJanitor::~GrpcDepotJanitor() = default;

GrpcDepotJanitor::Stub* GrpcDepotJanitor::StubFor(const std::string& depot) {
  absl::MutexLock lock(&mu_);
  auto& slot = stubs_[depot];
  if (!slot) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    auto channel = grpc::CreateCustomChannel(depot, tls::ChannelCredentials(), args);
    slot = std::make_unique<Stub>(Stub{depot::v1::Depot::NewStub(channel)});
  }
  return slot.get();
}

absl::Status GrpcDepotJanitor::Pin(const std::string& depot,
                                   const std::vector<std::string>& manage_caps) {
  Stub* stub = StubFor(depot);
  for (size_t begin = 0; begin < manage_caps.size(); begin += kPinBatch) {
    size_t end = std::min(manage_caps.size(), begin + kPinBatch);
    depot::v1::RenewRequest req;
    for (size_t i = begin; i < end; ++i) req.add_manage_caps(manage_caps[i]);
    req.set_lease_seconds(0);
    depot::v1::RenewResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
    // Pinning is idempotent and a commit waits on it: a depot that just (re)started must not
    // fail it because this channel is still backing off from an earlier refused connection.
    ctx.set_wait_for_ready(true);
    grpc::Status status = stub->stub->Renew(&ctx, req, &resp);
    if (!status.ok()) {
      return FromGrpcStatus(status, absl::StrCat("depot ", depot, ": pinning ", end - begin,
                                                 " pieces (Renew, lease 0)"));
    }
  }
  return absl::OkStatus();
}

absl::Status GrpcDepotJanitor::Delete(const std::string& depot, const std::string& manage_cap) {
  Stub* stub = StubFor(depot);
  depot::v1::DeleteRequest req;
  req.set_manage_cap(manage_cap);
  depot::v1::DeleteResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
  grpc::Status status = stub->stub->Delete(&ctx, req, &resp);
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("depot ", depot, ": Delete"));
  return absl::OkStatus();
}

}  // namespace srs
