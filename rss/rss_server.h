// RssServer: the srs-rss daemon as a library object, so tests and `srs run` can embed it.
//
//   RssServerOptions options;  options.listen = "127.0.0.1:0";  options.state_dir = dir;
//   SRS_ASSIGN_OR_RETURN(auto server, RssServer::Start(options));
//   ... server->port() ...
//   server->Shutdown(absl::Now() + absl::Seconds(5));  server->Wait();
//
// Start creates the state dir, locks it (one daemon per state dir), writes (or reuses)
// <state>/admin.token with mode 0600, opens the SQLite state <state>/rss.db, serves srs.rss.v1 plus
// the standard gRPC health service, and runs one background thread that marks runs without a watch
// as lost (after the lease) and works the durable queue of piece deletions.
#ifndef SRS_RSS_RSS_SERVER_H_
#define SRS_RSS_RSS_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/tls.h"
#include "rss/depot_enrollment.h"
#include "rss/depot_janitor.h"
#include "rss/replica_copier.h"
#include "rss/request_budget.h"
#include "rss/rss_service.h"
#include "rss/rss_state.h"

namespace srs {

// Bounds of RssServerOptions::lease (and srs-rss --lease): below the minimum every hiccup loses
// a run, above the maximum a dead run blocks its job for more than a day.
inline constexpr absl::Duration kMinLease = absl::Milliseconds(100);
inline constexpr absl::Duration kMaxLease = absl::Hours(24);

struct RssServerOptions {
  std::string listen = "127.0.0.1:0";  // port 0: pick a free port
  std::string state_dir;
  absl::Duration lease = absl::Seconds(10);  // kMinLease..kMaxLease, else INVALID_ARGUMENT
  absl::Duration keepalive = absl::Seconds(1);
  absl::Duration depot_timeout = absl::Seconds(10);  // below the library's rpc_timeout (30 s)
  DepotJanitor* janitor = nullptr;                   // tests inject one; null = the gRPC janitor
  // How `srs repair` reaches depots (rss/replica_copier.h); null = the gRPC copier, which
  // gives one piece's depot-to-depot copy `copy_timeout`.
  ReplicaCopier* copier = nullptr;
  absl::Duration copy_timeout = absl::Minutes(10);
  // srs-rss --auto-repair: every `auto_repair_interval` the RSS repairs every job by itself,
  // leaving a piece alone while a depot of its lost copies was seen within `auto_repair_patience`.
  // Zero interval = off (the default: `srs repair` only).
  absl::Duration auto_repair_interval = absl::ZeroDuration();
  absl::Duration auto_repair_patience = absl::Minutes(5);
  // A depot silent for max(this, 3 heartbeats + 2 s) is "down" (srs-rss --depot-timeout);
  // kMinDepotDownTimeout..kMaxDepotDownTimeout, else INVALID_ARGUMENT.
  absl::Duration depot_down_timeout = kDefaultDepotDownTimeout;
  // Depot enrollment (rss/depot_enrollment.h): the site secret file ("" = admin token only) and
  // how long write grants stay valid.
  std::string enroll_secret_file;
  absl::Duration grant_ttl = absl::Hours(6);
  // TLS of the server (--tls-cert/--tls-key/--tls-ca) and plain text on a non-loopback address.
  tls::TlsFiles tls;
  bool insecure = false;
  // Bounds on valid requests (rss/request_budget.h, docs/security.md): bytes of large requests
  // processed at once (<= 0: unbounded), the number of jobs (<= 0: no cap) and the rate of new
  // jobs created without the admin token (<= 0: no limit).
  int64_t request_budget_bytes = kDefaultRequestBudgetBytes;
  int64_t max_jobs = kDefaultMaxJobs;
  int new_jobs_per_minute = kDefaultNewJobsPerMinute;
};

class RssServer {
 public:
  static absl::StatusOr<std::unique_ptr<RssServer>> Start(const RssServerOptions& options);
  ~RssServer();

  int port() const { return port_; }
  // "host:port" with the port actually bound.
  std::string address() const { return address_; }
  const std::string& admin_token() const { return admin_token_; }

  // NOT_SERVING, end the watch streams (clients see UNAVAILABLE and reconnect elsewhere/later),
  // finish in-flight calls until `deadline`, stop the background thread. Idempotent.
  void Shutdown(absl::Time deadline);
  void Wait();

 private:
  explicit RssServer(const RssServerOptions& options) : options_(options) {}
  void Background();
  void AutoRepair();  // the --auto-repair thread

  RssServerOptions options_;
  std::unique_ptr<GrpcDepotJanitor> own_janitor_;
  std::unique_ptr<GrpcReplicaCopier> own_copier_;
  std::unique_ptr<RssState> state_;
  std::unique_ptr<DepotEnrollment> enrollment_;
  std::unique_ptr<RequestBudget> budget_;
  std::unique_ptr<NewJobGate> new_jobs_;
  std::unique_ptr<RssService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string admin_token_;
  std::string address_;
  int port_ = 0;
  int lock_fd_ = -1;  // exclusive lock on <state>/rss.lock
  absl::Notification stopping_;
  std::thread background_;
  std::thread auto_repair_;
  ReplicaCopier* copier_ = nullptr;
  absl::Mutex shutdown_mu_;
  bool shut_down_ = false;
};

// Reads <state>/admin.token, or creates it (mode 0600, 128 random bits as hex) if absent.
absl::StatusOr<std::string> EnsureAdminToken(const std::string& state_dir);

}  // namespace srs

#endif  // SRS_RSS_RSS_SERVER_H_
