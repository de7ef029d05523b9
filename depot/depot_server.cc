#include "depot/depot_server.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/log.h"
#include "common/random.h"
#include "common/secret_file.h"
#include "common/status_macros.h"
#include "depot/file/file_backend.h"
#include "depot/memory/memory_backend.h"
#include "srs/rss/v1/rss.grpc.pb.h"

namespace srs {
namespace depot {
namespace {

std::string HostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

// A value the depot makes once and keeps in `dir` across restarts: the file `name` (mode 0600,
// read with ReadSecretFile), created with `make()` when absent or empty.
absl::StatusOr<std::string> LoadOrCreateKept(const std::string& dir, const char* name,
                                             const std::function<std::string()>& make) {
  const std::string path = dir + "/" + name;
  absl::StatusOr<std::string> text = ReadSecretFile(path);
  if (text.ok()) {
    std::string value(absl::StripAsciiWhitespace(*text));
    if (!value.empty()) return value;
  } else if (!absl::IsNotFound(text.status())) {
    return text.status();
  }
  std::string value = make();
  SRS_RETURN_IF_ERROR(WriteSecretFile(path, value + "\n"));
  return value;
}

// A depot keeps its id across restarts (the RSS recognises it): <dir>/depot.id, mode 0600 (it
// names the depot to the RSS; nobody else needs to read it).
absl::StatusOr<std::string> LoadOrCreateDepotId(const std::string& dir) {
  if (dir.empty()) return "mem-" + RandomHex(8);
  return LoadOrCreateKept(dir, "depot.id", [] { return "depot-" + RandomHex(8); });
}

// A depot's identity key (issue 13's review: an id alone could be claimed by any enrolled
// host): <dir>/depot.key, mode 0600, made once beside depot.id and presented at every
// registration; the RSS binds the id to it. A depot without a directory makes one per process.
absl::StatusOr<std::string> LoadOrCreateIdentityKey(const std::string& dir) {
  if (dir.empty()) return RandomHex(32);
  return LoadOrCreateKept(dir, "depot.key", [] { return RandomHex(32); });
}

// The grant checker with its key: --grant-key FILE, or the in-process key, or none yet (an
// enrolling depot gets it from the RSS).
absl::StatusOr<std::unique_ptr<GrantCheck>> MakeGrantCheck(const DepotServerOptions& options,
                                                           const std::string& depot_id) {
  auto grants = std::make_unique<GrantCheck>(depot_id, !options.rss.empty());
  if (options.grant_key.has_value()) grants->SetKey(*options.grant_key);
  if (!options.grant_key_file.empty()) {
    absl::StatusOr<GrantKey> key = GrantKey::Load(options.grant_key_file);
    if (!key.ok()) return Annotate(key.status(), "--grant-key");
    grants->SetKey(*key);
  }
  if (!grants->has_key() && options.rss.empty()) {
    SRS_LOG(WARNING) << "no --rss and no --grant-key: this depot refuses every write";
  }
  return grants;
}

absl::StatusOr<std::unique_ptr<PieceStore>> OpenStore(const DepotServerOptions& options,
                                                      const std::string& depot_id) {
  std::unique_ptr<PieceBackend> backend;
  if (options.dir.empty()) {
    backend = std::make_unique<MemoryBackend>();
  } else {
    SRS_ASSIGN_OR_RETURN(backend, FileBackend::Open(options.dir));
  }
  StoreOptions store_options;
  store_options.capacity_bytes = options.capacity_bytes;
  store_options.default_lease = options.default_lease;
  store_options.depot_id = depot_id;
  return PieceStore::Open(std::move(backend), store_options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DepotServer>> DepotServer::Start(const DepotServerOptions& options) {
  std::unique_ptr<DepotServer> self(new DepotServer());
  self->options_ = options;
  if (!options.dir.empty()) SRS_RETURN_IF_ERROR(FileBackend::Open(options.dir).status());
  SRS_ASSIGN_OR_RETURN(self->depot_id_, LoadOrCreateDepotId(options.dir));
  SRS_ASSIGN_OR_RETURN(self->identity_key_, LoadOrCreateIdentityKey(options.dir));
  self->host_ = options.host.empty() ? HostName() : options.host;
  SRS_RETURN_IF_ERROR(
      tls::CheckListenSecurity(options.listen, options.tls.any(), options.insecure));
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> server_credentials,
                       tls::MakeServerCredentials(options.tls));
  SRS_ASSIGN_OR_RETURN(self->rss_credentials_, tls::MakeChannelCredentials(options.tls));
  SRS_ASSIGN_OR_RETURN(self->grants_, MakeGrantCheck(options, self->depot_id_));
  SRS_ASSIGN_OR_RETURN(self->store_, OpenStore(options, self->depot_id_));
  DepotServer* raw = self.get();
  // Copies to other depots go out with the depot's own TLS settings (its channel to the RSS's).
  ReplicatorOptions replicator_options;
  replicator_options.credentials = self->rss_credentials_;
  replicator_options.self_depot_id = self->depot_id_;
  self->replicator_ =
      std::make_unique<Replicator>(self->store_.get(), self->grants_.get(), replicator_options);
  self->service_ = std::make_unique<DepotService>(
      self->store_.get(),
      [raw] {
        return DepotIdentity{raw->depot_id_, raw->host_, raw->address_,
                             raw->data_channel_ != nullptr ? raw->data_channel_->port() : 0};
      },
      self->grants_.get(), self->replicator_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, server_credentials, &self->port_);
  // gRPC sets SO_REUSEPORT by default on Linux: a second daemon started on a taken port would
  // then share it, the kernel splitting the clients' connections between the two. One address,
  // one daemon: the second one fails to start instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(self->service_.get());
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  std::string listen_host = options.listen.substr(0, options.listen.rfind(':'));
  if (listen_host.empty() || listen_host == "0.0.0.0" || listen_host == "[::]") {
    listen_host = self->host_;
  }
  self->address_ = absl::StrCat(listen_host, ":", self->port_);
  // The data channel is plain TCP beside gRPC: it would carry a TLS depot's pieces in clear text,
  // so a depot serving TLS keeps it off and clients read over gRPC.
  const bool serves_tls = !options.tls.cert.empty();
  if (options.data_channel && serves_tls) {
    SRS_LOG(INFO).Field("address", self->address_)
        << "data channel off: the depot serves TLS and the data channel is plain TCP";
  }
  if (options.data_channel && !serves_tls) {
    std::string bind_host = options.listen.substr(0, options.listen.rfind(':'));
    if (bind_host.size() >= 2 && bind_host.front() == '[') {
      bind_host = bind_host.substr(1, bind_host.size() - 2);
    }
    SRS_ASSIGN_OR_RETURN(
        self->data_channel_,
        DataChannelServer::Start(self->store_.get(), self->grants_.get(), bind_host));
  }
  self->server_->GetHealthCheckService()->SetServingStatus(true);
  self->sweep_thread_ = std::thread([raw] { raw->SweepLoop(); });
  if (!options.rss.empty()) self->register_thread_ = std::thread([raw] { raw->RegisterLoop(); });
  PieceStore::Usage usage = self->store_->GetUsage();
  SRS_LOG(INFO)
          .Field("address", self->address_)
          .Field("dir", options.dir.empty() ? "memory" : options.dir)
          .Field("depot_id", self->depot_id_)
          .Field("pieces", usage.pieces)
          .Field("capacity", usage.capacity_bytes)
      << "depot serving";
  return self;
}

DepotServer::~DepotServer() {
  Shutdown(absl::ZeroDuration());
  Wait();
}

absl::Status DepotServer::RegisterOnce() {
  auto channel = grpc::CreateChannel(options_.rss, rss_credentials_);
  auto stub = rss::v1::Rss::NewStub(channel);
  rss::v1::RegisterDepotRequest request;
  if (!options_.enroll_secret_file.empty()) {
    absl::StatusOr<std::string> secret = ReadSecretFile(options_.enroll_secret_file);
    if (!secret.ok()) return Annotate(secret.status(), "enrollment secret (--enroll-secret-file)");
    request.set_enroll_secret(std::string(absl::StripAsciiWhitespace(*secret)));
  } else if (!options_.enroll_secret.empty()) {
    request.set_enroll_secret(options_.enroll_secret);
  }
  request.set_depot_id(depot_id_);
  request.set_identity_key(identity_key_);
  request.set_host(host_);
  request.set_address(address_);
  request.set_failure_domain(options_.failure_domain);
  // Whole seconds, rounded up (the RSS's down timeout is coarse anyway; 0 would mean "unknown").
  request.set_heartbeat_seconds(static_cast<int32_t>(std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(options_.register_interval, absl::Seconds(1))))));
  PieceStore::Usage usage = store_->GetUsage();
  request.set_capacity_bytes(usage.capacity_bytes);
  int64_t free_bytes = usage.capacity_bytes - usage.used_bytes;
  if (usage.capacity_bytes == 0) {  // unlimited: what the file system has left
    struct statvfs fs;
    free_bytes = !options_.dir.empty() && statvfs(options_.dir.c_str(), &fs) == 0
                     ? static_cast<int64_t>(fs.f_bavail) * fs.f_frsize
                     : 0;
  }
  request.set_free_bytes(free_bytes);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(3)));
  rss::v1::RegisterDepotResponse response;
  SRS_RETURN_IF_ERROR(FromGrpcStatus(stub->RegisterDepot(&context, request, &response),
                                     absl::StrCat("RegisterDepot with RSS ", options_.rss)));
  absl::StatusOr<GrantKey> key = GrantKey::FromBytes(response.grant_key());
  if (!key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "RSS ", options_.rss, " enrolled this depot but sent no valid grant key (an older RSS?)"));
  }
  grants_->SetKey(*key);
  return absl::OkStatus();
}

