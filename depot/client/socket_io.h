// Blocking socket helpers for the depot's data channel (data_wire.h): whole-buffer sends and
// receives that retry on EINTR and partial transfers, and a loopback-or-remote TCP connect.
// Errors are UNAVAILABLE (peer gone, reset, refused) or DEADLINE_EXCEEDED (SO_RCVTIMEO /
// SO_SNDTIMEO ran out), naming `what`.
#ifndef SRS_DEPOT_CLIENT_SOCKET_IO_H_
#define SRS_DEPOT_CLIENT_SOCKET_IO_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace srs {
namespace sockets {

// Sends every byte of `bytes`; `flags` as for send(2) (MSG_NOSIGNAL is always added).
absl::Status SendAll(int fd, absl::string_view bytes, absl::string_view what, int flags = 0);
// Receives exactly `n` bytes into `out`; UNAVAILABLE if the peer closes first.
absl::Status RecvAll(int fd, char* out, size_t n, absl::string_view what);
// Discards exactly `n` bytes.
absl::Status Skip(int fd, size_t n, absl::string_view what);
// Connects to host:port (TCP_NODELAY, CLOEXEC), with `timeout` as the send and receive
// timeout of every later call on the socket. Returns the fd.
absl::StatusOr<int> Connect(const std::string& host, int port, absl::Duration timeout);
// Sets SO_RCVTIMEO and SO_SNDTIMEO.
void SetTimeouts(int fd, absl::Duration timeout);

}  // namespace sockets
}  // namespace srs

#endif  // SRS_DEPOT_CLIENT_SOCKET_IO_H_
