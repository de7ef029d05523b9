#include "tools/failure_view.h"

#include "absl/strings/str_cat.h"

namespace srs::tools {
namespace {

absl::StatusCode CodeNamed(const std::string& name) {
  for (int code = 1; code <= 16; ++code) {
    auto status_code = static_cast<absl::StatusCode>(code);
    if (absl::StatusCodeToString(status_code) == name) return status_code;
  }
  return absl::StatusCode::kAborted;
}

}  // namespace

std::string FailureText(const rssv1::RunFailure& failure) {
  if (failure.code().empty() && failure.message().empty()) return "-";
  return absl::StrCat("rank ", failure.rank(), ", ", failure.call(), ": ", failure.code(), ": ",
                      failure.message());
}

const rssv1::CheckpointSummary* FailedStopOf(const rssv1::GetJobResponse& job,
                                             const std::string& run_id) {
  const rssv1::CheckpointSummary* newest = nullptr;
  for (const rssv1::CheckpointSummary& checkpoint : job.checkpoints()) {
    if (checkpoint.run_id() != run_id) continue;
    if (newest == nullptr || checkpoint.epoch() > newest->epoch()) newest = &checkpoint;
  }
  if (newest == nullptr || newest->reason() != rssv1::REASON_STOP ||
      newest->state() != "discarded" || newest->failure().empty()) {
    return nullptr;
  }
  return newest;
}

absl::Status StopFailure(const rssv1::GetJobResponse& job, const rssv1::Configuration& run) {
  const rssv1::CheckpointSummary* failed = FailedStopOf(job, run.run_id());
  if (failed == nullptr) return absl::OkStatus();
  absl::StatusCode code =
      run.has_failure() ? CodeNamed(run.failure().code()) : absl::StatusCode::kAborted;
  return absl::Status(code, absl::StrCat(job.summary().job(), ": the stop checkpoint (epoch ",
                                         failed->epoch(), ") failed: ", failed->failure(),
                                         "; the previous checkpoint stays the restart point"));
}

}  // namespace srs::tools
