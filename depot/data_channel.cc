#include "depot/data_channel.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "depot/client/data_wire.h"
#include "depot/client/socket_io.h"
#include "depot/local_put_calls.h"
#include "depot/raw_dataset.h"

namespace srs {
namespace depot {
namespace {

// Blocks smaller than this go through HDF5 (one gathered buffer per ~1 MiB) rather than one
// sendfile each: below it the per-call cost outweighs the saved copy.
constexpr size_t kMinSendfileRun = 64 << 10;
// A client that stops reading must not hold a connection thread forever.
constexpr absl::Duration kSocketTimeout = absl::Seconds(60);

// Receives a request body of `n` bytes into `body`, which grows with the bytes that arrive
// rather than with what the header announces: before any capability is checked, a peer that
// announces kMaxRequestBytes and sends nothing must not make the depot hold them (256
// connections x 16 MiB would be 4 GiB). Doubling steps keep the copying linear.
absl::Status RecvBody(int fd, uint32_t n, std::string* body) {
  constexpr size_t kFirstStep = 64 << 10;
  body->clear();
  while (body->size() < n) {
    const size_t at = body->size();
    const size_t step = std::min<size_t>(n - at, std::max(kFirstStep, at));
    body->resize(at + step);
    SRS_RETURN_IF_ERROR(sockets::RecvAll(fd, body->data() + at, step, "data channel"));
  }
  return absl::OkStatus();
}

// Writes the response frames of one request. Once a send fails the connection is dead: every
// later call returns false and the caller closes it.
class FrameWriter {
 public:
  explicit FrameWriter(int fd) : fd_(fd) {}
  bool ok() const { return ok_; }

  bool Data(absl::string_view bytes) {
    if (bytes.empty()) return ok_;
    return Header(bytes.size()) && Send(bytes, 0);
  }

  // `n` bytes of the file `file` from `offset`, sent by the kernel (no copy through us).
  bool DataFromFile(int file, off_t offset, size_t n) {
    if (n == 0) return ok_;
    if (!Header(n)) return false;
    while (n > 0 && ok_) {
      ssize_t sent = sendfile(fd_, file, &offset, n);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) ok_ = false;  // socket gone, timed out, or the file shrank
      if (sent > 0) n -= static_cast<size_t>(sent);
    }
    return ok_;
  }

  // A put's go-ahead: the client sends its payload now.
  bool Ready() {
    std::string frame;
    data_wire::PutU32(&frame, data_wire::kFrameReady);
    return Send(frame, 0);
  }

  // The request's bytes stopped arriving (peer gone, timed out): the connection is dead.
  void Lost() { ok_ = false; }

  bool End(const absl::Status& status) {
    std::string frame;
    const std::string message(status.message().substr(0, data_wire::kMaxMessageBytes));
    data_wire::PutU32(&frame, data_wire::kFrameEnd);
    data_wire::PutU32(&frame, static_cast<uint32_t>(status.code()));
    data_wire::PutU32(&frame, static_cast<uint32_t>(message.size()));
    frame += message;
    return Send(frame, 0);
  }

