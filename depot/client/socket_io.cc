#include "depot/client/socket_io.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace srs {
namespace sockets {
namespace {

absl::Status Errno(absl::string_view op, absl::string_view what, int err) {
  if (err == EAGAIN || err == EWOULDBLOCK) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": ", op, " timed out"));
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", op, ": ", strerror(err)));
}

}  // namespace

absl::Status SendAll(int fd, absl::string_view bytes, absl::string_view what, int flags) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), flags | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("send", what, errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status RecvAll(int fd, char* out, size_t n, absl::string_view what) {
  while (n > 0) {
    ssize_t got = recv(fd, out, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Errno("recv", what, errno);
    if (got == 0) return absl::UnavailableError(absl::StrCat(what, ": connection closed"));
    out += got;
    n -= static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

absl::Status Skip(int fd, size_t n, absl::string_view what) {
  std::vector<char> sink(std::min<size_t>(n, 1 << 20));
  while (n > 0) {
    size_t step = std::min(n, sink.size());
    absl::Status status = RecvAll(fd, sink.data(), step, what);
    if (!status.ok()) return status;
    n -= step;
  }
  return absl::OkStatus();
}

void SetTimeouts(int fd, absl::Duration timeout) {
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

absl::StatusOr<int> Connect(const std::string& host, int port, absl::Duration timeout) {
  const std::string what = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat(what, ": cannot resolve: ", gai_strerror(rc)));
  }
  int err = ECONNREFUSED;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    SetTimeouts(fd, timeout);  // also bounds connect() on Linux
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return Errno("connect", what, err);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace sockets
}  // namespace srs
