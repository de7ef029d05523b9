// How a job failed, as the RSS recorded it: a rank's fatal error (RunFailure, sent by the library
// before the job aborts) and a stop checkpoint that could not be written (the reason kept with
// the discarded checkpoint). Used by `srs status`, `srs history` and `srs stop --wait`.
#ifndef SRS_TOOLS_FAILURE_VIEW_H_
#define SRS_TOOLS_FAILURE_VIEW_H_

#include <string>

#include "absl/status/status.h"
#include "tools/job_view.h"

namespace srs::tools {

// "rank 2, SRS_Check_Stop: RESOURCE_EXHAUSTED: depot ...", or "-" when nothing was reported.
std::string FailureText(const rssv1::RunFailure& failure);

// The newest checkpoint of `run_id` if it is a stop checkpoint that was discarded with a reason
// (the stop failed and the job has not tried again since), else nullptr.
const rssv1::CheckpointSummary* FailedStopOf(const rssv1::GetJobResponse& job,
                                             const std::string& run_id);

// OK unless `run`'s stop failed (FailedStopOf): then an error naming the job, the epoch and the
// reason, with the code the failing rank reported (RESOURCE_EXHAUSTED for a full depot), else
// ABORTED.
absl::Status StopFailure(const rssv1::GetJobResponse& job, const rssv1::Configuration& run);

}  // namespace srs::tools

#endif  // SRS_TOOLS_FAILURE_VIEW_H_
