#include "rss/rss_server.h"

#include <fcntl.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "rss/client/rss_client.h"
#include "rss/request_validation.h"

namespace srs {

namespace {

absl::Status MakeDir(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("--state DIR is required");
  std::error_code ec;
  // Parents too: `--state .srs/rss` just works. A dir we create is ours alone (tokens inside).
  if (std::filesystem::create_directories(dir, ec)) chmod(dir.c_str(), 0700);
  if (ec || !std::filesystem::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create state dir ", dir, ": ", ec ? ec.message() : "not a directory"));
  }
  return absl::OkStatus();
}

// Holds an exclusive lock on <state>/rss.lock for the life of the process: two daemons on one
// state dir would each believe they own the runs. The kernel drops the lock on kill -9.
absl::StatusOr<int> LockStateDir(const std::string& dir) {
  std::string path = dir + "/rss.lock";
  int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("state dir ", dir, " is in use by another srs-rss (pid ",
                     n > 0 ? std::string(pid, n) : "unknown", ")"));
  }
  std::string me = std::to_string(getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, me.data(), me.size(), 0) < 0) {
    SRS_LOG(WARNING) << "cannot record the pid in " << path;
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::string> EnsureAdminToken(const std::string& state_dir) {
  std::string path = state_dir + "/admin.token";
  absl::StatusOr<std::string> existing = ReadAdminToken(path);
  if (existing.ok()) {
    chmod(path.c_str(), 0600);  // whoever loosened it: the token is a password
    return existing;
  }
  std::string token = RandomHex(16);
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  std::string line = token + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            fchmod(fd, 0600) == 0 && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return token;
}

absl::StatusOr<std::unique_ptr<RssServer>> RssServer::Start(const RssServerOptions& options) {
  if (options.lease < kMinLease || options.lease > kMaxLease) {
    return absl::InvalidArgumentError(absl::StrCat("lease ", absl::FormatDuration(options.lease),
                                                   " is outside ", absl::FormatDuration(kMinLease),
                                                   "..", absl::FormatDuration(kMaxLease)));
  }
  if (options.depot_down_timeout < kMinDepotDownTimeout ||
      options.depot_down_timeout > kMaxDepotDownTimeout) {
    return absl::InvalidArgumentError(
        absl::StrCat("depot timeout ", absl::FormatDuration(options.depot_down_timeout),
                     " is outside ", absl::FormatDuration(kMinDepotDownTimeout), "..",
                     absl::FormatDuration(kMaxDepotDownTimeout)));
  }
  std::unique_ptr<RssServer> server(new RssServer(options));
  SRS_RETURN_IF_ERROR(MakeDir(options.state_dir));
  SRS_ASSIGN_OR_RETURN(server->lock_fd_, LockStateDir(options.state_dir));
  SRS_ASSIGN_OR_RETURN(server->admin_token_, EnsureAdminToken(options.state_dir));
  DepotJanitor* janitor = options.janitor;
  if (janitor == nullptr) {
    server->own_janitor_ = std::make_unique<GrpcDepotJanitor>(options.depot_timeout);
    janitor = server->own_janitor_.get();
  }
  RssStateOptions state_options;
  state_options.lease = options.lease;
  state_options.depot_down_timeout = options.depot_down_timeout;
  NewJobLimits limits;
  limits.max_jobs = options.max_jobs;
  limits.per_minute = options.new_jobs_per_minute;
  limits.burst = std::max(kDefaultNewJobBurst, options.new_jobs_per_minute);
  server->new_jobs_ = std::make_unique<NewJobGate>(limits);
  state_options.admit_new_job = [gate = server->new_jobs_.get()](int64_t jobs, bool admin) {
    return gate->Admit(jobs, admin);
  };
  server->budget_ =
      std::make_unique<RequestBudget>(options.request_budget_bytes, kDefaultBudgetWait);
  SRS_ASSIGN_OR_RETURN(server->state_,
                       RssState::Open(options.state_dir + "/rss.db", janitor, state_options));
  SRS_RETURN_IF_ERROR(
      tls::CheckListenSecurity(options.listen, options.tls.any(), options.insecure));
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                       tls::MakeServerCredentials(options.tls));
  SRS_ASSIGN_OR_RETURN(
      server->enrollment_,
      DepotEnrollment::Open(options.state_dir, options.enroll_secret_file, options.grant_ttl));
  server->service_ =
      std::make_unique<RssService>(server->state_.get(), server->admin_token_, options.keepalive);
  server->service_->SetDepotEnrollment(server->enrollment_.get());
  server->service_->SetRequestBudget(server->budget_.get());
  ReplicaCopier* copier = options.copier;
  if (copier == nullptr) {
    server->own_copier_ = std::make_unique<GrpcReplicaCopier>(
        &server->enrollment_->key(), options.depot_timeout, options.copy_timeout);
    copier = server->own_copier_.get();
  }
  server->service_->SetReplicaCopier(copier);
  server->copier_ = copier;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  // gRPC sets SO_REUSEPORT by default on Linux: a second daemon started on a taken port would
  // then share it, the kernel splitting the clients' connections between the two. One address,
  // one daemon: the second one fails to start instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(server->service_.get());
  // A stream can stay open while its client is frozen (SIGSTOP, a hung node): the kernel keeps
  // the socket and flow control absorbs our keepalives for hours. HTTP/2 pings find it: a client
  // that does not answer within the timeout has its transport closed, its watch ends, and the
  // lease starts to run out.
  int ping_timeout_ms =
      static_cast<int>(absl::ToInt64Milliseconds(std::max(absl::Seconds(1), options.lease / 2)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ping_timeout_ms);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // The largest legitimate request (100 000 ranks, see rss/request_validation.h) and no more:
  // a bigger one is refused (RESOURCE_EXHAUSTED) before it is parsed or stored. Answers
  // (manifests) are bounded by what was accepted.
  builder.SetMaxReceiveMessageSize(kMaxRssMessageBytes);
  builder.SetMaxSendMessageSize(-1);
  // Many maximal requests at once: the transports' buffers come out of one quota, so a flood
  // slows down (flow control) instead of growing the daemon without bound.
  grpc::ResourceQuota quota("srs-rss");
  quota.Resize(kRssMemoryQuotaBytes);
  builder.SetResourceQuota(quota);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, " (address in use or not local?)"));
  }
  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  server->address_ = absl::StrCat(host, ":", server->port_);
  server->server_->GetHealthCheckService()->SetServingStatus(true);
  server->background_ = std::thread([s = server.get()] { s->Background(); });
  if (options.auto_repair_interval > absl::ZeroDuration()) {
    server->auto_repair_ = std::thread([s = server.get()] { s->AutoRepair(); });
  }
  SRS_LOG(INFO).Field("address", server->address_).Field("state", options.state_dir) << "serving";
  return server;
}

