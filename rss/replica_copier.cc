#include "rss/replica_copier.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/tls.h"
#include "srs/depot/v1/depot.grpc.pb.h"

namespace srs {

struct GrpcReplicaCopier::Stub {
  std::unique_ptr<depot::v1::Depot::Stub> stub;
};

GrpcReplicaCopier::GrpcReplicaCopier(const GrantKey* key, absl::Duration rpc_timeout,
                                     absl::Duration copy_timeout)
    : key_(key), rpc_timeout_(rpc_timeout), copy_timeout_(copy_timeout) {}
GrpcReplicaCopier::~GrpcReplicaCopier() = default;

GrpcReplicaCopier::Stub* GrpcReplicaCopier::StubFor(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& slot = stubs_[address];
  if (!slot) {
    // The same channel settings as the janitor's: a depot that restarts is retried soon.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    auto channel = grpc::CreateCustomChannel(address, tls::ChannelCredentials(), args);
    slot = std::make_unique<Stub>(Stub{depot::v1::Depot::NewStub(channel)});
  }
  return slot.get();
}

absl::StatusOr<StoredPiece> GrpcReplicaCopier::Stat(const std::string& address,
                                                    const std::string& read_cap,
                                                    int64_t size_bytes) {
  depot::v1::StatRequest req;
  req.set_cap(read_cap);
  depot::v1::PieceInfo info;
  grpc::ClientContext ctx;
  // The depot hashes the file before it answers (once per file state): 1 s per 64 MiB more.
  const absl::Duration hashing = absl::Seconds(std::max<int64_t>(size_bytes, 0) / (64 << 20));
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_ + hashing));
  grpc::Status status = StubFor(address)->stub->Stat(&ctx, req, &info);
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("depot ", address, ": Stat"));
  return StoredPiece{info.size_bytes(), info.xxh3_64()};
}

absl::StatusOr<CopyMade> GrpcReplicaCopier::Copy(const CopyOrder& order) {
  depot::v1::ReplicateRequest req;
  req.mutable_key()->set_job(order.job);
  req.mutable_key()->set_epoch(order.epoch);
  req.mutable_key()->set_rank(order.rank);
  req.set_manage_cap(order.source_manage_cap);
  req.set_target_address(order.target_address);
  req.set_target_depot_id(order.target_depot_id);
  if (key_ != nullptr) {
    // For any depot of this RSS (depot id ""): the source checks it as a write grant of its
    // own before it presents it to the target, so one naming the target would be refused there.
    // Valid only for this key and only as long as this copy may take.
    *req.mutable_grant() = key_->Mint(
        {order.job, order.epoch, order.rank, "", absl::Now() + copy_timeout_ + absl::Minutes(1)});
  }
  depot::v1::PutResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + copy_timeout_));
  grpc::Status status = StubFor(order.source_address)->stub->Replicate(&ctx, req, &resp);
  if (!status.ok()) {
    return FromGrpcStatus(status,
                          absl::StrCat("depot ", order.source_address, ": Replicate to ",
                                       order.target_depot_id, " (", order.target_address, ")"));
  }
  if (resp.caps().read().empty() || resp.caps().manage().empty()) {
    return absl::InternalError(
        absl::StrCat("depot ", order.source_address, ": Replicate answered no capabilities"));
  }
  return CopyMade{resp.caps().read(), resp.caps().manage()};
}

}  // namespace srs
