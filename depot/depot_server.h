// The depot as a library object: storage engine + gRPC service + health service + background
// work (lease sweeper, RSS registration). srs-depot's main() is flags around it; tests start
// it in-process on 127.0.0.1:0.
//
//   DepotServerOptions options;
//   options.listen = "127.0.0.1:0";
//   options.dir = "/tmp/depot";
//   SRS_ASSIGN_OR_RETURN(std::unique_ptr<DepotServer> server, DepotServer::Start(options));
//   ... server->address() ...
//   server->Shutdown(absl::Seconds(10));  // NOT_SERVING, drain in-flight calls, stop
#ifndef SRS_DEPOT_DEPOT_SERVER_H_
#define SRS_DEPOT_DEPOT_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/grant.h"
#include "common/tls.h"
#include "depot/data_channel.h"
#include "depot/depot_service.h"
#include "depot/grant_check.h"
#include "depot/piece_store.h"

namespace srs {
namespace depot {

struct DepotServerOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT, port 0 picks a free one
  std::string dir;                     // empty: in-memory backend (tests)
  int64_t capacity_bytes = 0;          // 0 = unlimited
  std::string rss;                     // HOST:PORT of the RSS to register with; empty = none
  std::string host;                    // registered host name; empty = gethostname()
  absl::Duration default_lease = absl::Hours(1);
  // Registration is the depot's heartbeat: the RSS is told this period and marks the depot down
  // after about three missed ones.
  absl::Duration register_interval = absl::Seconds(5);
  std::string failure_domain;  // registered failure domain; empty = the host
  absl::Duration sweep_interval = absl::Seconds(1);
  // Serve ranged reads and gets on a data channel beside gRPC (data_channel.h) on the listen
  // host. Plain TCP: keep it off where the gRPC channel is encrypted.
  bool data_channel = true;
  // Write grants: the key comes from the RSS at enrollment (rss set), from grant_key_file
  // (--grant-key), or, in-process, from grant_key. Without any, writes are refused.
  std::string grant_key_file;
  std::optional<GrantKey> grant_key;
  // The enrollment secret sent with RegisterDepot (the RSS's admin token file or the site's
  // secret file); re-read at every registration, so a file that appears later works.
  std::string enroll_secret_file;
  // The enrollment secret itself, when it came from the environment (--enroll-secret-env):
  // used when enroll_secret_file is empty.
  std::string enroll_secret;
  // TLS of the server, and of the channel to the RSS (ca verifies it, cert+key identify us).
  tls::TlsFiles tls;
  bool insecure = false;  // allow plain text on a non-loopback listen address (warned)
  // gRPC's receive limit: the largest legitimate message is a 1 MiB put chunk or a Renew of a
  // large checkpoint's capabilities.
  int max_receive_bytes = 8 << 20;
};

class DepotServer {
 public:
  static absl::StatusOr<std::unique_ptr<DepotServer>> Start(const DepotServerOptions& options);
  ~DepotServer();  // Shutdown(0) if still running

  int port() const { return port_; }
  // The address clients use (and the RSS is told): listen host (or the host name when
  // listening on a wildcard) and the bound port.
  const std::string& address() const { return address_; }
  PieceStore* store() { return store_.get(); }

  // Marks the health service NOT_SERVING, stops the background threads, lets in-flight calls
  // finish until `deadline` from now, then cancels the rest. Idempotent.
  void Shutdown(absl::Duration deadline);
  // Blocks until the server has shut down.
  void Wait();

 private:
  DepotServer() = default;
  void RegisterLoop();
  void SweepLoop();
  absl::Status RegisterOnce();

  DepotServerOptions options_;
  std::string depot_id_;
  std::string identity_key_;  // <dir>/depot.key: binds depot_id_ at the RSS (never logged)
  std::string host_;
  std::string address_;
  int port_ = 0;
  std::unique_ptr<PieceStore> store_;
  std::unique_ptr<GrantCheck> grants_;
  std::shared_ptr<grpc::ChannelCredentials> rss_credentials_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<DepotService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<DataChannelServer> data_channel_;
  absl::Notification stopping_;
  std::thread register_thread_;
  std::thread sweep_thread_;
  bool shut_down_ = false;
};

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_DEPOT_SERVER_H_
