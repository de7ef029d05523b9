// The depot's data channel (wire format: depot/client/data_wire.h): a TCP listener beside the
// gRPC server that answers ranged reads, whole-piece gets and puts with the same capability and
// grant checks, integrity checks and errors as the gRPC calls (it goes through the same
// PieceStore and GrantCheck), but moves the payload at socket speed: contiguous stored bytes go
// out with sendfile (no copy through this process), everything else (type conversion, small
// strided blocks, the memory backend) through PieceStore's HDF5 read path, framed straight onto
// the socket; a put's bytes go from the socket into the staged piece, and its commit verifies
// every dataset checksum exactly as a streamed Put's does.
//
//   SRS_ASSIGN_OR_RETURN(auto data, DataChannelServer::Start(store, grants, "127.0.0.1"));
//   ... advertise data->port() in DepotInfo.data_port ...
//   data->Shutdown(absl::Seconds(5));  // stop accepting, let requests finish, close
//
// One thread per connection (clients keep a few connections per depot and reuse them),
// at most kMaxConnections at once; beyond that new connections are closed at once and the
// client falls back to gRPC.
#ifndef SRS_DEPOT_DATA_CHANNEL_H_
#define SRS_DEPOT_DATA_CHANNEL_H_

#include <list>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "depot/grant_check.h"
#include "depot/piece_store.h"

namespace srs {
namespace depot {

class DataChannelServer {
 public:
  static constexpr int kMaxConnections = 256;

  // Listens on `host`:0 ("" or "0.0.0.0" = every IPv4 address). UNAVAILABLE if it cannot.
  // `store` and `grants` (which checks a put's write grant) are not owned and outlive the
  // server.
  static absl::StatusOr<std::unique_ptr<DataChannelServer>> Start(PieceStore* store,
                                                                  const GrantCheck* grants,
                                                                  const std::string& host);
  ~DataChannelServer();  // Shutdown(0)

  int port() const { return port_; }

  // Stops accepting, lets requests in flight finish until `deadline` from now, then closes
  // every connection and joins their threads. Idempotent.
  void Shutdown(absl::Duration deadline);

 private:
  struct Connection {
    int fd = -1;
    bool busy = false;  // inside a request: Shutdown lets it finish (until its deadline)
    bool done = false;  // the thread has finished
    std::thread thread;
  };
  DataChannelServer(PieceStore* store, const GrantCheck* grants, int listen_fd, int port,
                    int wake_fd[2]);
  void AcceptLoop();
  void Serve(Connection* connection);
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  PieceStore* const store_;
  const GrantCheck* const grants_;
  const int listen_fd_;
  const int port_;
  int wake_[2];  // a pipe: writing to it wakes the accept loop for shutdown
  std::thread accept_thread_;
  absl::Mutex mu_;
  std::list<Connection> connections_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_DATA_CHANNEL_H_
