#include "bench/suite/loopback_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace srs::bench {

LoopbackStream::~LoopbackStream() {
  if (send_fd_ >= 0) close(send_fd_);
  if (recv_fd_ >= 0) close(recv_fd_);
}

bool LoopbackStream::Connect(std::string* error) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    if (listener >= 0) close(listener);
    *error = "raw TCP baseline: cannot listen on 127.0.0.1";
    return false;
  }
  send_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (send_fd_ < 0 || connect(send_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(listener);
    *error = "raw TCP baseline: cannot connect";
    return false;
  }
  recv_fd_ = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  close(listener);
  if (recv_fd_ < 0) {
    *error = "raw TCP baseline: accept failed";
    return false;
  }
  return true;
}

bool LoopbackStream::Stream(const char* src, char* dst, size_t bytes) const {
  std::thread sender([&] {
    size_t done = 0;
    while (done < bytes) {
      ssize_t n = send(send_fd_, src + done, bytes - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  });
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = recv(recv_fd_, dst + got, bytes - got, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  sender.join();
  return got == bytes;
}

}  // namespace srs::bench
