// Limits and validation of every srs.rss.v1 request, applied by the service layer before the
// state sees a request. Nothing here knows the RSS's state: a check that needs it (the run's
// process count) takes it as an argument.
//
// Every refusal is INVALID_ARGUMENT and names the call, the field and the limit, e.g.
//   "RegisterRun: job name is 300 bytes; at most 255 are allowed"
// Names that end up in log lines (jobs, arrays, hosts, depots) may not hold control characters,
// so no request can forge a log line; free text (an abort reason) is escaped with LogSafe.
//
// The receive-message limit of srs-rss (kMaxRssMessageBytes) is sized to the largest legitimate
// message, a job of 100 000 ranks with every string field at its limit below:
//   RegisterRun:   per rank  rank 4 + host 2+255 + depot 2+270 + framing 4   =  537 B -> 53.7 MB
//   ReportPieces:  per piece rank 4 + depot 2+270 + 2 caps 2*(2+128)
//                            + size 11 + xxh3 11 + framing 4                  =  562 B -> 56.2 MB
//                  (with copies, each copy adds about id 2+255 + address 2+270 + caps 2*(2+128)
//                  + framing 3 = 792 B at the limits: a client with redundancy reports in
//                  batches that fit 64 MiB)
//   BeginCheckpoint: per array and rank at most 10 B of local count, i.e. 1 MB per array at
//                  100 000 ranks: ~60 arrays of per-rank data; realistic counts (< 2^35) take 5 B.
// Both fit in 64 MiB (67.1 MB); tests/security/rss_request_validation_test.cc builds them.
// With redundancy a piece also lists up to 8 copies (~560 B each): the library then reports its
// pieces in requests of at most 16 MiB (libsrs/src/checkpoint_writer.cc), never one of them all.
#ifndef SRS_RSS_REQUEST_VALIDATION_H_
#define SRS_RSS_REQUEST_VALIDATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rss/replica_placement.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {

inline constexpr int kMaxRssMessageBytes = 64 << 20;
// Memory the gRPC transports of srs-rss may use for buffers, over all connections.
inline constexpr size_t kRssMemoryQuotaBytes = size_t{512} << 20;
inline constexpr size_t kMaxNameBytes = 255;        // job, array and depot id
inline constexpr size_t kMaxHostBytes = 255;        // a DNS name is at most 253
inline constexpr size_t kMaxAddressBytes = 270;     // host:port, or "auto"
inline constexpr size_t kMaxTokenBytes = 128;       // admin token, run token, owner secret
inline constexpr size_t kMaxCapabilityBytes = 128;  // depot read/manage capabilities
inline constexpr size_t kMaxTypeBytes = 32;         // srs_type, distribution kind
inline constexpr size_t kMaxReasonBytes = 4096;     // AbortCheckpoint reason
inline constexpr int32_t kMaxRanks = 1 << 20;
inline constexpr int kMaxArrays = 4096;
inline constexpr int32_t kMaxKeep = 1000;
// kMaxCopies (copies of one piece, replicas:8) comes from rss/replica_placement.h.
inline constexpr int32_t kMaxHeartbeatSeconds = 3600;
inline constexpr int64_t kMaxProgressBytes = int64_t{1} << 60;  // ReportProgress totals (1 EiB)

// Escapes control characters, quotes and non-ASCII bytes (C escapes) and cuts after `max_bytes`
// input bytes, for text a client sent that goes into a log line.
std::string LogSafe(absl::string_view text, size_t max_bytes = 256);

// A name (job, array, depot id, host): non-empty, at most `max_bytes`, no control characters
// (bytes < 0x20 and 0x7f). `call` and `what` phrase the error ("RegisterRun", "job name").
absl::Status ValidateName(absl::string_view call, absl::string_view what, absl::string_view name,
                          size_t max_bytes = kMaxNameBytes);
// A token or secret field: at most kMaxTokenBytes (empty is allowed; the caller decides).
absl::Status ValidateToken(absl::string_view call, absl::string_view what, absl::string_view token);

absl::Status ValidateRegisterRun(const rss::v1::RegisterRunRequest& req);
absl::Status ValidateWatchRun(const rss::v1::WatchRunRequest& req);
// `nprocs`: the process count of the run whose token the request carries; distributions are
// checked against it (a 2-D grid must have nprow * npcol == nprocs).
absl::Status ValidateBeginCheckpoint(const rss::v1::BeginCheckpointRequest& req, int32_t nprocs);
// One array of a checkpoint: name, srs_type (common/datatype), counts >= 0 whose sum and byte
// size do not overflow, distribution parameters consistent with `nprocs`.
absl::Status ValidateArraySpec(const rss::v1::ArraySpec& array, int32_t nprocs);
absl::Status ValidateReportPieces(const rss::v1::ReportPiecesRequest& req);
// A progress report: epoch >= 1, 0 <= done_bytes <= total_bytes <= kMaxProgressBytes.
absl::Status ValidateReportProgress(const rss::v1::ReportProgressRequest& req);
absl::Status ValidateCommitCheckpoint(const rss::v1::CommitCheckpointRequest& req);
absl::Status ValidateAbortCheckpoint(const rss::v1::AbortCheckpointRequest& req);
absl::Status ValidateReportRestart(const rss::v1::ReportRestartRequest& req);
absl::Status ValidateFinishRun(const rss::v1::FinishRunRequest& req);
absl::Status ValidateRegisterDepot(const rss::v1::RegisterDepotRequest& req);
// The tool calls: a job name (RequestStop, RequestCheckpoint, GetJob) and credentials.
absl::Status ValidateJobQuery(absl::string_view call, absl::string_view job,
                              absl::string_view admin_token, absl::string_view owner_secret);
// RepairJob and DropCheckpoint (epoch >= 1): a job name and credentials, like ValidateJobQuery.
absl::Status ValidateRepairJob(const rss::v1::RepairJobRequest& req);
absl::Status ValidateDropCheckpoint(const rss::v1::DropCheckpointRequest& req);
absl::Status ValidateAdminQuery(absl::string_view call, absl::string_view admin_token);

}  // namespace srs

#endif  // SRS_RSS_REQUEST_VALIDATION_H_