void RssServer::Background() {
  // Check leases a few times per lease period; deletions twice a second (they back off per task).
  absl::Duration tick = std::min(absl::Milliseconds(500), options_.lease / 4);
  while (!stopping_.WaitForNotificationWithTimeout(tick)) {
    state_->SweepLostRuns();
    state_->ProcessDeleteQueue();
  }
}

// Its own thread: a repair copies whole pieces and must not hold up lease sweeps and deletions.
void RssServer::AutoRepair() {
  while (!stopping_.WaitForNotificationWithTimeout(options_.auto_repair_interval)) {
    for (const rss::v1::JobSummary& job : state_->ListJobs()) {
      if (stopping_.HasBeenNotified()) return;
      if (job.last_epoch() == 0) continue;  // nothing committed to repair
      absl::StatusOr<rss::v1::RepairJobResponse> repaired =
          state_->RepairJob(job.job(), copier_, options_.auto_repair_patience);
      if (!repaired.ok()) {
        SRS_LOG(WARNING).Field("job", job.job())
            << "automatic repair failed: " << repaired.status();
        continue;
      }
      for (const std::string& problem : repaired->problems()) {
        SRS_LOG(WARNING).Field("job", job.job()) << "automatic repair: " << problem;
      }
      if (repaired->made_size() > 0) {
        SRS_LOG(INFO).Field("job", job.job()).Field("made", repaired->made_size())
            << "automatic repair made copies";
      }
    }
  }
}

void RssServer::Shutdown(absl::Time deadline) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  SRS_LOG(INFO) << "shutting down";
  server_->GetHealthCheckService()->SetServingStatus(false);
  state_->ShutdownWatches();
  server_->Shutdown(absl::ToChronoTime(deadline));
  stopping_.Notify();
  if (background_.joinable()) background_.join();
  if (auto_repair_.joinable()) auto_repair_.join();
}

void RssServer::Wait() { server_->Wait(); }

RssServer::~RssServer() {
  if (server_ != nullptr) {
    Shutdown(absl::Now() + absl::Seconds(1));
    server_->Wait();
  }
  state_.reset();  // closes the database before the lock goes
  if (lock_fd_ >= 0) close(lock_fd_);
}

}  // namespace srs
