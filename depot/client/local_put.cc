// DepotClient::PutLocalOnce: one same-host put, the piece written into the depot's spool by this
// process; and StartEarlyLocalWrite, the same write started before the put can begin.
//
// The depot's answer to BeginLocalPut (the spool path and a put id) costs a round trip, ~1 ms on
// a loaded node, which the writer used to wait for before writing a byte. Once the client knows
// the depot's spool directory (from an earlier put), it asks for the ticket on another thread
// while it writes the piece into that directory under a name of its own, then renames the file
// to the ticket's path (same directory: atomic, no copy) and commits as before. A piece started
// early (early_local_write.h) is written the same way, only sooner. The depot removes such
// files if the writer dies before the rename: all of spool/ at its start, and stray files an
// hour old while it runs (depot/piece_store.h, Sweep).
#include <grpcpp/grpcpp.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "depot/client/data_wire.h"
#include "depot/client/depot_client.h"

namespace srs {

using depot::v1::PieceKey;
using depot::v1::PutResponse;

namespace {

std::string DirOf(const std::string& path) { return path.substr(0, path.find_last_of('/')); }

// The library's write into the depot's spool failed (`written`), or is about to be tried
// (`written` OK). HDF5 reports a full disk as a generic write error, so look at the file system:
// if the piece cannot fit, say so (RESOURCE_EXHAUSTED, one line naming the depot and the free
// space) instead of passing on an internal HDF5 error. Otherwise `written`, annotated.
absl::Status SpoolWriteError(const absl::Status& written, const std::string& spool_path,
                             int64_t size_hint, const std::string& context) {
  std::string dir = DirOf(spool_path) + "/";
  struct statvfs fs;
  if (dir.size() > 1 && statvfs(dir.c_str(), &fs) == 0) {
    int64_t free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    if (free_bytes < size_hint) {
      return absl::ResourceExhaustedError(
          absl::StrCat(context, ": no space left on the depot's disk: ", free_bytes,
                       " bytes free in ", dir, ", the piece needs about ", size_hint));
    }
  }
  if (written.ok()) return written;
  return Annotate(written, absl::StrCat(context, " to ", spool_path));
}

// `write(path)` into the depot's spool, with SpoolWriteError's free-space check before it and
// its reading of a failure after it. Result: absl::StatusOr<FileDigest> or of an optional one.
template <typename Result, typename Write>
Result CheckedSpoolWrite(const std::string& path, int64_t size_hint, const std::string& context,
                         const Write& write) {
  SRS_RETURN_IF_ERROR(SpoolWriteError(absl::OkStatus(), path, size_hint, context));
  Result result = write(path);
  if (!result.ok()) return SpoolWriteError(result.status(), path, size_hint, context);
  return result;
}

// A name of the client's own in the spool directory `dir`.
std::string OwnSpoolPath(const std::string& dir) {
  return absl::StrCat(dir, "/", RandomHex(16), ".writing");
}

}  // namespace

std::unique_ptr<EarlyLocalWrite> DepotClient::StartEarlyLocalWrite(
    const PieceKey& key, int64_t size_hint, EarlyLocalWrite::Writer write_file) {
  std::string dir;
  {
    absl::MutexLock lock(&spool_mu_);
    dir = spool_dir_;
  }
  if (dir.empty()) return nullptr;
  const std::string what =
      absl::StrCat("depot ", address_, ": local put ", PieceKeyText(key), " (written early)");
  return std::make_unique<EarlyLocalWrite>(
      OwnSpoolPath(dir),
      [size_hint, what, write_file = std::move(write_file)](const std::string& path) {
        return CheckedSpoolWrite<absl::StatusOr<FileDigest>>(path, size_hint, what, write_file);
      });
}

template <typename Request, typename Response>
std::optional<grpc::Status> DepotClient::LocalPutOverChannel(uint32_t op, const Request& request,
                                                             int64_t stream_bytes,
                                                             Response* response) {
  DataChannelClient* channel = DataChannel(/*retry_info=*/false);
  if (channel == nullptr) return std::nullopt;
  std::string answer;
  DataChannelClient::Result result = channel->Call(
      op, request,
      [&answer](uint64_t n) -> char* {
        // The gRPC answer's limit: a PutResponse lists every dataset of the piece.
        if (!answer.empty() || n > static_cast<uint64_t>(kMaxAnswerBytes)) return nullptr;
        answer.resize(static_cast<size_t>(n));
        return answer.data();
      },
      nullptr, CallTimeout(static_cast<size_t>(std::max<int64_t>(0, stream_bytes))));
  // The connection failed: the same request goes over gRPC. Asking again is safe even if the
  // depot acted on the first and only its answer was lost (local_put_calls.h): a new
  // BeginLocalPut replaces the ticket whose answer never arrived, and a commit with its digest
  // is answered from the committed piece. And it must be asked: a depot whose channel is full
  // closes new connections at once, after the request may already have been sent.
  if (result.transport_failed) return std::nullopt;
  if (result.status.ok() && !response->ParseFromString(answer)) {
    return grpc::Status(grpc::StatusCode::DATA_LOSS, "malformed answer on the data channel");
  }
  return ToGrpcStatus(result.status);
}

grpc::Status DepotClient::BeginLocalPutCall(const depot::v1::BeginLocalPutRequest& request,
                                            depot::v1::BeginLocalPutResponse* response) {
  std::optional<grpc::Status> answered =
      LocalPutOverChannel(data_wire::kOpBeginLocalPut, request, 0, response);
  if (answered.has_value()) return *answered;
  return stub_->BeginLocalPut(NewContext().get(), request, response);
}

grpc::Status DepotClient::CommitLocalPutCall(const depot::v1::CommitLocalPutRequest& request,
                                             int64_t size_hint, PutResponse* response) {
  // The depot fsyncs (and without a digest verifies) the file before adopting it: give it the
  // time a stream of its size would get, on either transport.
  std::optional<grpc::Status> answered =
      LocalPutOverChannel(data_wire::kOpCommitLocalPut, request, size_hint, response);
  if (answered.has_value()) return *answered;
  return stub_->CommitLocalPut(NewContext(std::max<int64_t>(size_hint, 0)).get(), request,
                               response);
}

absl::StatusOr<PutResponse> DepotClient::PutLocalOnce(
    const PieceKey& key, int64_t size_hint, int64_t lease_seconds,
    const std::function<absl::StatusOr<std::optional<FileDigest>>(const std::string& spool_path)>&
        write_file,
    const depot::v1::WriteGrant& grant, std::optional<depot::v1::CommitLocalPutRequest>* unanswered,
    EarlyLocalWrite* early) {
  if (unanswered->has_value()) {
    PutResponse response;
    grpc::Status status = CommitLocalPutCall(**unanswered, size_hint, &response);
    if (status.ok()) return response;
    absl::Status failed = Error(status, absl::StrCat("CommitLocalPut (again) ", PieceKeyText(key)));
    if (!absl::IsNotFound(failed)) return failed;  // UNAVAILABLE: asked again next attempt
    unanswered->reset();                           // lost with a depot restart: a new put below
  }
  depot::v1::BeginLocalPutRequest begin;
  *begin.mutable_header()->mutable_grant() = grant;
  *begin.mutable_header()->mutable_key() = key;
  begin.mutable_header()->set_size_hint(size_hint);
  begin.mutable_header()->set_lease_seconds(lease_seconds);
  depot::v1::BeginLocalPutResponse spool;
  auto ask_for_ticket = [&]() { return BeginLocalPutCall(begin, &spool); };
  const std::string what = absl::StrCat("depot ", address_, ": local put ", PieceKeyText(key));
  // A disk that visibly cannot hold the piece fails before HDF5 runs out of space in the middle
  // of the file.
  auto write_at = [&](const std::string& path) {
    return CheckedSpoolWrite<absl::StatusOr<std::optional<FileDigest>>>(path, size_hint, what,
                                                                        write_file);
  };

  std::string known_dir;
  {
    absl::MutexLock lock(&spool_mu_);
    known_dir = spool_dir_;
  }
  absl::StatusOr<std::optional<FileDigest>> written;
  grpc::Status status;
  if (known_dir.empty() && (early == nullptr || !early->available())) {
    // The first local put to this depot: ticket first, then the write.
    status = ask_for_ticket();
    if (status.ok()) written = write_at(spool.spool_path());
  } else {
    std::string own_path;
    if (early != nullptr && early->available()) {  // being written already: ask, then adopt it
      status = ask_for_ticket();
      own_path = early->path();
      absl::StatusOr<FileDigest> digest = early->Take();
      written = digest.ok() ? absl::StatusOr<std::optional<FileDigest>>(*digest) : digest.status();
    } else {
      std::future<grpc::Status> ticket = std::async(std::launch::async, ask_for_ticket);
      own_path = OwnSpoolPath(known_dir);
      written = write_at(own_path);
      status = ticket.get();
    }
    const bool moved = status.ok() && written.ok() &&
                       DirOf(spool.spool_path()) == DirOf(own_path) &&
                       rename(own_path.c_str(), spool.spool_path().c_str()) == 0;
    unlink(own_path.c_str());  // a no-op once renamed
    if (status.ok() && written.ok() && !moved) {
      // The depot moved its spool, or the file is not there (a depot restart swept it, or the
      // writer wrote nothing): written again at the ticket's own path, as for a first put (the
      // depot's commit then refuses a file that is still missing).
      written = write_at(spool.spool_path());
    }
  }
  if (!status.ok()) return Error(status, absl::StrCat("BeginLocalPut ", PieceKeyText(key)));
  {
    absl::MutexLock lock(&spool_mu_);
    spool_dir_ = DirOf(spool.spool_path());
  }

  absl::Status failed = written.status();
  if (written.ok()) {
    depot::v1::CommitLocalPutRequest commit;
    commit.set_put_id(spool.put_id());
    *commit.mutable_grant() = grant;
    if (written->has_value()) {  // hashed on the way: the depot checks metadata only
      commit.set_xxh3_64((*written)->xxh3);
      commit.set_size_bytes((*written)->size);
    }
    PutResponse response;
    status = CommitLocalPutCall(commit, size_hint, &response);
    if (status.ok()) return response;
    failed = Error(status, absl::StrCat("CommitLocalPut ", PieceKeyText(key)));
    const bool unknown_outcome = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                                 status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (unknown_outcome && commit.has_xxh3_64()) {
      // The commit may have gone through: no abort; the next attempt asks again.
      *unanswered = commit;
      return failed;
    }
  }
  // Best effort: the depot also reclaims abandoned spool files at restart.
  depot::v1::AbortLocalPutRequest abort;
  abort.set_put_id(spool.put_id());
  depot::v1::AbortLocalPutResponse aborted;
  stub_->AbortLocalPut(NewContext().get(), abort, &aborted);
  return LostPutIsRetryable(failed);
}

}  // namespace srs
