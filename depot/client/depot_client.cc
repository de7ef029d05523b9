#include "depot/client/depot_client.h"

#include <grpcpp/grpcpp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/checksum.h"
#include "common/error_codes.h"
#include "common/log.h"
#include "common/retry.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "depot/client/data_wire.h"
#include "depot/client/socket_io.h"

namespace srs {

using depot::v1::PieceInfo;
using depot::v1::PieceKey;
using depot::v1::PutResponse;

namespace {

// Bulk transfers get more time than small RPCs: at least 1 s per 64 MiB, so a slow disk or a
// long network does not turn a healthy 10 GiB put into DEADLINE_EXCEEDED.
absl::Duration StreamAllowance(size_t bytes) {
  return absl::Seconds(static_cast<double>(bytes) / (64 << 20));
}

RetryOptions RetryAll() { return RetryOptions(); }

// How long a put waits for Info to learn the depot's data channel before going over gRPC.
constexpr absl::Duration kPutProbe = absl::Seconds(5);

}  // namespace

absl::StatusOr<std::unique_ptr<DepotClient>> DepotClient::Connect(const std::string& address,
                                                                  absl::Duration rpc_timeout) {
  return Connect(address, rpc_timeout, tls::ChannelCredentials());
}

absl::StatusOr<std::unique_ptr<DepotClient>> DepotClient::Connect(
    const std::string& address, absl::Duration rpc_timeout,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  if (address.empty()) return absl::InvalidArgumentError("depot address is empty");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxAnswerBytes);
  args.SetMaxSendMessageSize(8 << 20);
  // Reconnect within about a second after a depot restart (the default backs off up to 2
  // minutes); the minimum backoff is also the connect timeout, so keep it at 1 s.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  auto channel = grpc::CreateCustomChannel(address, std::move(credentials), args);
  if (channel == nullptr) {
    return absl::UnavailableError(absl::StrCat("depot ", address, ": cannot create channel"));
  }
  return std::make_unique<DepotClient>(std::move(channel), address, rpc_timeout);
}

DepotClient::DepotClient(std::shared_ptr<grpc::Channel> channel, std::string address,
                         absl::Duration rpc_timeout)
    : channel_(std::move(channel)),
      stub_(depot::v1::Depot::NewStub(channel_)),
      address_(std::move(address)),
      rpc_timeout_(rpc_timeout) {}

absl::Duration DepotClient::CallTimeout(size_t stream_bytes) const {
  return rpc_timeout_ + StreamAllowance(stream_bytes);
}

absl::Time DepotClient::Deadline(size_t stream_bytes) const {
  return absl::Now() + CallTimeout(stream_bytes);
}

std::unique_ptr<grpc::ClientContext> DepotClient::NewContext(size_t stream_bytes) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + CallTimeout(stream_bytes)));
  return context;
}

absl::Status DepotClient::Error(const grpc::Status& status, absl::string_view what) const {
  return FromGrpcStatus(status, absl::StrCat("depot ", address_, ": ", what));
}

absl::StatusOr<depot::v1::DepotInfo> DepotClient::InfoOnce() {
  auto context = NewContext();
  depot::v1::DepotInfo info;
  grpc::Status status = stub_->Info(context.get(), depot::v1::InfoRequest(), &info);
  if (!status.ok()) return Error(status, "Info");
  return info;
}

