#include "depot/replicator.h"

#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace srs {
namespace depot {
namespace {

// The target's address and id end up in log lines and error messages: bounded, printable.
bool Printable(absl::string_view text, size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes) return false;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// A target is a plain network address, "host:port" or "[v6]:port", never a gRPC target URI
// ("unix:/run/x.sock", "unix-abstract:...", "dns:...", "ipv4:..."): whoever holds a piece's
// manage capability and its write grant names the target, and must not make this depot dial
// a local socket of its host.
bool NetworkAddress(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  absl::string_view host = address.substr(0, colon), port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  int number = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    number = number * 10 + (c - '0');
  }
  if (number < 1 || number > 65535) return false;
  if (host.front() == '[') {  // an IPv6 literal
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return false;
    }
    return true;
  }
  for (char c : host) {  // a host name or an IPv4 literal
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

bool SameKey(const v1::PieceKey& a, const v1::PieceKey& b) {
  return a.job() == b.job() && a.epoch() == b.epoch() && a.rank() == b.rank();
}

std::string KeyText(const v1::PieceKey& key) {
  return absl::StrCat("job ", key.job(), " epoch ", key.epoch(), " rank ", key.rank());
}

}  // namespace

absl::StatusOr<std::unique_ptr<DepotClient>> Replicator::Target(const std::string& address,
                                                                absl::Duration timeout) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = options_.credentials;
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  return DepotClient::Connect(address, timeout, credentials);
}

absl::StatusOr<v1::PutResponse> Replicator::Replicate(const v1::ReplicateRequest& request,
                                                      absl::Time deadline) {
  SRS_ASSIGN_OR_RETURN(PieceRecord record,
                       store_->LookupManaged(request.manage_cap(), "Replicate"));
  const std::string& piece = record.info.piece_id();
  if (!SameKey(request.key(), record.info.key())) {
    return absl::InvalidArgumentError(absl::StrCat("Replicate: piece ", piece, " is ",
                                                   KeyText(record.info.key()), ", not ",
                                                   KeyText(request.key())));
  }
  SRS_RETURN_IF_ERROR(grants_->CheckWrite(request.grant(), request.key(), "Replicate"));
  if (!Printable(request.target_address(), 270) || !Printable(request.target_depot_id(), 255) ||
      !NetworkAddress(request.target_address())) {
    return absl::InvalidArgumentError(
        "Replicate: give the target depot's address (host:port or [v6]:port, at most 270 bytes, "
        "no scheme such as unix:) and id (at most 255 bytes), without control characters");
  }
  if (request.target_depot_id() == options_.self_depot_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("Replicate: the target is this depot (", options_.self_depot_id,
                     "): a copy on the same depot is no redundancy"));
  }
  {
    // One replicate per piece at a time: a second one (a retry) waits for the first.
    absl::MutexLock lock(&mu_);
    auto free = [this, &piece]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return busy_.count(piece) == 0; };
    mu_.Await(absl::Condition(&free));
    busy_.insert(piece);
  }
  absl::StatusOr<v1::PutResponse> copied = Copy(record, request, deadline);
  {
    absl::MutexLock lock(&mu_);
    busy_.erase(piece);
  }
  if (copied.ok()) {
    SRS_LOG(INFO)
            .Field("piece", piece)
            .Field("target", request.target_address())
            .Field("target_id", request.target_depot_id())
            .Field("bytes", static_cast<long long>(record.info.size_bytes()))
        << "piece replicated";
  } else {
    SRS_LOG(WARNING).Field("piece", piece).Field("target", request.target_address())
        << "replicate failed: " << copied.status();
  }
  return copied;
}

absl::StatusOr<v1::DepotInfo> Replicator::ProbeTarget(DepotClient& target,
                                                      const v1::ReplicateRequest& request,
                                                      absl::Time deadline) {
  // Short probes for a short while: a target restarting within options_.target_wait is waited
  // for; one that stays silent is FAILED_PRECONDITION, which the writer does not retry (it would
  // retry UNAVAILABLE for its whole RPC budget, twice over with this depot's own wait), so a
  // checkpoint whose copy cannot be made fails in seconds and names the target.
  const absl::Time give_up = std::min(deadline, absl::Now() + options_.target_wait);
  absl::Status last;
  do {
    const absl::Duration within =
        std::clamp(give_up - absl::Now(), absl::Milliseconds(100), absl::Seconds(2));
    absl::StatusOr<v1::DepotInfo> info = target.Probe(within);
    if (info.ok()) return info;
    last = info.status();
    if (!absl::IsUnavailable(last) && !absl::IsDeadlineExceeded(last)) return last;
    absl::SleepFor(std::min(absl::Milliseconds(250), give_up - absl::Now()));
  } while (absl::Now() < give_up);
  return absl::FailedPreconditionError(absl::StrCat(
      "Replicate: the target depot ", request.target_depot_id(), " at ", request.target_address(),
      " did not answer for ", absl::FormatDuration(options_.target_wait), " (", last.message(),
      "); the copy was not made"));
}

absl::StatusOr<v1::PutResponse> Replicator::Copy(const PieceRecord& record,
                                                 const v1::ReplicateRequest& request,
                                                 absl::Time deadline) {
  const std::string& address = request.target_address();
  // The put's own deadline adds 1 s per 64 MiB to this (DepotClient), as the caller's did.
  const absl::Duration left =
      std::clamp(deadline - absl::Now(), absl::Seconds(1), options_.rpc_timeout);
  SRS_ASSIGN_OR_RETURN(std::unique_ptr<DepotClient> target, Target(address, left));
  SRS_ASSIGN_OR_RETURN(v1::DepotInfo info, ProbeTarget(*target, request, deadline));
  if (info.depot_id() != request.target_depot_id()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Replicate: the depot at ", address, " is ", info.depot_id().empty() ? "unnamed" : "",
        info.depot_id(), ", not ", request.target_depot_id(),
        " (a stale address: ask the RSS for the depot's current one)"));
  }
  const std::string& read_cap = record.read_cap;
  SRS_ASSIGN_OR_RETURN(v1::PutResponse put,
                       target->PutStream(
                           request.key(), record.info.size_bytes(), 0,
                           [this, &read_cap](const DepotClient::ChunkSend& send) {
                             // Checked against the piece's checksum on the way: a corrupt local
                             // piece is DATA_LOSS before the put's trailer, so it never lands on
                             // the target.
                             return store_->CopyOut(read_cap, [&send](absl::string_view bytes) {
                               return send(bytes);
                             });
                           },
                           request.grant()));
  if (put.info().size_bytes() != record.info.size_bytes() ||
      put.info().xxh3_64() != record.info.xxh3_64()) {
    absl::Status dropped = target->Delete(put.caps().manage());
    return absl::DataLossError(absl::StrCat(
        "Replicate: the copy of piece ", record.info.piece_id(), " on depot ", address, " has ",
        put.info().size_bytes(), " bytes and XXH3 ", put.info().xxh3_64(), ", the piece has ",
        record.info.size_bytes(), " and ", record.info.xxh3_64(),
        dropped.ok() ? "; the bad copy was deleted"
                     : absl::StrCat("; deleting the bad copy failed: ", dropped.message())));
  }
  return put;
}

}  // namespace depot
}  // namespace srs