 private:
  bool Header(uint64_t n) {
    std::string header;
    data_wire::PutU32(&header, data_wire::kFrameData);
    data_wire::PutU64(&header, n);
    return Send(header, MSG_MORE);
  }
  bool Send(absl::string_view bytes, int flags) {
    if (ok_) ok_ = sockets::SendAll(fd_, bytes, "data channel", flags).ok();
    return ok_;
  }
  int fd_;
  bool ok_ = true;
};

std::vector<piece::Hyperslab> Selections(const v1::ReadRangeRequest& request) {
  std::vector<piece::Hyperslab> out;
  for (const v1::Hyperslab& s : request.selections()) {
    out.push_back({s.start(), s.stride(), s.count(), s.block()});
  }
  return out;
}

// One contiguous run of stored bytes.
struct Run {
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

// The file runs of `selections` in request order (adjacent runs merged), or nullopt when they
// are out of range or too small to be worth a sendfile each (PieceStore then reads them).
std::optional<std::vector<Run>> RunsOf(const RawDataset& raw,
                                       const std::vector<piece::Hyperslab>& selections) {
  std::vector<Run> runs;
  const uint64_t elem = raw.element_size;
  auto add = [&](int64_t start, int64_t elements) {
    const uint64_t at = raw.offset + static_cast<uint64_t>(start) * elem;
    const uint64_t bytes = static_cast<uint64_t>(elements) * elem;
    if (!runs.empty() && runs.back().offset + runs.back().bytes == at) {
      runs.back().bytes += bytes;
    } else {
      runs.push_back({at, bytes});
    }
  };
  for (const piece::Hyperslab& s : selections) {
    if (s.count == 0 || s.block == 0) continue;
    if (static_cast<__int128>(s.count - 1) * s.stride + s.start + s.block > raw.count) {
      return std::nullopt;  // PieceStore reports OUT_OF_RANGE in its words
    }
    if (s.count == 1 || s.stride == s.block) {
      add(s.start, s.count * s.block);
    } else if (static_cast<uint64_t>(s.block) * elem >= kMinSendfileRun) {
      for (int64_t k = 0; k < s.count; ++k) add(s.start + k * s.stride, s.block);
    } else {
      return std::nullopt;
    }
  }
  return runs;
}

bool ListsDataset(const v1::PieceInfo& info, const std::string& dataset) {
  const std::string indexed = piece::IndexedDatasetOf(dataset);
  const std::string& name = indexed.empty() ? dataset : indexed;
  for (const v1::DatasetInfo& d : info.datasets()) {
    if (d.name() == name) return true;
  }
  return false;
}

// The zero-copy plan of a ranged read: the verified piece's path and its runs; nullopt when
// the read must go through PieceStore (memory backend, conversion, small strided blocks, or
// an error PieceStore words better).
struct RawPlan {
  std::string path;
  std::vector<Run> runs;
};
absl::StatusOr<std::optional<RawPlan>> PlanRaw(PieceStore* store,
                                               const v1::ReadRangeRequest& request,
                                               ElementType type,
                                               const std::vector<piece::Hyperslab>& selections) {
  absl::StatusOr<PieceStore::LocalOpen> open = store->OpenLocal(request.read_cap());
  if (!open.ok()) {
    if (open.status().code() == absl::StatusCode::kFailedPrecondition) return std::nullopt;
    return open.status();  // capability or integrity: the same refusal the gRPC path gives
  }
  if (!ListsDataset(open->info, request.dataset())) return std::nullopt;
  absl::StatusOr<std::optional<RawDataset>> raw =
      LocateRawDataset(open->path, request.dataset(), type);
  if (!raw.ok() || !raw->has_value()) return std::nullopt;
  std::optional<std::vector<Run>> runs = RunsOf(**raw, selections);
  if (!runs.has_value()) return std::nullopt;
  return RawPlan{open->path, std::move(*runs)};
}

absl::Status SendRuns(const std::string& path, const std::vector<Run>& runs, FrameWriter& out) {
  int file = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file < 0) return absl::DataLossError(absl::StrCat(path, ": ", strerror(errno)));
  for (const Run& run : runs) {
    if (!out.DataFromFile(file, static_cast<off_t>(run.offset), run.bytes)) break;
  }
  close(file);
  return absl::OkStatus();  // a failed send is the connection's end, not a status
}

absl::Status HandleReadRange(PieceStore* store, const std::string& body, FrameWriter& out) {
  v1::ReadRangeRequest request;
  if (!request.ParseFromString(body)) {
    return absl::InvalidArgumentError("data channel: malformed ReadRange request");
  }
  SRS_ASSIGN_OR_RETURN(ElementType type, ElementTypeFromName(request.wire_type()));
  std::vector<piece::Hyperslab> selections = Selections(request);
  SRS_RETURN_IF_ERROR(piece::SelectionElements(selections).status());
  SRS_ASSIGN_OR_RETURN(std::optional<RawPlan> plan, PlanRaw(store, request, type, selections));
  if (plan.has_value()) return SendRuns(plan->path, plan->runs, out);
  return store->ReadRange(request.read_cap(), request.dataset(), request.wire_type(), selections,
                          [&out](absl::string_view bytes) { return out.Data(bytes); });
}

absl::Status HandleGet(PieceStore* store, const std::string& body, FrameWriter& out) {
  v1::GetRequest request;
  if (!request.ParseFromString(body)) {
    return absl::InvalidArgumentError("data channel: malformed Get request");
  }
  absl::StatusOr<PieceStore::LocalOpen> open = store->OpenLocal(request.read_cap());
  if (open.ok()) {
    return SendRuns(open->path, {{0, static_cast<uint64_t>(open->info.size_bytes())}}, out);
  }
  if (open.status().code() != absl::StatusCode::kFailedPrecondition) return open.status();
  return store->Get(request.read_cap(),
                    [&out](absl::string_view bytes) { return out.Data(bytes); });
}

// Bytes of a put received per recv/append: large enough that the per-call cost vanishes, small
// enough that each slice is hashed while still in cache.
constexpr size_t kPutSliceBytes = 1 << 20;
constexpr int64_t kMaxPutDrainBytes = int64_t{1} << 30;

// A put (data_wire.h, kOpPut): grant and reservation first (a refusal ends the request before
// any payload is sent, the connection stays usable); then exactly total_bytes of payload and
// the u64 XXH3 trailer into a PutSession, whose Commit checks and verifies as a streamed Put's.
absl::Status HandlePut(PieceStore* store, const GrantCheck* grants, int fd, const std::string& body,
                       FrameWriter& out) {
  v1::DataPutRequest request;
  if (!request.ParseFromString(body)) {
    return absl::InvalidArgumentError("data channel: malformed Put request");
  }
  const int64_t total = request.total_bytes();
  v1::PutHeader header = request.header();
  if (total < 0 || (header.size_hint() != 0 && header.size_hint() != total)) {
    return absl::InvalidArgumentError(
        "data channel: Put needs total_bytes >= 0 (and a size_hint, if any, equal to it)");
  }
  header.set_size_hint(total);  // the whole piece is reserved before a byte is sent
  SRS_RETURN_IF_ERROR(grants->CheckWrite(header.grant(), header.key(), "data Put"));
  SRS_ASSIGN_OR_RETURN(std::unique_ptr<PutSession> session, store->BeginPut(header));
  if (!out.Ready()) return absl::OkStatus();  // the connection is gone; the put is dropped
  const std::string what = "data channel put";
  std::string slice(static_cast<size_t>(std::min<int64_t>(total, kPutSliceBytes)), '\0');
  absl::Status appended;
  for (int64_t left = total; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(left, kPutSliceBytes));
    if (!sockets::RecvAll(fd, slice.data(), n, what).ok()) {
      out.Lost();  // destroying the session stores nothing
      return absl::OkStatus();
    }
    left -= static_cast<int64_t>(n);
    if (appended.ok()) appended = session->Append(absl::string_view(slice.data(), n));
    // After a failed append (a disk error) up to kMaxPutDrainBytes more are read and dropped,
    // so the client gets the reason on a connection still in step; beyond that the reason is
    // sent and the connection closed rather than reading gigabytes for nothing.
    if (!appended.ok() && left > kMaxPutDrainBytes) {
      session.reset();  // key, space and staged bytes released before the client hears why
      out.End(appended);
      out.Lost();
      return absl::OkStatus();
    }
  }
  char trailer[8];
  if (!sockets::RecvAll(fd, trailer, sizeof trailer, what).ok()) {
    out.Lost();
    return absl::OkStatus();
  }
  SRS_RETURN_IF_ERROR(appended);
  SRS_ASSIGN_OR_RETURN(PutResult result, session->Commit(data_wire::GetU64(trailer), total));
  v1::PutResponse response;
  *response.mutable_caps() = result.caps;
  *response.mutable_info() = result.info;
  out.Data(response.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<int> Listen(const std::string& host, int* port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const bool any = host.empty() || host == "0.0.0.0" || host == "[::]";
  int rc = getaddrinfo(any ? nullptr : host.c_str(), "0", &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("data channel: cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 64) != 0)) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("data channel: cannot listen on ", host, ":0"));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  *port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

// A same-host put's BeginLocalPut or CommitLocalPut (data_wire.h): the gRPC call's answer as
// one DATA frame.
template <typename Request, typename Call>
absl::Status HandleLocalPutCall(const std::string& body, const char* name, const Call& call,
                                FrameWriter& out) {
  Request request;
  if (!request.ParseFromString(body)) {
    return absl::InvalidArgumentError(absl::StrCat("data channel: malformed ", name, " request"));
  }
  auto response = call(request);
  if (!response.ok()) return response.status();
  out.Data(response->SerializeAsString());  // a failed send is the connection's end
  return absl::OkStatus();
}

const char* OpName(uint32_t op) {
  switch (op) {
    case data_wire::kOpReadRange:
      return "data ReadRange";
    case data_wire::kOpGet:
      return "data Get";
    case data_wire::kOpPut:
      return "data Put";
    case data_wire::kOpBeginLocalPut:
      return "data BeginLocalPut";
    case data_wire::kOpCommitLocalPut:
      return "data CommitLocalPut";
  }
  return nullptr;  // not an operation
}

// One request of any operation.
absl::Status Handle(PieceStore* store, const GrantCheck* grants, uint32_t op, int fd,
                    const std::string& body, FrameWriter& out) {
  switch (op) {
    case data_wire::kOpReadRange:
      return HandleReadRange(store, body, out);
    case data_wire::kOpGet:
      return HandleGet(store, body, out);
    case data_wire::kOpPut:
      return HandlePut(store, grants, fd, body, out);
    case data_wire::kOpBeginLocalPut:
      return HandleLocalPutCall<v1::BeginLocalPutRequest>(
          body, "BeginLocalPut",
          [store, grants](const v1::BeginLocalPutRequest& r) {
            return BeginLocalPutCall(store, grants, r);
          },
          out);
    default:  // data_wire::kOpCommitLocalPut (Serve admits no other op)
      return HandleLocalPutCall<v1::CommitLocalPutRequest>(
          body, "CommitLocalPut",
          [store, grants](const v1::CommitLocalPutRequest& r) {
            return CommitLocalPutCall(store, grants, r);
          },
          out);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataChannelServer>> DataChannelServer::Start(
    PieceStore* store, const GrantCheck* grants, const std::string& host) {
  int port = 0;
  SRS_ASSIGN_OR_RETURN(int fd, Listen(host, &port));
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("data channel: pipe: ", strerror(errno)));
  }
  std::unique_ptr<DataChannelServer> server(new DataChannelServer(store, grants, fd, port, wake));
  DataChannelServer* raw = server.get();
  server->accept_thread_ = std::thread([raw] { raw->AcceptLoop(); });
  return server;
}

DataChannelServer::DataChannelServer(PieceStore* store, const GrantCheck* grants, int listen_fd,
                                     int port, int wake_fd[2])
    : store_(store), grants_(grants), listen_fd_(listen_fd), port_(port) {
  wake_[0] = wake_fd[0];
  wake_[1] = wake_fd[1];
}

DataChannelServer::~DataChannelServer() {
  Shutdown(absl::ZeroDuration());
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void DataChannelServer::ReapLocked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (!it->done) {
      ++it;
      continue;
    }
    it->thread.join();
    close(it->fd);
    it = connections_.erase(it);
  }
}

void DataChannelServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    ReapLocked();
    if (stopping_ || connections_.size() >= static_cast<size_t>(kMaxConnections)) {
      close(fd);  // the client falls back to gRPC
      continue;
    }
    sockets::SetTimeouts(fd, kSocketTimeout);
    // The END frame is small and follows a large send: without this, Nagle holds it until the
    // client's delayed ACK (tens of ms per request).
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Connection& connection = connections_.emplace_back();
    connection.fd = fd;
    Connection* c = &connection;
    connection.thread = std::thread([this, c] { Serve(c); });
  }
}

void DataChannelServer::Serve(Connection* connection) {
  const int fd = connection->fd;
  for (;;) {
    char header[12];
    if (!sockets::RecvAll(fd, header, sizeof header, "data channel").ok()) break;
    const uint32_t op = data_wire::GetU32(header + 4), n = data_wire::GetU32(header + 8);
    if (data_wire::GetU32(header) != data_wire::kMagic || n > data_wire::kMaxRequestBytes ||
        OpName(op) == nullptr) {
      SRS_LOG(WARNING) << "data channel: malformed request header: connection closed";
      break;
    }
    std::string body;
    if (!RecvBody(fd, n, &body).ok()) break;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      connection->busy = true;
    }
    FrameWriter out(fd);
    absl::Status status = Handle(store_, grants_, op, fd, body, out);
    if (!status.ok() && status.code() != absl::StatusCode::kPermissionDenied) {
      SRS_LOG(INFO).Field("op", OpName(op)).Field("code", absl::StatusCodeToString(status.code()))
          << status.message();
    }
    bool ended = !out.ok() || !out.End(status);
    {
      absl::MutexLock lock(&mu_);
      connection->busy = false;
      ended = ended || stopping_;  // Shutdown left this connection open for the request only
    }
    if (ended) break;
  }
  // The peer sees the end now; the fd itself is closed once the thread is joined, so that
  // Shutdown never acts on a number the process has reused.
  shutdown(fd, SHUT_RDWR);
  absl::MutexLock lock(&mu_);
  connection->done = true;
}

void DataChannelServer::Shutdown(absl::Duration deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  char wake = 1;
  if (write(wake_[1], &wake, 1) < 0) {
    SRS_LOG(WARNING) << "data channel: cannot wake acceptor";
  }
  accept_thread_.join();
  absl::MutexLock lock(&mu_);
  // Idle connections end at once (their read returns 0); busy ones finish their request (a
  // put's payload still arriving included, as a gRPC Put is drained) and then end.
  for (Connection& c : connections_) {
    if (!c.busy) shutdown(c.fd, SHUT_RD);
  }
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const Connection& c : connections_) {
      if (!c.done) return false;
    }
    return true;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&idle), deadline)) {
    SRS_LOG(WARNING) << "data channel: shutdown deadline reached: closing transfers in flight";
    for (Connection& c : connections_) shutdown(c.fd, SHUT_RDWR);
  }
  mu_.Await(absl::Condition(&idle));
  ReapLocked();
}

}  // namespace depot
}  // namespace srs
