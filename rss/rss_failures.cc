// ReportFailure: a rank's fatal error, recorded in its run's record (the Configuration blob, so
// no schema change) before the job is likely to die, so `srs status` and `srs history` can say
// why a job ended even when the launcher dropped the rank's output.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "rss/rss_service.h"
#include "rss/rss_state.h"

namespace srs {

namespace v1 = rss::v1;

namespace {
constexpr size_t kMaxMessageBytes = 4096;
constexpr size_t kMaxShortField = 128;
}  // namespace

absl::Status RssState::ReportFailure(const std::string& run_id, const v1::RunFailure& failure) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  if (failure.rank() < 0 || failure.rank() >= run->row.config.nprocs()) {
    return absl::InvalidArgumentError(absl::StrCat("ReportFailure: rank ", failure.rank(),
                                                   " does not exist in run ", run_id, " (ranks 0..",
                                                   run->row.config.nprocs() - 1, ")"));
  }
  v1::RunFailure recorded;
  recorded.set_rank(failure.rank());
  recorded.set_code(failure.code().substr(0, kMaxShortField));
  recorded.set_call(failure.call().substr(0, kMaxShortField));
  recorded.set_message(failure.message().substr(0, kMaxMessageBytes));
  recorded.set_unix_ms(NowMs());
  SRS_RETURN_IF_ERROR(Transact([&] {
    *run->row.config.mutable_failure() = recorded;
    return PutRun(*run);
  }));
  SRS_LOG(WARNING).Field("run", run_id).Field("rank", failure.rank())
      << absl::CHexEscape(recorded.call()) << " failed: " << absl::CHexEscape(recorded.code())
      << ": " << absl::CHexEscape(recorded.message());
  return absl::OkStatus();
}

grpc::Status RssService::ReportFailure(grpc::ServerContext*, const v1::ReportFailureRequest* req,
                                       v1::ReportFailureResponse*) {
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "ReportFailure");
  absl::Status status = run_id.status();
  if (status.ok()) status = state_->ReportFailure(*run_id, req->failure());
  if (status.ok()) return grpc::Status::OK;
  return ToGrpcStatus(Annotate(status, "ReportFailure"));
}

}  // namespace srs
