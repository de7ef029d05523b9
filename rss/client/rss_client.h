// RssClient: a thin, synchronous client of the srs.rss.v1 service, used by the library (rank 0),
// the depot (registration) and the `srs` tool.
//
// Every call takes and returns the proto messages; a gRPC failure becomes an absl::Status with the
// same code whose message names the RSS address and the call, e.g.
//   "rss 127.0.0.1:7000: CommitCheckpoint: ranks 3, 5 have not reported pieces for epoch 4".
// Each unary call carries a deadline of `rpc_timeout` from Connect.
//
//   SRS_ASSIGN_OR_RETURN(auto rss, RssClient::Connect("127.0.0.1:7000", absl::Seconds(10)));
//   rss::v1::RegisterRunRequest req;  req.set_job("heat"); ...
//   SRS_ASSIGN_OR_RETURN(rss::v1::RegisterRunResponse run, rss->RegisterRun(req));
//
// WatchRun blocks while the stream is open, calling `on_event` for every event (KEEPALIVE about
// once a second, STOP, CHECKPOINT). It carries no deadline; the caller ends it from another
// thread with ctx->TryCancel(), which makes it return CANCELLED. Reconnection is the caller's
// business (the library reconnects with backoff); a fresh ClientContext is needed per call.
//
// Thread safety: an RssClient may be used from several threads at once (gRPC stubs are).
#ifndef SRS_RSS_CLIENT_RSS_CLIENT_H_
#define SRS_RSS_CLIENT_RSS_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "srs/rss/v1/rss.grpc.pb.h"

namespace srs {

class RssClient {
 public:
  // Creates a channel to `address` ("host:port"). Does not wait for the RSS to be up: the first
  // call fails with UNAVAILABLE naming the address if nobody answers. INVALID_ARGUMENT for an
  // empty address or a non-positive timeout.
  static absl::StatusOr<std::unique_ptr<RssClient>> Connect(const std::string& address,
                                                            absl::Duration rpc_timeout);

  const std::string& address() const { return address_; }

  // Runs (the library).
  absl::StatusOr<rss::v1::RegisterRunResponse> RegisterRun(const rss::v1::RegisterRunRequest& req);
  absl::StatusOr<rss::v1::BeginCheckpointResponse> BeginCheckpoint(
      const rss::v1::BeginCheckpointRequest& req);
  absl::StatusOr<rss::v1::ReportPiecesResponse> ReportPieces(
      const rss::v1::ReportPiecesRequest& req);
  absl::StatusOr<rss::v1::CommitCheckpointResponse> CommitCheckpoint(
      const rss::v1::CommitCheckpointRequest& req);
  absl::StatusOr<rss::v1::AbortCheckpointResponse> AbortCheckpoint(
      const rss::v1::AbortCheckpointRequest& req);
  absl::StatusOr<rss::v1::ReportRestartResponse> ReportRestart(
      const rss::v1::ReportRestartRequest& req);
  absl::StatusOr<rss::v1::FinishRunResponse> FinishRun(const rss::v1::FinishRunRequest& req);

  // Blocks until the stream ends: returns OK if the server closed it cleanly, CANCELLED after
  // ctx->TryCancel(), otherwise the stream's error (UNAVAILABLE when the RSS went away). `ctx`
  // must be fresh and outlive the call.
  absl::Status WatchRun(const std::string& run_token,
                        std::function<void(const rss::v1::RunEvent&)> on_event,
                        grpc::ClientContext* ctx);

  // Depots.
  absl::StatusOr<rss::v1::RegisterDepotResponse> RegisterDepot(
      const rss::v1::RegisterDepotRequest& req);

  // Tools (admin token).
  absl::StatusOr<rss::v1::RequestStopResponse> RequestStop(const rss::v1::RequestStopRequest& req);
  absl::StatusOr<rss::v1::RequestCheckpointResponse> RequestCheckpoint(
      const rss::v1::RequestCheckpointRequest& req);
  absl::StatusOr<rss::v1::ListJobsResponse> ListJobs(const rss::v1::ListJobsRequest& req);
  absl::StatusOr<rss::v1::GetJobResponse> GetJob(const rss::v1::GetJobRequest& req);
  absl::StatusOr<rss::v1::ListDepotsResponse> ListDepots(const rss::v1::ListDepotsRequest& req);

 private:
  RssClient(std::string address, absl::Duration rpc_timeout,
            std::unique_ptr<rss::v1::Rss::Stub> stub);

  // Runs one unary call with a deadline and converts its status, naming address and call.
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Unary(const char* name,
                             grpc::Status (rss::v1::Rss::Stub::*method)(grpc::ClientContext*,
                                                                        const Req&, Resp*),
                             const Req& req);

  std::string address_;
  absl::Duration rpc_timeout_;
  std::unique_ptr<rss::v1::Rss::Stub> stub_;
};

// Reads the admin token (one line) written by srs-rss into <state>/admin.token. NOT_FOUND naming
// the path if it does not exist, FAILED_PRECONDITION if it is empty.
absl::StatusOr<std::string> ReadAdminToken(const std::string& path);

}  // namespace srs

#endif  // SRS_RSS_CLIENT_RSS_CLIENT_H_
