// Telling the RSS why a rank is about to die. When an SRS call fails with an error the job cannot
// continue past, the application usually calls MPI_Abort, and MPICH's launcher may drop the
// rank's last lines: the reason is then lost. So before the C API returns such an error it sends
// it (code, message, rank, call) to the RSS, which keeps it in the run's record for `srs status`
// and `srs history`.
//
// Best effort with a short deadline (kFailureReportTimeout): a failure to report is logged, never
// returned, and never delays the caller for long.
#ifndef SRS_LIBSRS_SRC_FAILURE_REPORT_H_
#define SRS_LIBSRS_SRC_FAILURE_REPORT_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libsrs/src/run_env.h"

namespace srs {
namespace libsrs {

inline constexpr absl::Duration kFailureReportTimeout = absl::Seconds(2);

// Reports `status` (not OK) of SRS call `call` on this rank. `collective`: the status was agreed
// by every rank (collective_status.h), so only rank 0 reports it, over its RSS link; otherwise
// the failing rank reports it over a short-lived link of its own.
void ReportFailure(const RunEnv& env, const char* call, const absl::Status& status,
                   bool collective);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_FAILURE_REPORT_H_