std::optional<absl::StatusOr<PutResponse>> DepotClient::PutOverChannel(
    const PieceKey& key, int64_t size_bytes, int64_t lease_seconds, const ChunkProducer& produce,
    const depot::v1::WriteGrant& grant) {
  DataChannelClient* channel = DataChannel(/*retry_info=*/false);
  if (channel == nullptr || size_bytes < 0) return std::nullopt;
  depot::v1::DataPutRequest request;
  *request.mutable_header()->mutable_key() = key;
  request.mutable_header()->set_size_hint(size_bytes);
  request.mutable_header()->set_lease_seconds(lease_seconds);
  *request.mutable_header()->mutable_grant() = grant;
  request.set_total_bytes(size_bytes);
  const std::string what = absl::StrCat("depot ", address_, ": Put ", PieceKeyText(key));
  bool socket_failed = false;
  DataChannelClient::Upload upload = [&](int fd) -> absl::Status {
    Xxh3Hasher hasher;
    int64_t sent = 0;
    absl::Status sending;
    absl::Status produced = produce([&](absl::string_view bytes) {
      if (static_cast<int64_t>(bytes.size()) > size_bytes - sent) {
        sending = absl::InvalidArgumentError(
            absl::StrCat(what, ": the source gave more than the ", size_bytes, " bytes announced"));
        return false;
      }
      hasher.Update(bytes.data(), bytes.size());
      bool answered = false;
      sending = DataChannelClient::SendPayload(fd, bytes, what, &answered);
      socket_failed = !sending.ok() && !answered;  // else the depot's answer says why
      sent += static_cast<int64_t>(bytes.size());
      return sending.ok();
    });
    if (!sending.ok()) return sending;
    if (!produced.ok()) return produced;
    if (sent != size_bytes) {
      return absl::DataLossError(absl::StrCat(what, ": the source gave ", sent, " of the ",
                                              size_bytes, " bytes announced"));
    }
    std::string trailer;
    data_wire::PutU64(&trailer, hasher.Digest());
    sending = sockets::SendAll(fd, trailer, what);
    socket_failed = !sending.ok();
    return sending;
  };
  std::string answer;
  DataChannelClient::Result result = channel->Put(request, upload, [&](uint64_t n) -> char* {
    if (!answer.empty() || n > (1u << 20)) return nullptr;  // one PutResponse, small
    answer.resize(n);
    return answer.data();
  });
  if (result.transport_failed && !result.ready) {
    SRS_LOG(DEBUG) << result.status.message() << ": Put over gRPC instead";
    return std::nullopt;
  }
  if (result.transport_failed || socket_failed) {
    // The depot may have committed the piece and lost the answer; a retry then meets
    // ALREADY_EXISTS, as a broken gRPC stream's would.
    return absl::UnavailableError(
        absl::StrCat(what, ": the data channel broke: ", result.status.message()));
  }
  if (!result.status.ok()) return Annotate(result.status, what);
  PutResponse response;
  if (!response.ParseFromString(answer)) {
    return absl::DataLossError(absl::StrCat(what, ": malformed answer on the data channel"));
  }
  return response;
}

