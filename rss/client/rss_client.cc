#include "rss/client/rss_client.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/error_codes.h"
#include "common/retry.h"
#include "common/tls.h"

namespace srs {

namespace v1 = rss::v1;

absl::StatusOr<std::unique_ptr<RssClient>> RssClient::Connect(const std::string& address,
                                                              absl::Duration rpc_timeout) {
  std::vector<Target> targets;
  for (absl::string_view part : absl::StrSplit(address, ',')) {
    std::string one(absl::StripAsciiWhitespace(part));
    if (!one.empty()) targets.push_back({one, nullptr, nullptr});
  }
  if (targets.empty()) {
    return absl::InvalidArgumentError("rss address is empty (set `rss = host:port` or SRS_RSS)");
  }
  if (rpc_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rss ", address, ": rpc timeout must be positive"));
  }
  grpc::ChannelArguments args;
  // Checkpoint manifests of thousands of ranks exceed gRPC's 4 MiB default.
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // Reconnect quickly after an RSS restart instead of backing off for up to two minutes.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  // gRPC also uses the minimum backoff as the connect timeout: 100 ms made every attempt fail on
  // a loaded machine ("tcp handshaker shutdown") long after the RSS was back.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  for (Target& target : targets) {
    target.channel = grpc::CreateCustomChannel(target.address, tls::ChannelCredentials(), args);
    target.stub = v1::Rss::NewStub(target.channel);
  }
  return std::unique_ptr<RssClient>(new RssClient(address, rpc_timeout, std::move(targets)));
}

RssClient::RssClient(std::string address, absl::Duration rpc_timeout, std::vector<Target> targets)
    : address_(std::move(address)), rpc_timeout_(rpc_timeout), targets_(std::move(targets)) {}

const std::string& RssClient::current_address() const {
  return targets_[current_.load(std::memory_order_relaxed) % targets_.size()].address;
}

void RssClient::MoveOn(size_t index) {
  if (targets_.size() < 2) return;
  size_t expected = index;
  // Only the first of several threads that saw the same address fail moves the client on.
  current_.compare_exchange_strong(expected, (index + 1) % targets_.size());
}

template <typename Req, typename Resp>
absl::StatusOr<Resp> RssClient::Unary(const char* name,
                                      grpc::Status (v1::Rss::Stub::*method)(grpc::ClientContext*,
                                                                            const Req&, Resp*),
                                      const Req& req, Retry retry, absl::Duration timeout) {
  RetryOptions options;
  options.idempotent = retry == Retry::kIdempotent;
  auto attempt = [&](absl::Time deadline) -> absl::StatusOr<Resp> {
    size_t index = current_.load() % targets_.size();
    const Target& target = targets_[index];
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(deadline));
    // One address and a call that must not run twice: wait for the RSS to be reachable and
    // send it once, instead of failing fast while it restarts.
    const bool wait_for_ready = retry == Retry::kOnce && targets_.size() == 1;
    ctx.set_wait_for_ready(wait_for_ready);
    Resp resp;
    grpc::Status status = (target.stub.get()->*method)(&ctx, req, &resp);
    if (status.ok()) return resp;
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && wait_for_ready &&
        target.channel->GetState(false) != GRPC_CHANNEL_READY) {
      // Waited for an RSS that never answered: it is unreachable, not slow.
      status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            absl::StrCat("not reachable within ", absl::FormatDuration(timeout)));
    }
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) MoveOn(index);
    return FromGrpcStatus(status, absl::StrCat("rss ", target.address, ": ", name));
  };
  // A list gets one pass over its addresses even for a call that is not retried.
  absl::StatusOr<Resp> result =
      RetryUntilValue<Resp>(absl::Now() + timeout, options, name, attempt);
  for (size_t more = 1;
       !options.idempotent && more < targets_.size() && absl::IsUnavailable(result.status());
       ++more) {
    result = attempt(absl::Now() + timeout);
  }
  return result;
}