// Registers at start and then periodically: the RSS learns free space, and either side
// restarting is healed within one interval. An unreachable RSS is a warning, never fatal.
void DepotServer::RegisterLoop() {
  bool registered = false;
  do {
    absl::Status status = RegisterOnce();
    if (status.ok() && !registered) {
      SRS_LOG(INFO).Field("rss", options_.rss) << "registered with the RSS";
    } else if (absl::IsPermissionDenied(status) || absl::IsUnauthenticated(status)) {
      // Not a transient failure: the operator must fix the enrollment secret.
      SRS_LOG(ERROR) << status.message()
                     << " (enrollment refused: check --enroll-secret-file; will retry)";
    } else if (!status.ok() && registered) {
      SRS_LOG(WARNING) << status.message() << " (will retry)";
    } else if (!status.ok()) {
      SRS_LOG(DEBUG) << status.message() << " (will retry)";
    }
    registered = status.ok();
  } while (!stopping_.WaitForNotificationWithTimeout(
      registered ? options_.register_interval
                 : std::min(options_.register_interval, absl::Seconds(1))));
}

void DepotServer::SweepLoop() {
  while (!stopping_.WaitForNotificationWithTimeout(options_.sweep_interval)) store_->Sweep();
}

void DepotServer::Shutdown(absl::Duration deadline) {
  if (shut_down_ || server_ == nullptr) return;  // never started (Start failed)
  shut_down_ = true;
  SRS_LOG(INFO) << "shutting down: draining in-flight calls";
  server_->GetHealthCheckService()->SetServingStatus(false);
  service_->StartDraining();
  stopping_.Notify();
  // One deadline for both: gRPC calls go on running while the data channel drains.
  const absl::Time end = absl::Now() + deadline;
  if (data_channel_ != nullptr) data_channel_->Shutdown(deadline);
  if (register_thread_.joinable()) register_thread_.join();
  if (sweep_thread_.joinable()) sweep_thread_.join();
  if (!service_->WaitIdle(end)) {
    SRS_LOG(WARNING) << "shutdown deadline reached: cancelling the calls still running";
  }
  // A handler that has returned may still be sending its reply: give gRPC a short grace to
  // flush it. Not the whole deadline: gRPC would also wait that long for idle client channels.
  server_->Shutdown(absl::ToChronoTime(std::min(end, absl::Now() + absl::Milliseconds(500))));
}

void DepotServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace depot
}  // namespace srs
