// RssService: the srs.rss.v1 gRPC service. Thin on purpose: validate the request's limits
// (rss/request_validation.h: INVALID_ARGUMENT), check the credential, delegate to RssState,
// convert the Status.
//
// Credentials (docs/security.md): admin calls need the admin token (UNAUTHENTICATED when missing,
// PERMISSION_DENIED when wrong); run calls need the run token RegisterRun handed out and act on
// that run only. RegisterRun of an existing job needs its owner secret or the admin token (with
// force: the admin token); an admin token that is given must be right. RequestStop,
// RequestCheckpoint and GetJob take the admin token or the job's owner secret. RegisterDepot
// carries no token.
//
// WatchRun: sends KEEPALIVE about once a second, STOP / CHECKPOINT as soon as they are requested
// (and again on every new stream while pending), ends with OK when the run stops or finishes and
// with UNAVAILABLE when the RSS shuts down. The open stream holds the run's lease.
#ifndef SRS_RSS_RSS_SERVICE_H_
#define SRS_RSS_RSS_SERVICE_H_

#include <string>

#include "rss/depot_enrollment.h"
#include "rss/request_budget.h"
#include "rss/rss_state.h"
#include "srs/rss/v1/rss.grpc.pb.h"

namespace srs {

class RssService final : public rss::v1::Rss::Service {
 public:
  RssService(RssState* state, std::string admin_token, absl::Duration keepalive);
  // Depot enrollment and write grants (not owned; null = depots enroll without a secret and no
  // grants are issued: only tests that predate grants do that).
  void SetDepotEnrollment(const DepotEnrollment* enrollment) { enrollment_ = enrollment; }
  // The server-wide budget of request bytes in flight (rss/request_budget.h; not owned; null =
  // unbounded). RegisterRun, BeginCheckpoint and ReportPieces, the calls whose size grows with
  // the process count, reserve their wire size in it before they are even parsed (through
  // gRPC; a direct call of the methods below is not metered).
  void SetRequestBudget(RequestBudget* budget) { budget_ = budget; }

  grpc::Status RegisterRun(grpc::ServerContext* ctx, const rss::v1::RegisterRunRequest* req,
                           rss::v1::RegisterRunResponse* resp) override;
  grpc::Status WatchRun(grpc::ServerContext* ctx, const rss::v1::WatchRunRequest* req,
                        grpc::ServerWriter<rss::v1::RunEvent>* writer) override;
  grpc::Status BeginCheckpoint(grpc::ServerContext* ctx, const rss::v1::BeginCheckpointRequest* req,
                               rss::v1::BeginCheckpointResponse* resp) override;
  grpc::Status ReportPieces(grpc::ServerContext* ctx, const rss::v1::ReportPiecesRequest* req,
                            rss::v1::ReportPiecesResponse* resp) override;
  grpc::Status CommitCheckpoint(grpc::ServerContext* ctx,
                                const rss::v1::CommitCheckpointRequest* req,
                                rss::v1::CommitCheckpointResponse* resp) override;
  grpc::Status AbortCheckpoint(grpc::ServerContext* ctx, const rss::v1::AbortCheckpointRequest* req,
                               rss::v1::AbortCheckpointResponse* resp) override;
  grpc::Status ReportProgress(grpc::ServerContext* ctx, const rss::v1::ReportProgressRequest* req,
                              rss::v1::ReportProgressResponse* resp) override;
  grpc::Status ReportRestart(grpc::ServerContext* ctx, const rss::v1::ReportRestartRequest* req,
                             rss::v1::ReportRestartResponse* resp) override;
  grpc::Status FinishRun(grpc::ServerContext* ctx, const rss::v1::FinishRunRequest* req,
                         rss::v1::FinishRunResponse* resp) override;
  grpc::Status ReportFailure(grpc::ServerContext* ctx, const rss::v1::ReportFailureRequest* req,
                             rss::v1::ReportFailureResponse* resp) override;  // rss_failures.cc
  grpc::Status RegisterDepot(grpc::ServerContext* ctx, const rss::v1::RegisterDepotRequest* req,
                             rss::v1::RegisterDepotResponse* resp) override;
  grpc::Status RequestStop(grpc::ServerContext* ctx, const rss::v1::RequestStopRequest* req,
                           rss::v1::RequestStopResponse* resp) override;
  grpc::Status RequestCheckpoint(grpc::ServerContext* ctx,
                                 const rss::v1::RequestCheckpointRequest* req,
                                 rss::v1::RequestCheckpointResponse* resp) override;
  grpc::Status ListJobs(grpc::ServerContext* ctx, const rss::v1::ListJobsRequest* req,
                        rss::v1::ListJobsResponse* resp) override;
  grpc::Status GetJob(grpc::ServerContext* ctx, const rss::v1::GetJobRequest* req,
                      rss::v1::GetJobResponse* resp) override;
  grpc::Status ListDepots(grpc::ServerContext* ctx, const rss::v1::ListDepotsRequest* req,
                          rss::v1::ListDepotsResponse* resp) override;
  grpc::Status EndRun(grpc::ServerContext* ctx, const rss::v1::EndRunRequest* req,
                      rss::v1::EndRunResponse* resp) override;
  // RepairJob and DropCheckpoint: admin token or owner secret, like GetJob. RepairJob answers
  // UNIMPLEMENTED when the server has no copier (SetReplicaCopier).
  grpc::Status RepairJob(grpc::ServerContext* ctx, const rss::v1::RepairJobRequest* req,
                         rss::v1::RepairJobResponse* resp) override;
  grpc::Status DropCheckpoint(grpc::ServerContext* ctx, const rss::v1::DropCheckpointRequest* req,
                              rss::v1::DropCheckpointResponse* resp) override;
  // How repairs reach depots (not owned; null = RepairJob is UNIMPLEMENTED).
  void SetReplicaCopier(ReplicaCopier* copier) { copier_ = copier; }

 private:
  absl::Status CheckAdmin(const std::string& token, const char* call) const;
  // The per-job tool calls: the admin token if one is given, else the job's owner secret.
  absl::Status CheckJobAccess(const std::string& admin_token, const std::string& owner_secret,
                              const std::string& job, const char* call) const;
  absl::StatusOr<std::string> RunOf(const std::string& token, const char* call) const;
  // Serves RegisterRun, BeginCheckpoint, ReportPieces and CommitCheckpoint from raw bytes parsed
  // inside budget_ (rss/metered_calls.cc); the constructor calls it.
  void MeterLargeCalls();

  RssState* state_;
  std::string admin_token_;
  absl::Duration keepalive_;
  const DepotEnrollment* enrollment_ = nullptr;
  ReplicaCopier* copier_ = nullptr;
  RequestBudget* budget_ = nullptr;
};

// Constant-time comparison, so a token cannot be guessed byte by byte from response times.
bool TokensEqual(const std::string& a, const std::string& b);

}  // namespace srs

#endif  // SRS_RSS_RSS_SERVICE_H_