absl::StatusOr<v1::RegisterRunResponse> RssClient::RegisterRun(const v1::RegisterRunRequest& req) {
  return Unary("RegisterRun", &v1::Rss::Stub::RegisterRun, req, Retry::kOnce);
}
absl::StatusOr<v1::BeginCheckpointResponse> RssClient::BeginCheckpoint(
    const v1::BeginCheckpointRequest& req) {
  // Idempotent only with an attempt id: the RSS answers a repeated one with the same epoch.
  return Unary("BeginCheckpoint", &v1::Rss::Stub::BeginCheckpoint, req,
               req.attempt_id().empty() ? Retry::kOnce : Retry::kIdempotent);
}
absl::StatusOr<v1::ReportPiecesResponse> RssClient::ReportPieces(
    const v1::ReportPiecesRequest& req) {
  return Unary("ReportPieces", &v1::Rss::Stub::ReportPieces, req, Retry::kIdempotent);
}
absl::StatusOr<v1::ReportProgressResponse> RssClient::ReportProgress(
    const v1::ReportProgressRequest& req, absl::Duration timeout) {
  return Unary("ReportProgress", &v1::Rss::Stub::ReportProgress, req, Retry::kOnce, timeout);
}
absl::StatusOr<v1::CommitCheckpointResponse> RssClient::CommitCheckpoint(
    const v1::CommitCheckpointRequest& req) {
  return Unary("CommitCheckpoint", &v1::Rss::Stub::CommitCheckpoint, req, Retry::kIdempotent);
}
absl::StatusOr<v1::AbortCheckpointResponse> RssClient::AbortCheckpoint(
    const v1::AbortCheckpointRequest& req) {
  return Unary("AbortCheckpoint", &v1::Rss::Stub::AbortCheckpoint, req, Retry::kIdempotent);
}
absl::StatusOr<v1::ReportRestartResponse> RssClient::ReportRestart(
    const v1::ReportRestartRequest& req) {
  return Unary("ReportRestart", &v1::Rss::Stub::ReportRestart, req, Retry::kIdempotent);
}
absl::StatusOr<v1::FinishRunResponse> RssClient::FinishRun(const v1::FinishRunRequest& req) {
  return Unary("FinishRun", &v1::Rss::Stub::FinishRun, req, Retry::kIdempotent);
}
absl::StatusOr<v1::ReportFailureResponse> RssClient::ReportFailure(
    const v1::ReportFailureRequest& req, absl::Duration timeout) {
  return Unary("ReportFailure", &v1::Rss::Stub::ReportFailure, req, Retry::kIdempotent, timeout);
}
absl::StatusOr<v1::RegisterDepotResponse> RssClient::RegisterDepot(
    const v1::RegisterDepotRequest& req) {
  return Unary("RegisterDepot", &v1::Rss::Stub::RegisterDepot, req, Retry::kIdempotent);
}
absl::StatusOr<v1::RequestStopResponse> RssClient::RequestStop(const v1::RequestStopRequest& req) {
  return Unary("RequestStop", &v1::Rss::Stub::RequestStop, req, Retry::kOnce);
}
absl::StatusOr<v1::RequestCheckpointResponse> RssClient::RequestCheckpoint(
    const v1::RequestCheckpointRequest& req) {
  return Unary("RequestCheckpoint", &v1::Rss::Stub::RequestCheckpoint, req, Retry::kOnce);
}
absl::StatusOr<v1::ListJobsResponse> RssClient::ListJobs(const v1::ListJobsRequest& req) {
  return Unary("ListJobs", &v1::Rss::Stub::ListJobs, req, Retry::kIdempotent);
}
absl::StatusOr<v1::GetJobResponse> RssClient::GetJob(const v1::GetJobRequest& req) {
  return Unary("GetJob", &v1::Rss::Stub::GetJob, req, Retry::kIdempotent);
}
absl::StatusOr<v1::ListDepotsResponse> RssClient::ListDepots(const v1::ListDepotsRequest& req) {
  return Unary("ListDepots", &v1::Rss::Stub::ListDepots, req, Retry::kIdempotent);
}

absl::Status RssClient::WatchRun(const std::string& run_token,
                                 std::function<void(const v1::RunEvent&)> on_event,
                                 grpc::ClientContext* ctx) {
  if (ctx == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("rss ", address_, ": WatchRun: null context"));
  }
  v1::WatchRunRequest req;
  req.set_run_token(run_token);
  size_t index = current_.load() % targets_.size();
  const std::string& address = targets_[index].address;
  std::unique_ptr<grpc::ClientReader<v1::RunEvent>> reader =
      targets_[index].stub->WatchRun(ctx, req);
  v1::RunEvent event;
  while (reader->Read(&event)) {
    if (on_event) on_event(event);
  }
  grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) MoveOn(index);
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("rss ", address, ": WatchRun"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAdminToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("admin token file ", path,
                                            " cannot be read (is srs-rss using that state dir?)"));
  }
  std::string line;
  std::getline(in, line);
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("admin token file ", path, " is empty"));
  }
  return token;
}

}  // namespace srs
