#include "rss/request_validation.h"

#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/datatype.h"
#include "common/status_macros.h"
#include "rss/replica_placement.h"

namespace srs {

namespace v1 = rss::v1;

namespace {

absl::Status Invalid(absl::string_view call, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(call, ": ", what));
}

absl::Status CheckLength(absl::string_view call, absl::string_view what, absl::string_view value,
                         size_t max_bytes) {
  if (value.size() <= max_bytes) return absl::OkStatus();
  return Invalid(call, absl::StrCat(what, " is ", value.size(), " bytes; at most ", max_bytes,
                                    " are allowed"));
}

absl::Status CheckNotNegative(absl::string_view call, absl::string_view what, int64_t value) {
  if (value >= 0) return absl::OkStatus();
  return Invalid(call, absl::StrCat(what, " must not be negative, got ", value));
}

absl::Status CheckSeconds(absl::string_view call, absl::string_view what, double value) {
  if (std::isfinite(value) && value >= 0) return absl::OkStatus();
  return Invalid(call, absl::StrCat(what, " must be a finite number >= 0, got ", value));
}

// An epoch a run names: epochs start at 1.
absl::Status CheckEpoch(absl::string_view call, int64_t epoch) {
  if (epoch >= 1) return absl::OkStatus();
  return Invalid(call, absl::StrCat("epoch must be >= 1, got ", epoch));
}

// A depot address ("host:port" or "auto"); empty is allowed where `allow_empty`. Never a gRPC
// target URI with a scheme (unix:/path, unix-abstract:, vsock:, dns:, ipv4:, ipv6:) or a path:
// the RSS dials these addresses itself (pins, deletions, repairs), and a run that reports a
// piece names them, so one must not make the RSS dial a local socket of its host.
absl::Status CheckAddress(absl::string_view call, absl::string_view what, absl::string_view address,
                          bool allow_empty) {
  if (address.empty() && allow_empty) return absl::OkStatus();
  SRS_RETURN_IF_ERROR(ValidateName(call, what, address, kMaxAddressBytes));
  const std::string lower = absl::AsciiStrToLower(address);
  bool uri = absl::StrContains(address, '/');
  for (absl::string_view scheme : {"unix:", "unix-abstract:", "vsock:", "dns:", "ipv4:", "ipv6:"}) {
    uri = uri || absl::StartsWith(lower, scheme);
  }
  if (uri) {
    return Invalid(call, absl::StrCat(what, " '", LogSafe(address),
                                      "' is not a network address (host:port, no scheme or path)"));
  }
  return absl::OkStatus();
}

absl::Status CheckBlockCyclic2d(absl::string_view call, const v1::ArraySpec& array,
                                int32_t nprocs) {
  const v1::Distribution& d = array.distribution();
  std::string where = absl::StrCat("array ", LogSafe(array.name()), ": block_cyclic_2d ");
  if (d.rows() < 0 || d.cols() < 0 || d.mb() < 1 || d.nb() < 1 || d.nprow() < 1 || d.npcol() < 1) {
    return Invalid(call, absl::StrCat(where, "needs rows, cols >= 0 and mb, nb, nprow, npcol >= 1",
                                      " (got mb ", d.mb(), ", nb ", d.nb(), ", grid ", d.nprow(),
                                      " x ", d.npcol(), ")"));
  }
  int64_t grid = 0;
  if (__builtin_mul_overflow(int64_t{d.nprow()}, int64_t{d.npcol()}, &grid) || grid != nprocs) {
    return Invalid(call, absl::StrCat(where, "grid ", d.nprow(), " x ", d.npcol(),
                                      " does not match the run's ", nprocs, " processes"));
  }
  if (d.rsrc() < 0 || d.rsrc() >= d.nprow() || d.csrc() < 0 || d.csrc() >= d.npcol()) {
    return Invalid(call, absl::StrCat(where, "source process (", d.rsrc(), ", ", d.csrc(),
                                      ") is outside the grid"));
  }
  int64_t elements = 0;
  if (__builtin_mul_overflow(d.rows(), d.cols(), &elements) || elements != array.global_count()) {
    return Invalid(call, absl::StrCat(where, d.rows(), " x ", d.cols(),
                                      " does not match global_count ", array.global_count()));
  }
  return absl::OkStatus();
}

absl::Status CheckDistribution(absl::string_view call, const v1::ArraySpec& array, int32_t nprocs) {
  const std::string& kind = array.distribution().kind();
  SRS_RETURN_IF_ERROR(CheckLength(call, "distribution kind", kind, kMaxTypeBytes));
  if (kind == "block_cyclic" && array.distribution().block_size() < 1) {
    return Invalid(call, absl::StrCat("array ", LogSafe(array.name()),
                                      ": block_cyclic needs block_size >= 1, got ",
                                      array.distribution().block_size()));
  }
  if (kind == "block_cyclic_2d") return CheckBlockCyclic2d(call, array, nprocs);
  return absl::OkStatus();
}

// Local counts: one per rank, each >= 0, their sum without overflow and equal to global_count.
absl::Status CheckLocalCounts(absl::string_view call, const v1::ArraySpec& array, int32_t nprocs) {
  if (array.local_counts_size() == 0) return absl::OkStatus();
  std::string where = absl::StrCat("array ", LogSafe(array.name()), ": ");
  if (array.local_counts_size() != nprocs) {
    return Invalid(call, absl::StrCat(where, array.local_counts_size(), " local counts for ",
                                      nprocs, " ranks"));
  }
  int64_t total = 0;
  for (int64_t count : array.local_counts()) {
    if (count < 0 || __builtin_add_overflow(total, count, &total)) {
      return Invalid(call, absl::StrCat(where, "a local count is negative or their sum overflows"));
    }
  }
  if (total != array.global_count()) {
    return Invalid(call, absl::StrCat(where, "local counts add up to ", total, ", global_count is ",
                                      array.global_count()));
  }
  return absl::OkStatus();
}

// The copies of a reported piece: at most kMaxCopies, each with an address and capabilities
// within bounds, no depot named twice (two copies on one depot protect nothing).
absl::Status CheckPieceCopies(absl::string_view call, const std::string& where,
                              const v1::PieceRecord& piece) {
  if (!piece.depot_id().empty()) {
    SRS_RETURN_IF_ERROR(ValidateName(call, where + "depot id", piece.depot_id()));
  }
  if (piece.copies_size() > kMaxCopies) {
    return Invalid(call, absl::StrCat(where, piece.copies_size(), " copies; at most ", kMaxCopies,
                                      " are allowed"));
  }
  std::set<std::string> ids, addresses;
  for (int i = 0; i < piece.copies_size(); ++i) {
    const v1::PieceCopy& copy = piece.copies(i);
    std::string what = absl::StrCat(where, "copy ", i, ": ");
    if (!copy.depot_id().empty()) {
      SRS_RETURN_IF_ERROR(ValidateName(call, what + "depot id", copy.depot_id()));
    }
    SRS_RETURN_IF_ERROR(CheckAddress(call, what + "depot address", copy.depot_address(), false));
    SRS_RETURN_IF_ERROR(
        CheckLength(call, what + "read capability", copy.read_cap(), kMaxCapabilityBytes));
    SRS_RETURN_IF_ERROR(
        CheckLength(call, what + "manage capability", copy.manage_cap(), kMaxCapabilityBytes));
    if (copy.read_cap().empty() || copy.manage_cap().empty()) {
      return Invalid(call, what + "needs read and manage capabilities");
    }
    SRS_RETURN_IF_ERROR(CheckLength(call, what + "state", copy.state(), kMaxTypeBytes));
    SRS_RETURN_IF_ERROR(
        CheckLength(call, what + "failure domain", copy.failure_domain(), kMaxHostBytes));
    const std::string& depot = copy.depot_id().empty() ? copy.depot_address() : copy.depot_id();
    if (!ids.insert(depot).second || !addresses.insert(copy.depot_address()).second) {
      return Invalid(call, absl::StrCat(where, "two copies on depot ", LogSafe(depot),
                                        " (copies must be on distinct depots)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string LogSafe(absl::string_view text, size_t max_bytes) {
  bool cut = text.size() > max_bytes;
  std::string out = absl::CHexEscape(text.substr(0, max_bytes));
  if (cut) absl::StrAppend(&out, "...(", text.size(), " bytes)");
  return out;
}

absl::Status ValidateName(absl::string_view call, absl::string_view what, absl::string_view name,
                          size_t max_bytes) {
  if (name.empty()) return Invalid(call, absl::StrCat(what, " is empty"));
  SRS_RETURN_IF_ERROR(CheckLength(call, what, name, max_bytes));
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      return Invalid(
          call, absl::StrCat(what, " '", LogSafe(name, 64), "' holds a control character at byte ",
                             i, " (newlines, tabs and the like are not allowed in names)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateToken(absl::string_view call, absl::string_view what,
                           absl::string_view token) {
  return CheckLength(call, what, token, kMaxTokenBytes);
}

absl::Status ValidateRegisterRun(const v1::RegisterRunRequest& req) {
  constexpr absl::string_view kCall = "RegisterRun";
  SRS_RETURN_IF_ERROR(ValidateName(kCall, "job name", req.job()));
  if (req.nprocs() < 1 || req.nprocs() > kMaxRanks) {
    return Invalid(kCall, absl::StrCat("nprocs must be in 1..", kMaxRanks, ", got ", req.nprocs()));
  }
  if (!v1::RegisterMode_IsValid(req.mode())) {
    return Invalid(kCall, absl::StrCat("unknown register mode ", static_cast<int>(req.mode()),
                                       " (AUTO = 0, FRESH = 1, RESUME = 2)"));
  }
  SRS_RETURN_IF_ERROR(CheckNotNegative(kCall, "epoch", req.epoch()));
  if (req.keep() < 0 || req.keep() > kMaxKeep) {
    return Invalid(kCall, absl::StrCat("keep must be in 0..", kMaxKeep, ", got ", req.keep()));
  }
  SRS_RETURN_IF_ERROR(ValidateToken(kCall, "admin token", req.admin_token()));
  SRS_RETURN_IF_ERROR(ValidateToken(kCall, "owner secret", req.owner_secret()));
  absl::Status redundancy = CopiesForRedundancy(req.redundancy()).status();
  if (!redundancy.ok()) return Invalid(kCall, redundancy.message());
  for (const v1::RankPlacement& rank : req.ranks()) {
    SRS_RETURN_IF_ERROR(ValidateName(kCall, absl::StrCat("host of rank ", rank.rank()), rank.host(),
                                     kMaxHostBytes));
    SRS_RETURN_IF_ERROR(
        CheckAddress(kCall, absl::StrCat("depot of rank ", rank.rank()), rank.depot(), true));
  }
  return absl::OkStatus();
}

absl::Status ValidateWatchRun(const v1::WatchRunRequest& req) {
  return ValidateToken("WatchRun", "run token", req.run_token());
}

absl::Status ValidateArraySpec(const v1::ArraySpec& array, int32_t nprocs) {
  constexpr absl::string_view kCall = "BeginCheckpoint";
  SRS_RETURN_IF_ERROR(ValidateName(kCall, "array name", array.name()));
  std::string where = absl::StrCat("array ", LogSafe(array.name()), ": ");
  SRS_RETURN_IF_ERROR(CheckLength(kCall, where + "srs_type", array.srs_type(), kMaxTypeBytes));
  absl::StatusOr<ElementType> type = ElementTypeFromName(array.srs_type());
  if (!type.ok()) {
    return Invalid(kCall, absl::StrCat(where, "unknown srs_type '", LogSafe(array.srs_type()),
                                       "' (char, int32, int64, float, double, float_complex, ",
                                       "double_complex)"));
  }
  SRS_RETURN_IF_ERROR(CheckNotNegative(kCall, where + "global_count", array.global_count()));
  int64_t bytes = 0;
  if (__builtin_mul_overflow(array.global_count(), static_cast<int64_t>(ElementSize(*type)),
                             &bytes)) {
    return Invalid(kCall, absl::StrCat(where, "global_count ", array.global_count(),
                                       " elements overflow a 64-bit byte size"));
  }
  SRS_RETURN_IF_ERROR(CheckDistribution(kCall, array, nprocs));
  return CheckLocalCounts(kCall, array, nprocs);
}

absl::Status ValidateBeginCheckpoint(const v1::BeginCheckpointRequest& req, int32_t nprocs) {
  constexpr absl::string_view kCall = "BeginCheckpoint";
  SRS_RETURN_IF_ERROR(ValidateToken(kCall, "run token", req.run_token()));
  if (!v1::CheckpointReason_IsValid(req.reason())) {
    return Invalid(kCall,
                   absl::StrCat("unknown checkpoint reason ", static_cast<int>(req.reason())));
  }
  SRS_RETURN_IF_ERROR(CheckNotNegative(kCall, "request_id", req.request_id()));
  if (req.arrays_size() > kMaxArrays) {
    return Invalid(
        kCall, absl::StrCat(req.arrays_size(), " arrays; at most ", kMaxArrays, " are allowed"));
  }
  for (const v1::ArraySpec& array : req.arrays()) {
    SRS_RETURN_IF_ERROR(ValidateArraySpec(array, nprocs));
  }
  return absl::OkStatus();
}

namespace {

// The pieces of a ReportPieces or a CommitCheckpoint.
absl::Status CheckPieces(absl::string_view kCall,
                         const google::protobuf::RepeatedPtrField<v1::PieceRecord>& pieces) {
  if (pieces.size() > kMaxRanks) {
    return Invalid(kCall, absl::StrCat(pieces.size(), " pieces; at most ", kMaxRanks));
  }
  for (const v1::PieceRecord& piece : pieces) {
    std::string where = absl::StrCat("piece of rank ", piece.rank(), ": ");
    SRS_RETURN_IF_ERROR(CheckAddress(kCall, where + "depot address", piece.depot_address(), true));
    SRS_RETURN_IF_ERROR(
        CheckLength(kCall, where + "read capability", piece.read_cap(), kMaxCapabilityBytes));
    SRS_RETURN_IF_ERROR(
        CheckLength(kCall, where + "manage capability", piece.manage_cap(), kMaxCapabilityBytes));
    SRS_RETURN_IF_ERROR(CheckNotNegative(kCall, where + "size_bytes", piece.size_bytes()));
    SRS_RETURN_IF_ERROR(CheckPieceCopies(kCall, where, piece));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateReportPieces(const v1::ReportPiecesRequest& req) {
  constexpr absl::string_view kCall = "ReportPieces";
  SRS_RETURN_IF_ERROR(ValidateToken(kCall, "run token", req.run_token()));
  SRS_RETURN_IF_ERROR(CheckEpoch(kCall, req.epoch()));
  return CheckPieces(kCall, req.pieces());
}

absl::Status ValidateReportProgress(const v1::ReportProgressRequest& req) {
  constexpr absl::string_view kCall = "ReportProgress";
  SRS_RETURN_IF_ERROR(ValidateToken(kCall, "run token", req.run_token()));
  SRS_RETURN_IF_ERROR(CheckEpoch(kCall, req.epoch()));
  SRS_RETURN_IF_ERROR(CheckNotNegative(kCall, "done_bytes", req.done_bytes()));
  SRS_RETURN_IF_ERROR(CheckNotNegative(kCall, "total_bytes", req.total_bytes()));
  if (req.total_bytes() > kMaxProgressBytes) {
    return Invalid(kCall, absl::StrCat("total_bytes is ", req.total_bytes(), "; at most ",
                                       kMaxProgressBytes, " are allowed"));
  }
  if (req.done_bytes() > req.total_bytes()) {
    return Invalid(kCall, absl::StrCat("done_bytes ", req.done_bytes(), " exceeds total_bytes ",
                                       req.total_bytes()));
  }
  return absl::OkStatus();
}

absl::Status ValidateCommitCheckpoint(const v1::CommitCheckpointRequest& req) {
  constexpr absl::string_view kCall = "CommitCheckpoint";
  SRS_RETURN_IF_ERROR(ValidateToken(kCall, "run token", req.run_token()));
  SRS_RETURN_IF_ERROR(CheckEpoch(kCall, req.epoch()));
  SRS_RETURN_IF_ERROR(CheckSeconds(kCall, "write_seconds", req.timings().write_seconds()));
  SRS_RETURN_IF_ERROR(CheckSeconds(kCall, "commit_seconds", req.timings().commit_seconds()));
  SRS_RETURN_IF_ERROR(CheckNotNegative(kCall, "bytes", req.timings().bytes()));
  return CheckPieces(kCall, req.pieces());
}

absl::Status ValidateAbortCheckpoint(const v1::AbortCheckpointRequest& req) {
  constexpr absl::string_view kCall = "AbortCheckpoint";
  SRS_RETURN_IF_ERROR(ValidateToken(kCall, "run token", req.run_token()));
  SRS_RETURN_IF_ERROR(CheckEpoch(kCall, req.epoch()));
  return CheckLength(kCall, "reason", req.reason(), kMaxReasonBytes);
}

absl::Status ValidateReportRestart(const v1::ReportRestartRequest& req) {
  constexpr absl::string_view kCall = "ReportRestart";
  SRS_RETURN_IF_ERROR(ValidateToken(kCall, "run token", req.run_token()));
  SRS_RETURN_IF_ERROR(CheckSeconds(kCall, "read_seconds", req.read_seconds()));
  return CheckNotNegative(kCall, "bytes", req.bytes());
}

absl::Status ValidateFinishRun(const v1::FinishRunRequest& req) {
  return ValidateToken("FinishRun", "run token", req.run_token());
}

absl::Status ValidateRegisterDepot(const v1::RegisterDepotRequest& req) {
  constexpr absl::string_view kCall = "RegisterDepot";
  if (!req.depot_id().empty()) {
    SRS_RETURN_IF_ERROR(ValidateName(kCall, "depot id", req.depot_id()));
  }
  SRS_RETURN_IF_ERROR(ValidateName(kCall, "host", req.host(), kMaxHostBytes));
  SRS_RETURN_IF_ERROR(CheckAddress(kCall, "address", req.address(), false));
  if (!req.failure_domain().empty()) {
    SRS_RETURN_IF_ERROR(ValidateName(kCall, "failure domain", req.failure_domain(), kMaxHostBytes));
  }
  if (req.heartbeat_seconds() < 0 || req.heartbeat_seconds() > kMaxHeartbeatSeconds) {
    return Invalid(kCall, absl::StrCat("heartbeat_seconds must be in 0..", kMaxHeartbeatSeconds,
                                       ", got ", req.heartbeat_seconds()));
  }
  if (!req.identity_key().empty()) {
    SRS_RETURN_IF_ERROR(ValidateToken(kCall, "identity key", req.identity_key()));
  }
  SRS_RETURN_IF_ERROR(CheckNotNegative(kCall, "capacity_bytes", req.capacity_bytes()));
  return CheckNotNegative(kCall, "free_bytes", req.free_bytes());
}

absl::Status ValidateJobQuery(absl::string_view call, absl::string_view job,
                              absl::string_view admin_token, absl::string_view owner_secret) {
  SRS_RETURN_IF_ERROR(ValidateName(call, "job name", job));
  SRS_RETURN_IF_ERROR(ValidateToken(call, "admin token", admin_token));
  return ValidateToken(call, "owner secret", owner_secret);
}

absl::Status ValidateRepairJob(const rss::v1::RepairJobRequest& req) {
  return ValidateJobQuery("RepairJob", req.job(), req.admin_token(), req.owner_secret());
}

absl::Status ValidateDropCheckpoint(const rss::v1::DropCheckpointRequest& req) {
  SRS_RETURN_IF_ERROR(
      ValidateJobQuery("DropCheckpoint", req.job(), req.admin_token(), req.owner_secret()));
  if (req.epoch() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DropCheckpoint: epoch must be >= 1 (srs ls JOB lists them), got ", req.epoch()));
  }
  return absl::OkStatus();
}

absl::Status ValidateAdminQuery(absl::string_view call, absl::string_view admin_token) {
  return ValidateToken(call, "admin token", admin_token);
}

}  // namespace srs