absl::StatusOr<PutResponse> DepotClient::PutBytesOnce(const PieceKey& key, absl::string_view bytes,
                                                      int64_t lease_seconds,
                                                      const depot::v1::WriteGrant& grant) {
  std::optional<absl::StatusOr<PutResponse>> fast = PutOverChannel(
      key, static_cast<int64_t>(bytes.size()), lease_seconds,
      [bytes](const ChunkSend& send) {
        for (size_t at = 0; at < bytes.size(); at += kChunkBytes) {
          if (!send(bytes.substr(at, kChunkBytes))) break;
        }
        return absl::OkStatus();
      },
      grant);
  if (fast.has_value()) return *std::move(fast);
  auto context = NewContext(bytes.size());
  PutResponse response;
  auto writer = stub_->Put(context.get(), &response);
  depot::v1::PutRequest request;
  auto* header = request.mutable_header();
  *header->mutable_key() = key;
  header->set_size_hint(static_cast<int64_t>(bytes.size()));
  header->set_lease_seconds(lease_seconds);
  *header->mutable_grant() = grant;
  // A failed Write means the depot ended the stream (e.g. refused the header): Finish says why.
  bool open = writer->Write(request);
  Xxh3Hasher hasher;
  for (size_t at = 0; open && at < bytes.size(); at += kChunkBytes) {
    absl::string_view chunk = bytes.substr(at, kChunkBytes);
    hasher.Update(chunk.data(), chunk.size());
    request.Clear();
    request.set_chunk(chunk.data(), chunk.size());
    open = writer->Write(request);
  }
  if (open) {
    request.Clear();
    request.mutable_trailer()->set_xxh3_64(hasher.Digest());
    request.mutable_trailer()->set_total_bytes(static_cast<int64_t>(bytes.size()));
    writer->Write(request);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return Error(status, absl::StrCat("Put ", PieceKeyText(key)));
  return response;
}

absl::StatusOr<PutResponse> DepotClient::PutStreamOnce(const PieceKey& key, int64_t size_bytes,
                                                       int64_t lease_seconds,
                                                       const ChunkProducer& produce,
                                                       const depot::v1::WriteGrant& grant) {
  std::optional<absl::StatusOr<PutResponse>> fast =
      PutOverChannel(key, size_bytes, lease_seconds, produce, grant);
  if (fast.has_value()) return *std::move(fast);
  auto context = NewContext(static_cast<size_t>(std::max<int64_t>(size_bytes, 0)));
  PutResponse response;
  auto writer = stub_->Put(context.get(), &response);
  depot::v1::PutRequest request;
  auto* header = request.mutable_header();
  *header->mutable_key() = key;
  header->set_size_hint(size_bytes);
  header->set_lease_seconds(lease_seconds);
  *header->mutable_grant() = grant;
  bool open = writer->Write(request);
  Xxh3Hasher hasher;
  int64_t sent = 0;
  absl::Status produced = produce([&](absl::string_view bytes) {
    for (size_t at = 0; open && at < bytes.size(); at += kChunkBytes) {
      absl::string_view chunk = bytes.substr(at, kChunkBytes);
      hasher.Update(chunk.data(), chunk.size());
      request.Clear();
      request.set_chunk(chunk.data(), chunk.size());
      open = writer->Write(request);
      sent += static_cast<int64_t>(chunk.size());
    }
    return open;
  });
  if (!produced.ok() && open) {
    // The source failed: end the stream without a trailer, so the depot stores nothing.
    context->TryCancel();
    writer->Finish().ok();
    return produced;
  }
  if (open) {
    request.Clear();
    request.mutable_trailer()->set_xxh3_64(hasher.Digest());
    request.mutable_trailer()->set_total_bytes(sent);
    writer->Write(request);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return Error(status, absl::StrCat("Put ", PieceKeyText(key)));
  if (!produced.ok()) return produced;  // the depot took an incomplete stream: cannot happen
  return response;
}

absl::Status DepotClient::LostPutIsRetryable(const absl::Status& failed) {
  // A depot that restarted during the put forgot it and swept its spool: the commit finds no such
  // put (NOT_FOUND), or the spool file is gone under the writer or the depot ("No such file or
  // directory"). Nothing of the put survives, so the whole put (a new BeginLocalPut, the file
  // written again) is safe to redo: say UNAVAILABLE, which the retry loop redoes within the
  // call's deadline. A depot that stays up never answers these for a live put.
  if (failed.ok()) return failed;
  const bool lost =
      absl::IsNotFound(failed) || absl::StrContains(failed.message(), "No such file or directory");
  if (!lost) return failed;
  SRS_LOG(WARNING).Field("depot", address_)
      << "local put lost (depot restarted?), redoing it: " << failed.message();
  return absl::UnavailableError(absl::StrCat(failed.message(), " (the depot lost the put)"));
}

absl::Status DepotClient::ReadRangeOnce(const std::string& read_cap, const std::string& dataset,
                                        ElementType wire_type,
                                        const std::vector<piece::Hyperslab>& selections, void* out,
                                        size_t out_bytes,
                                        const std::function<void(size_t)>& landed) {
  SRS_ASSIGN_OR_RETURN(int64_t elements, piece::SelectionElements(selections));
  const size_t expected = static_cast<size_t>(elements) * ElementSize(wire_type);
  if (expected > out_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("depot ", address_, ": ReadRange of '", dataset,
                                                   "' needs ", expected, " bytes, buffer has ",
                                                   out_bytes));
  }
  depot::v1::ReadRangeRequest request;
  request.set_read_cap(read_cap);
  request.set_dataset(dataset);
  request.set_wire_type(ElementTypeName(wire_type));
  for (const piece::Hyperslab& s : selections) {
    auto* slab = request.add_selections();
    slab->set_start(s.start);
    slab->set_stride(s.stride);
    slab->set_count(s.count);
    slab->set_block(s.block);
  }
  if (DataChannelClient* channel = DataChannel()) {
    size_t received = 0;
    DataChannelClient::Result result = channel->Call(
        data_wire::kOpReadRange, request,
        [&](uint64_t n) -> char* {
          if (n > expected - received) return nullptr;
          char* at = static_cast<char*>(out) + received;
          received += n;
          return at;
        },
        landed ? DataChannelClient::Received([&](const char*, size_t n) { landed(n); })
               : DataChannelClient::Received());
    if (!result.transport_failed) {
      const std::string what = absl::StrCat("depot ", address_, ": ReadRange '", dataset, "'");
      if (!result.status.ok()) return Annotate(result.status, what);
      if (received != expected) {
        return absl::DataLossError(
            absl::StrCat(what, " returned fewer bytes than the ", expected, " selected"));
      }
      return absl::OkStatus();
    }
    SRS_LOG(DEBUG) << result.status.message() << ": ReadRange over gRPC instead";
  }
  return ReadRangeGrpc(request, out, expected, landed);
}

absl::Status DepotClient::ReadRangeGrpc(const depot::v1::ReadRangeRequest& request, void* out,
                                        size_t expected,
                                        const std::function<void(size_t)>& landed) {
  const std::string& dataset = request.dataset();
  auto context = NewContext(expected);
  auto reader = stub_->ReadRange(context.get(), request);
  depot::v1::DataChunk chunk;
  size_t received = 0;
  bool overflow = false;
  while (reader->Read(&chunk)) {
    const std::string& data = chunk.data();
    if (received + data.size() > expected) {
      overflow = true;  // keep draining so Finish reports the depot's status
      continue;
    }
    std::memcpy(static_cast<char*>(out) + received, data.data(), data.size());
    received += data.size();
    if (landed) landed(data.size());
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Error(status, absl::StrCat("ReadRange '", dataset, "'"));
  if (overflow || received != expected) {
    return absl::DataLossError(absl::StrCat("depot ", address_, ": ReadRange '", dataset,
                                            "' returned ", overflow ? "more" : "fewer",
                                            " bytes than the ", expected, " selected"));
  }
  return absl::OkStatus();
}

void DepotClient::UseDataChannel(bool use) {
  std::lock_guard<std::mutex> lock(data_mu_);
  data_enabled_ = use;
}

DataChannelClient* DepotClient::DataChannel(bool retry_info) {
  std::lock_guard<std::mutex> lock(data_mu_);
  if (!data_enabled_) return nullptr;
  if (!data_known_) {
    // A put's attempt learns the port with one short probe: a depot that does not answer is
    // then tried over gRPC at once, and the put's own retries (not this) ride out a restart.
    absl::StatusOr<depot::v1::DepotInfo> info = retry_info ? Info() : Probe(kPutProbe);
    if (!info.ok()) return nullptr;  // asked again next time; the gRPC call says what is wrong
    data_known_ = true;
    const size_t colon = address_.rfind(':');
    std::string host = colon == std::string::npos ? address_ : address_.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (info->data_port() > 0 && info->data_port() < 65536) {
      data_ = std::make_unique<DataChannelClient>(host, info->data_port(), rpc_timeout_);
    }
  }
  return data_.get();
}

absl::StatusOr<std::string> DepotClient::OpenLocalOnce(const std::string& read_cap) {
  depot::v1::OpenLocalRequest request;
  request.set_read_cap(read_cap);
  depot::v1::OpenLocalResponse response;
  grpc::Status status = stub_->OpenLocal(NewContext().get(), request, &response);
  if (!status.ok()) return Error(status, "OpenLocal");
  return response.path();
}

absl::StatusOr<std::string> DepotClient::GetAllOnce(const std::string& read_cap) {
  SRS_ASSIGN_OR_RETURN(PieceInfo info, Stat(read_cap));
  depot::v1::GetRequest request;
  request.set_read_cap(read_cap);
  std::string bytes;
  std::optional<uint64_t> digest;  // hashed on the way in (data channel)
  if (DataChannelClient* channel = DataChannel()) {
    const size_t size = static_cast<size_t>(info.size_bytes());
    bytes.resize(size);
    size_t received = 0;
    Xxh3Hasher hasher;
    DataChannelClient::Result result = channel->Call(
        data_wire::kOpGet, request,
        [&](uint64_t n) -> char* {
          if (n > size - received) return nullptr;
          char* at = bytes.data() + received;
          received += n;
          return at;
        },
        [&](const char* slice, size_t n) { hasher.Update(slice, n); });
    if (!result.transport_failed) {
      if (!result.status.ok()) {
        return Annotate(result.status, absl::StrCat("depot ", address_, ": Get ", info.piece_id()));
      }
      bytes.resize(received);
      digest = hasher.Digest();
    } else {
      SRS_LOG(DEBUG) << result.status.message() << ": Get over gRPC instead";
    }
  }
  if (!digest.has_value()) {
    bytes.clear();
    auto context = NewContext(info.size_bytes());
    auto reader = stub_->Get(context.get(), request);
    bytes.reserve(info.size_bytes());
    depot::v1::DataChunk chunk;
    while (reader->Read(&chunk)) bytes += chunk.data();
    grpc::Status status = reader->Finish();
    if (!status.ok()) return Error(status, absl::StrCat("Get ", info.piece_id()));
    digest = Xxh3(bytes.data(), bytes.size());
  }
  // The depot verified the file before sending; this catches corruption on the way.
  if (*digest != info.xxh3_64()) {
    return absl::DataLossError(absl::StrCat("depot ", address_, ": Get ", info.piece_id(),
                                            ": received bytes do not match the piece checksum"));
  }
  return bytes;
}

absl::StatusOr<PieceInfo> DepotClient::StatOnce(const std::string& cap) {
  depot::v1::StatRequest request;
  request.set_cap(cap);
  PieceInfo info;
  grpc::Status status = stub_->Stat(NewContext().get(), request, &info);
  if (!status.ok()) return Error(status, "Stat");
  return info;
}

absl::Status DepotClient::DeleteOnce(const std::string& manage_cap) {
  depot::v1::DeleteRequest request;
  request.set_manage_cap(manage_cap);
  depot::v1::DeleteResponse response;
  grpc::Status status = stub_->Delete(NewContext().get(), request, &response);
  if (!status.ok()) return Error(status, "Delete");
  return absl::OkStatus();
}

absl::StatusOr<PutResponse> DepotClient::ReplicateOnce(const depot::v1::ReplicateRequest& request,
                                                       int64_t size_bytes) {
  PutResponse response;
  grpc::Status status = stub_->Replicate(
      NewContext(static_cast<size_t>(std::max<int64_t>(size_bytes, 0))).get(), request, &response);
  if (!status.ok()) {
    return Error(status, absl::StrCat("Replicate ", PieceKeyText(request.key()), " to depot ",
                                      request.target_depot_id(), " at ", request.target_address()));
  }
  return response;
}

absl::Status DepotClient::RenewOnce(const std::vector<std::string>& manage_caps,
                                    int64_t lease_seconds) {
  depot::v1::RenewRequest request;
  for (const std::string& cap : manage_caps) request.add_manage_caps(cap);
  request.set_lease_seconds(lease_seconds);
  depot::v1::RenewResponse response;
  grpc::Status status = stub_->Renew(NewContext().get(), request, &response);
  if (!status.ok()) return Error(status, "Renew");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PieceInfo>> DepotClient::ListJobOnce(
    const std::string& job, const depot::v1::WriteGrant& grant) {
  depot::v1::ListJobRequest request;
  request.set_job(job);
  *request.mutable_grant() = grant;
  depot::v1::ListJobResponse response;
  grpc::Status status = stub_->ListJob(NewContext().get(), request, &response);
  if (!status.ok()) return Error(status, absl::StrCat("ListJob ", job));
  return std::vector<PieceInfo>(response.pieces().begin(), response.pieces().end());
}

// ---- Retried calls (see the header): each wraps its one-attempt form ----------------------------

absl::StatusOr<PutResponse> DepotClient::PutBytes(const PieceKey& key, absl::string_view bytes,
                                                  int64_t lease_seconds,
                                                  const depot::v1::WriteGrant& grant) {
  return RetryUntilValue<PutResponse>(Deadline(bytes.size()), RetryAll(), "Put", [&](absl::Time) {
    return PutBytesOnce(key, bytes, lease_seconds, grant);
  });
}

absl::StatusOr<PutResponse> DepotClient::PutStream(const PieceKey& key, int64_t size_bytes,
                                                   int64_t lease_seconds,
                                                   const ChunkProducer& produce,
                                                   const depot::v1::WriteGrant& grant) {
  return RetryUntilValue<PutResponse>(
      Deadline(static_cast<size_t>(std::max<int64_t>(size_bytes, 0))), RetryAll(), "Put",
      [&](absl::Time) { return PutStreamOnce(key, size_bytes, lease_seconds, produce, grant); });
}

absl::StatusOr<PutResponse> DepotClient::PutLocal(
    const PieceKey& key, int64_t size_hint, int64_t lease_seconds,
    const std::function<absl::Status(const std::string& spool_path)>& write_file,
    const depot::v1::WriteGrant& grant) {
  std::optional<depot::v1::CommitLocalPutRequest> unanswered;
  return RetryUntilValue<PutResponse>(
      Deadline(std::max<int64_t>(size_hint, 0)), RetryAll(), "local put", [&](absl::Time) {
        return PutLocalOnce(
            key, size_hint, lease_seconds,
            [&](const std::string& path) -> absl::StatusOr<std::optional<FileDigest>> {
              SRS_RETURN_IF_ERROR(write_file(path));
              return std::optional<FileDigest>();
            },
            grant, &unanswered);
      });
}

absl::StatusOr<PutResponse> DepotClient::PutLocalHashed(
    const PieceKey& key, int64_t size_hint, int64_t lease_seconds,
    const std::function<absl::StatusOr<FileDigest>(const std::string& spool_path)>& write_file,
    const depot::v1::WriteGrant& grant, EarlyLocalWrite* early) {
  std::optional<depot::v1::CommitLocalPutRequest> unanswered;
  return RetryUntilValue<PutResponse>(
      Deadline(std::max<int64_t>(size_hint, 0)), RetryAll(), "local put", [&](absl::Time) {
        return PutLocalOnce(
            key, size_hint, lease_seconds,
            [&](const std::string& path) -> absl::StatusOr<std::optional<FileDigest>> {
              SRS_ASSIGN_OR_RETURN(FileDigest digest, write_file(path));
              return std::optional<FileDigest>(digest);
            },
            grant, &unanswered, early);
      });
}

absl::Status DepotClient::ReadRange(const std::string& read_cap, const std::string& dataset,
                                    ElementType wire_type,
                                    const std::vector<piece::Hyperslab>& selections, void* out,
                                    size_t out_bytes, const std::function<void(size_t)>& landed) {
  return RetryUntil(Deadline(out_bytes), RetryAll(), "ReadRange", [&](absl::Time) {
    return ReadRangeOnce(read_cap, dataset, wire_type, selections, out, out_bytes, landed);
  });
}

absl::StatusOr<std::string> DepotClient::GetAll(const std::string& read_cap) {
  return RetryUntilValue<std::string>(Deadline(), RetryAll(), "Get",
                                      [&](absl::Time) { return GetAllOnce(read_cap); });
}

absl::StatusOr<std::string> DepotClient::OpenLocal(const std::string& read_cap) {
  return RetryUntilValue<std::string>(Deadline(), RetryAll(), "OpenLocal",
                                      [&](absl::Time) { return OpenLocalOnce(read_cap); });
}

absl::StatusOr<PieceInfo> DepotClient::Stat(const std::string& cap) {
  return RetryUntilValue<PieceInfo>(Deadline(), RetryAll(), "Stat",
                                    [&](absl::Time) { return StatOnce(cap); });
}

absl::StatusOr<depot::v1::DepotInfo> DepotClient::Info() {
  return RetryUntilValue<depot::v1::DepotInfo>(Deadline(), RetryAll(), "Info",
                                               [&](absl::Time) { return InfoOnce(); });
}

absl::StatusOr<depot::v1::DepotInfo> DepotClient::Probe(absl::Duration within) {
  // One attempt, not wait-for-ready: a host that is up with no depot listening refuses at once
  // (UNAVAILABLE), a host that is gone times out at `within`; neither is retried, since the
  // caller has another copy to read.
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + std::min(within, rpc_timeout_)));
  depot::v1::DepotInfo info;
  grpc::Status status = stub_->Info(&context, depot::v1::InfoRequest(), &info);
  if (!status.ok()) return Error(status, "Info");
  return info;
}

absl::StatusOr<PutResponse> DepotClient::Replicate(const depot::v1::ReplicateRequest& request,
                                                   int64_t size_bytes) {
  return RetryUntilValue<PutResponse>(
      Deadline(static_cast<size_t>(std::max<int64_t>(size_bytes, 0))), RetryAll(), "Replicate",
      [&](absl::Time) { return ReplicateOnce(request, size_bytes); });
}

absl::Status DepotClient::Delete(const std::string& manage_cap) {
  return RetryUntil(Deadline(), RetryAll(), "Delete",
                    [&](absl::Time) { return DeleteOnce(manage_cap); });
}

absl::Status DepotClient::Renew(const std::vector<std::string>& manage_caps,
                                int64_t lease_seconds) {
  return RetryUntil(Deadline(), RetryAll(), "Renew",
                    [&](absl::Time) { return RenewOnce(manage_caps, lease_seconds); });
}

absl::StatusOr<std::vector<PieceInfo>> DepotClient::ListJob(const std::string& job,
                                                            const depot::v1::WriteGrant& grant) {
  return RetryUntilValue<std::vector<PieceInfo>>(
      Deadline(), RetryAll(), "ListJob", [&](absl::Time) { return ListJobOnce(job, grant); });
}

std::string PieceKeyText(const PieceKey& key) {
  return absl::StrCat("job=", key.job(), " epoch=", key.epoch(), " rank=", key.rank());
}

}  // namespace srs
