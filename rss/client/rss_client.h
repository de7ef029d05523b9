// RssClient: a thin, synchronous client of the srs.rss.v1 service, used by the library (rank 0),
// the depot (registration) and the `srs` tool.
//
// Every call takes and returns the proto messages; a gRPC failure becomes an absl::Status with the
// same code whose message names the RSS address and the call, e.g.
//   "rss 127.0.0.1:7000: CommitCheckpoint: ranks 3, 5 have not reported pieces for epoch 4".
// Each unary call carries a deadline of `rpc_timeout` from Connect, and idempotent calls are
// retried within it (common/retry.h: UNAVAILABLE, ABORTED; exponential backoff with jitter), so an
// RSS that restarts within rpc_timeout costs a delay, not an error. Which calls are idempotent:
//   retried: BeginCheckpoint (made idempotent by its attempt_id), ReportPieces (the same record
//     again is accepted), CommitCheckpoint (an already committed epoch answers OK),
//     AbortCheckpoint, ReportRestart, FinishRun (a finished run answers OK), ReportFailure,
//     RegisterDepot, ListJobs, GetJob, ListDepots;
//   not retried: ReportProgress (best effort: the next report replaces a lost one), RegisterRun (a
//   second registration would meet the first one's live lease) and
//     RequestStop / RequestCheckpoint (each makes a new request id). With a single RSS address
//     these wait for the channel to be ready (up to rpc_timeout) before they are sent once.
//
// The address may be a list, "h1:p1,h2:p2": calls go to the first; when an address is
// UNAVAILABLE the client moves on to the next one (wrapping around) and stays there.
//
//   SRS_ASSIGN_OR_RETURN(auto rss, RssClient::Connect("127.0.0.1:7000", absl::Seconds(10)));
//   rss::v1::RegisterRunRequest req;  req.set_job("heat"); ...
//   SRS_ASSIGN_OR_RETURN(rss::v1::RegisterRunResponse run, rss->RegisterRun(req));
//
// WatchRun blocks while the stream is open, calling `on_event` for every event (KEEPALIVE about
// once a second, STOP, CHECKPOINT). It carries no deadline; the caller ends it from another
// thread with ctx->TryCancel(), which makes it return CANCELLED. Reconnection is the caller's
// business (the library reconnects with backoff); a fresh ClientContext is needed per call. A
// failed stream moves the client to the next address of a list, like a failed unary call.
//
// Thread safety: an RssClient may be used from several threads at once (gRPC stubs are).
#ifndef SRS_RSS_CLIENT_RSS_CLIENT_H_
#define SRS_RSS_CLIENT_RSS_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "srs/rss/v1/rss.grpc.pb.h"

namespace srs {

class RssClient {
 public:
  // Creates a channel to `address` ("host:port", or a comma-separated list of them). Does not
  // wait for the RSS to be up: a call fails with UNAVAILABLE naming the address if nobody
  // answers within rpc_timeout. INVALID_ARGUMENT for an empty address or a non-positive timeout.
  static absl::StatusOr<std::unique_ptr<RssClient>> Connect(const std::string& address,
                                                            absl::Duration rpc_timeout);

  // The address as given (the whole list).
  const std::string& address() const { return address_; }
  // The address calls go to now.
  const std::string& current_address() const;

  // Runs (the library).
  absl::StatusOr<rss::v1::RegisterRunResponse> RegisterRun(const rss::v1::RegisterRunRequest& req);
  absl::StatusOr<rss::v1::BeginCheckpointResponse> BeginCheckpoint(
      const rss::v1::BeginCheckpointRequest& req);
  absl::StatusOr<rss::v1::ReportPiecesResponse> ReportPieces(
      const rss::v1::ReportPiecesRequest& req);
  // Best effort (a lost report is replaced by the next one): sent once, within `timeout`.
  absl::StatusOr<rss::v1::ReportProgressResponse> ReportProgress(
      const rss::v1::ReportProgressRequest& req, absl::Duration timeout);
  absl::StatusOr<rss::v1::CommitCheckpointResponse> CommitCheckpoint(
      const rss::v1::CommitCheckpointRequest& req);
  absl::StatusOr<rss::v1::AbortCheckpointResponse> AbortCheckpoint(
      const rss::v1::AbortCheckpointRequest& req);
  absl::StatusOr<rss::v1::ReportRestartResponse> ReportRestart(
      const rss::v1::ReportRestartRequest& req);
  absl::StatusOr<rss::v1::FinishRunResponse> FinishRun(const rss::v1::FinishRunRequest& req);
  // Best effort, for a run about to die: one attempt budget of `timeout` (not rpc_timeout).
  absl::StatusOr<rss::v1::ReportFailureResponse> ReportFailure(
      const rss::v1::ReportFailureRequest& req, absl::Duration timeout);

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
  struct Target {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<rss::v1::Rss::Stub> stub;
  };
  RssClient(std::string address, absl::Duration rpc_timeout, std::vector<Target> targets);

  enum class Retry { kIdempotent, kOnce };
  // Runs one unary call (retried within `timeout` when kIdempotent) and converts its status,
  // naming the address and the call.
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Unary(const char* name,
                             grpc::Status (rss::v1::Rss::Stub::*method)(grpc::ClientContext*,
                                                                        const Req&, Resp*),
                             const Req& req, Retry retry, absl::Duration timeout);
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Unary(const char* name,
                             grpc::Status (rss::v1::Rss::Stub::*method)(grpc::ClientContext*,
                                                                        const Req&, Resp*),
                             const Req& req, Retry retry) {
    return Unary(name, method, req, retry, rpc_timeout_);
  }
  // After `index` failed with UNAVAILABLE: the next address of a list.
  void MoveOn(size_t index);

  std::string address_;
  absl::Duration rpc_timeout_;
  std::vector<Target> targets_;
  std::atomic<size_t> current_{0};
};

// Reads the admin token (one line) written by srs-rss into <state>/admin.token. NOT_FOUND naming
// the path if it does not exist, FAILED_PRECONDITION if it is empty.
absl::StatusOr<std::string> ReadAdminToken(const std::string& path);

}  // namespace srs

#endif  // SRS_RSS_CLIENT_RSS_CLIENT_H_
