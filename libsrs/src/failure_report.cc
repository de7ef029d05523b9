#include "libsrs/src/failure_report.h"

#include <algorithm>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "common/log.h"

namespace srs {
namespace libsrs {
namespace {

// Records `status` of `call` as the run's failure at the RSS (bounded by kFailureReportTimeout).
void Send(const RunEnv& env, const char* call, const absl::Status& status) {
  rss::v1::ReportFailureRequest req;
  req.set_run_token(env.run.run_token());
  rss::v1::RunFailure* failure = req.mutable_failure();
  failure->set_rank(env.rank);
  failure->set_code(absl::StatusCodeToString(status.code()));
  failure->set_message(std::string(status.message()));
  failure->set_call(call);
  RssClient* rss = env.rss.get();
  std::unique_ptr<RssClient> own;
  if (rss == nullptr) {
    absl::StatusOr<std::unique_ptr<RssClient>> connected =
        RssClient::Connect(env.settings.rss, kFailureReportTimeout);
    if (!connected.ok()) return;
    own = std::move(*connected);
    rss = own.get();
  }
  absl::Status sent = rss->ReportFailure(req, kFailureReportTimeout).status();
  if (!sent.ok()) {
    SRS_LOG(WARNING) << "could not record the failure of " << call << " at the RSS: " << sent;
  }
}

}  // namespace

void ReportFailure(const RunEnv& env, const char* call, const absl::Status& status,
                   bool collective) {
  if (status.ok() || env.run.run_token().empty()) return;
  if (collective) {
    // Every rank got this error: rank 0 records it. The others give it a moment before they
    // return, so an application that aborts on the error (MPI_Abort from any rank) does not kill
    // rank 0 in the middle of its report. A pause, not a barrier: should a rank ever be alone
    // with an error the others did not get, a barrier would hang it. Error path only.
    if (env.rank == 0) {
      Send(env, call, status);
    } else {
      absl::SleepFor(std::min(kFailureReportTimeout, absl::Seconds(2)));
    }
    return;
  }
  Send(env, call, status);
}

}  // namespace libsrs
}  // namespace srs
