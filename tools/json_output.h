// The --json views of what the RSS says (tools/cli_json.proto), and their printing with
// protobuf's JSON printer: one JSON object on one line, every field present (zeros and empty
// strings included), field names exactly as in the .proto.
#ifndef SRS_TOOLS_JSON_OUTPUT_H_
#define SRS_TOOLS_JSON_OUTPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "srs/rss/v1/rss.grpc.pb.h"
#include "tools/cli_json.pb.h"

namespace srs::tools {

namespace rssv1 = ::srs::rss::v1;
namespace cliv1 = ::srs::cli::v1;

cliv1::JobStatus JobStatusJson(const rssv1::JobSummary& job);
// The checkpoints of `job` (all of them if `all`, else committed and pending ones).
cliv1::LsOutput LsJson(const std::string& job, const rssv1::GetJobResponse& info, bool all);
cliv1::HistoryOutput HistoryJson(const std::string& job, const rssv1::GetJobResponse& info);
// `now` decides up/down: a depot re-registers every few seconds while it runs.
cliv1::DepotsOutput DepotsJson(const rssv1::ListDepotsResponse& depots, absl::Time now);

// "2026-11-30T13:40:00Z"; "" for 0 (never).
std::string IsoTime(int64_t unix_ms);

// One line of JSON (no trailing newline); INTERNAL if protobuf cannot print it.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);
// Prints ToJson(message) and a newline on stdout; the exit code (Fail("srs CMD: ...") if it
// cannot be printed).
int PrintJson(const std::string& command, const google::protobuf::Message& message);

}  // namespace srs::tools

#endif  // SRS_TOOLS_JSON_OUTPUT_H_
