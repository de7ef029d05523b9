#include "depot/client/data_channel_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "depot/client/data_wire.h"
#include "depot/client/socket_io.h"

namespace srs {
namespace {

DataChannelClient::Result Transport(const absl::Status& status) {
  return DataChannelClient::Result{status, true};
}

}  // namespace

DataChannelClient::DataChannelClient(std::string host, int port, absl::Duration timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

DataChannelClient::~DataChannelClient() {
  for (int fd : idle_) close(fd);
}

absl::Status DataChannelClient::SendPayload(int fd, absl::string_view bytes, absl::string_view what,
                                            bool* answered) {
  timeval limit{};
  socklen_t length = sizeof limit;
  int wait_ms = -1;
  if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, &length) == 0 &&
      (limit.tv_sec != 0 || limit.tv_usec != 0)) {
    wait_ms = static_cast<int>(limit.tv_sec * 1000 + limit.tv_usec / 1000);
  }
  while (!bytes.empty()) {
    pollfd ready{fd, POLLIN | POLLOUT, 0};
    const int rc = poll(&ready, 1, wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return absl::UnavailableError(absl::StrCat(what, ": poll: ", strerror(errno)));
    if (rc == 0) return absl::DeadlineExceededError(absl::StrCat(what, ": send timed out"));
    if ((ready.revents & POLLIN) != 0) {
      *answered = true;
      return absl::UnavailableError(
          absl::StrCat(what, ": the depot ended the put before the payload was complete"));
    }
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_MORE | MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat(what, ": send: ", strerror(errno)));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

DataChannelClient::Result DataChannelClient::Call(uint32_t op,
                                                  const google::protobuf::MessageLite& request,
                                                  const Place& place, const Received& received,
                                                  absl::Duration timeout) {
  return Run(op, request, place, received, nullptr, timeout);
}

DataChannelClient::Result DataChannelClient::Put(const google::protobuf::MessageLite& request,
                                                 const Upload& upload, const Place& place) {
  return Run(data_wire::kOpPut, request, place, nullptr, upload);
}

DataChannelClient::Result DataChannelClient::Run(uint32_t op,
                                                 const google::protobuf::MessageLite& request,
                                                 const Place& place, const Received& received,
                                                 const Upload& upload, absl::Duration timeout) {
  std::string body;
  if (!request.SerializeToString(&body) || body.size() > data_wire::kMaxRequestBytes) {
    return Result{absl::InvalidArgumentError("data channel: request too large"), false};
  }
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) fd = idle_.back(), idle_.pop_back();
  }
  if (fd < 0) {
    absl::StatusOr<int> connected = sockets::Connect(host_, port_, timeout_);
    if (!connected.ok()) return Transport(connected.status());
    fd = *connected;
  }
  const bool longer = timeout > timeout_;
  if (longer) sockets::SetTimeouts(fd, timeout);
  bool reusable = false;
  Result result = Exchange(fd, op, body, place, received, upload, &reusable);
  if (longer && reusable) sockets::SetTimeouts(fd, timeout_);
  std::lock_guard<std::mutex> lock(mu_);
  if (reusable && idle_.size() < kMaxIdle) {
    idle_.push_back(fd);
  } else {
    close(fd);
  }
  return result;
}

DataChannelClient::Result DataChannelClient::Exchange(int fd, uint32_t op, const std::string& body,
                                                      const Place& place, const Received& received,
                                                      const Upload& upload, bool* reusable) {
  const std::string what = absl::StrCat("depot data channel ", host_, ":", port_);
  std::string header;
  data_wire::PutU32(&header, data_wire::kMagic);
  data_wire::PutU32(&header, op);
  data_wire::PutU32(&header, static_cast<uint32_t>(body.size()));
  absl::Status sent = sockets::SendAll(fd, header + body, what);
  if (!sent.ok()) return Transport(sent);
  bool ready = false;
  // Why the upload stopped early, when the depot's answer was waiting all the same.
  absl::Status cut;
  // After READY every failure says so: the depot may have committed the put.
  auto transport = [&ready, &cut](const absl::Status& status) {
    if (!cut.ok()) return Result{cut, false, true};
    Result result = Transport(status);
    result.ready = ready;
    return result;
  };
  for (;;) {
    char frame[12];
    absl::Status got = sockets::RecvAll(fd, frame, 4, what);
    if (!got.ok()) return transport(got);
    const uint32_t type = data_wire::GetU32(frame);
    if (type == data_wire::kFrameReady) {
      if (!upload || ready) {
        return transport(absl::DataLossError(absl::StrCat(what, ": unexpected READY frame")));
      }
      ready = true;
      absl::Status uploaded = upload(fd);
      if (uploaded.ok()) continue;
      // The depot may have ended the put while the payload was still going out (it could not
      // store it): its END says why. Otherwise it waits for bytes; closing the connection
      // (the caller does) drops the put.
      pollfd answer{fd, POLLIN, 0};
      if (poll(&answer, 1, 0) != 1 || (answer.revents & POLLIN) == 0) {
        return Result{uploaded, false, true};
      }
      cut = uploaded;
      continue;
    }
    if (type == data_wire::kFrameData) {
      got = sockets::RecvAll(fd, frame + 4, 8, what);
      if (!got.ok()) return transport(got);
      const uint64_t n = data_wire::GetU64(frame + 4);
      char* into = place(n);
      if (into == nullptr) {  // more than asked for: the connection's framing is now useless
        return Result{absl::DataLossError(absl::StrCat(what,
                                                       ": the depot sent more bytes than "
                                                       "the request selects")),
                      false};
      }
      for (uint64_t at = 0; at < n; at += kSliceBytes) {
        const size_t slice = static_cast<size_t>(std::min<uint64_t>(kSliceBytes, n - at));
        got = sockets::RecvAll(fd, into + at, slice, what);
        if (!got.ok()) return transport(got);
        if (received) received(into + at, slice);
      }
      continue;
    }
    if (type != data_wire::kFrameEnd) {
      return transport(absl::DataLossError(absl::StrCat(what, ": malformed frame")));
    }
    got = sockets::RecvAll(fd, frame + 4, 8, what);
    if (!got.ok()) return transport(got);
    const uint32_t code = data_wire::GetU32(frame + 4), length = data_wire::GetU32(frame + 8);
    if (code > static_cast<uint32_t>(absl::StatusCode::kUnauthenticated) ||
        length > data_wire::kMaxMessageBytes) {
      return transport(absl::DataLossError(absl::StrCat(what, ": malformed end frame")));
    }
    std::string message(length, '\0');
    got = sockets::RecvAll(fd, message.data(), length, what);
    if (!got.ok()) return transport(got);
    const absl::Status answer(static_cast<absl::StatusCode>(code), message);
    if (!cut.ok()) {  // out of step: the payload was not all sent
      return Result{answer.ok() ? cut : answer, false, true};
    }
    *reusable = true;
    return Result{answer, false, ready};
  }
}

}  // namespace srs
