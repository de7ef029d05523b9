// Resume semantics of `srs run` (DESIGN.md §6, "no silent loss"), decided before launching:
//   plain run  -> resume = auto: resumes from the job's newest committed checkpoint if it has
//                 one (any process count), else starts fresh;
//   --resume   -> resume = yes: must resume; NOT_FOUND here if there is nothing to resume;
//   --fresh    -> resume = no: starts over; the RSS keeps the old checkpoints (resumable) until
//                 the fresh run commits its first checkpoint or finishes.
// The library (SRS_RESUME, `resume` in srs.config) makes the same choice at the RSS; this side
// checks early, says what will happen, and waits out the lease of a run that died without
// anyone ending it, so the registration does not fail on it.
#ifndef SRS_TOOLS_RUN_RESUME_H_
#define SRS_TOOLS_RUN_RESUME_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "tools/site.h"

namespace srs::tools {

enum class ResumeChoice { kAuto, kYes, kFresh };

// "auto", "yes" or "no": the value of SRS_RESUME the ranks get.
const char* ResumeEnvValue(ResumeChoice choice);

struct ResumeRequest {
  std::string job;
  ResumeChoice choice = ResumeChoice::kAuto;
  int64_t epoch = 0;  // with kYes: this committed epoch; 0 = the newest
  bool force = false;
  int64_t nprocs = 1;  // of the new run, for the message
  // Polled while waiting for a lease: true = give up (CANCELLED), e.g. on a Ctrl-C.
  std::function<bool()> interrupted = [] { return false; };
};

// Asks the RSS about the job, waits while its newest run still holds a lease (printing the
// seconds left; with an open watch stream at most one lease period, then FAILED_PRECONDITION
// naming `srs stop` and --force; CANCELLED once `interrupted`), and prints what the launch will
// do. NOT_FOUND when kYes finds
// nothing to resume. Without an admin token it cannot look and returns OK.
absl::Status PrepareResume(const Site& site, const ResumeRequest& request);

}  // namespace srs::tools

#endif  // SRS_TOOLS_RUN_RESUME_H_
