#include "rss/client/rss_client.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/tls.h"

namespace srs {

namespace v1 = rss::v1;

absl::StatusOr<std::unique_ptr<RssClient>> RssClient::Connect(const std::string& address,
                                                              absl::Duration rpc_timeout) {
  if (address.empty()) {
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
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  auto channel = grpc::CreateCustomChannel(address, tls::ChannelCredentials(), args);
  return std::unique_ptr<RssClient>(new RssClient(address, rpc_timeout, v1::Rss::NewStub(channel)));
}

RssClient::RssClient(std::string address, absl::Duration rpc_timeout,
                     std::unique_ptr<v1::Rss::Stub> stub)
    : address_(std::move(address)), rpc_timeout_(rpc_timeout), stub_(std::move(stub)) {}

template <typename Req, typename Resp>
absl::StatusOr<Resp> RssClient::Unary(const char* name,
                                      grpc::Status (v1::Rss::Stub::*method)(grpc::ClientContext*,
                                                                            const Req&, Resp*),
                                      const Req& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
  Resp resp;
  grpc::Status status = (stub_.get()->*method)(&ctx, req, &resp);
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("rss ", address_, ": ", name));
  return resp;
}

absl::StatusOr<v1::RegisterRunResponse> RssClient::RegisterRun(const v1::RegisterRunRequest& req) {
  return Unary("RegisterRun", &v1::Rss::Stub::RegisterRun, req);
}
absl::StatusOr<v1::BeginCheckpointResponse> RssClient::BeginCheckpoint(
    const v1::BeginCheckpointRequest& req) {
  return Unary("BeginCheckpoint", &v1::Rss::Stub::BeginCheckpoint, req);
}
absl::StatusOr<v1::ReportPiecesResponse> RssClient::ReportPieces(
    const v1::ReportPiecesRequest& req) {
  return Unary("ReportPieces", &v1::Rss::Stub::ReportPieces, req);
}
absl::StatusOr<v1::CommitCheckpointResponse> RssClient::CommitCheckpoint(
    const v1::CommitCheckpointRequest& req) {
  return Unary("CommitCheckpoint", &v1::Rss::Stub::CommitCheckpoint, req);
}
absl::StatusOr<v1::AbortCheckpointResponse> RssClient::AbortCheckpoint(
    const v1::AbortCheckpointRequest& req) {
  return Unary("AbortCheckpoint", &v1::Rss::Stub::AbortCheckpoint, req);
}
absl::StatusOr<v1::ReportRestartResponse> RssClient::ReportRestart(
    const v1::ReportRestartRequest& req) {
  return Unary("ReportRestart", &v1::Rss::Stub::ReportRestart, req);
}
absl::StatusOr<v1::FinishRunResponse> RssClient::FinishRun(const v1::FinishRunRequest& req) {
  return Unary("FinishRun", &v1::Rss::Stub::FinishRun, req);
}
absl::StatusOr<v1::RegisterDepotResponse> RssClient::RegisterDepot(
    const v1::RegisterDepotRequest& req) {
  return Unary("RegisterDepot", &v1::Rss::Stub::RegisterDepot, req);
}
absl::StatusOr<v1::RequestStopResponse> RssClient::RequestStop(const v1::RequestStopRequest& req) {
  return Unary("RequestStop", &v1::Rss::Stub::RequestStop, req);
}
absl::StatusOr<v1::RequestCheckpointResponse> RssClient::RequestCheckpoint(
    const v1::RequestCheckpointRequest& req) {
  return Unary("RequestCheckpoint", &v1::Rss::Stub::RequestCheckpoint, req);
}
absl::StatusOr<v1::ListJobsResponse> RssClient::ListJobs(const v1::ListJobsRequest& req) {
  return Unary("ListJobs", &v1::Rss::Stub::ListJobs, req);
}
absl::StatusOr<v1::GetJobResponse> RssClient::GetJob(const v1::GetJobRequest& req) {
  return Unary("GetJob", &v1::Rss::Stub::GetJob, req);
}
absl::StatusOr<v1::ListDepotsResponse> RssClient::ListDepots(const v1::ListDepotsRequest& req) {
  return Unary("ListDepots", &v1::Rss::Stub::ListDepots, req);
}

absl::Status RssClient::WatchRun(const std::string& run_token,
                                 std::function<void(const v1::RunEvent&)> on_event,
                                 grpc::ClientContext* ctx) {
  if (ctx == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("rss ", address_, ": WatchRun: null context"));
  }
  v1::WatchRunRequest req;
  req.set_run_token(run_token);
  std::unique_ptr<grpc::ClientReader<v1::RunEvent>> reader = stub_->WatchRun(ctx, req);
  v1::RunEvent event;
  while (reader->Read(&event)) {
    if (on_event) on_event(event);
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("rss ", address_, ": WatchRun"));
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
