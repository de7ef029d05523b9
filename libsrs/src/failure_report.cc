#include "libsrs/src/failure_report.h"

#include <memory>
#include <string>

#include "common/log.h"

namespace srs {
namespace libsrs {

void ReportFailure(const RunEnv& env, const char* call, const absl::Status& status,
                   bool collective) {
  if (status.ok() || env.run.run_token().empty()) return;
  if (collective && env.rank != 0) return;
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

}  // namespace libsrs
}  // namespace srs
