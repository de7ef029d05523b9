#include "rss/rss_service.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "rss/request_validation.h"

namespace srs {

namespace v1 = rss::v1;

namespace {

// Prefixes the call name so a client's error says which RPC failed.
grpc::Status Reply(const absl::Status& status, const char* call) {
  if (status.ok()) return grpc::Status::OK;
  absl::string_view message = status.message();
  if (absl::StartsWith(message, call)) return ToGrpcStatus(status);
  return ToGrpcStatus(Annotate(status, call));
}

}  // namespace

bool TokensEqual(const std::string& a, const std::string& b) {
  // The length is not secret (tokens are 32 hex characters); the content is.
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

RssService::RssService(RssState* state, std::string admin_token, absl::Duration keepalive)
    : state_(state), admin_token_(std::move(admin_token)), keepalive_(keepalive) {
  MeterLargeCalls();
}

absl::Status RssService::CheckAdmin(const std::string& token, const char* call) const {
  if (token.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat(call, ": admin token missing (it is in the rss state dir, file admin.token)"));
  }
  if (!TokensEqual(token, admin_token_)) {
    return absl::PermissionDeniedError(absl::StrCat(call, ": wrong admin token"));
  }
  return absl::OkStatus();
}

absl::Status RssService::CheckJobAccess(const std::string& admin_token,
                                        const std::string& owner_secret, const std::string& job,
                                        const char* call) const {
  if (!admin_token.empty()) return CheckAdmin(admin_token, call);
  if (owner_secret.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat(call, ": neither the admin token nor the job's owner secret was presented"));
  }
  return Annotate(state_->CheckOwner(job, owner_secret), call);
}

absl::StatusOr<std::string> RssService::RunOf(const std::string& token, const char* call) const {
  if (token.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat(call, ": run token missing (RegisterRun hands one out)"));
  }
  return state_->RunForToken(token);
}

grpc::Status RssService::RegisterRun(grpc::ServerContext*, const v1::RegisterRunRequest* req,
                                     v1::RegisterRunResponse* resp) {
  absl::Status valid = ValidateRegisterRun(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  bool admin = false;
  if (req->force() || !req->admin_token().empty()) {
    absl::Status checked =
        CheckAdmin(req->admin_token(), req->force() ? "RegisterRun (force)" : "RegisterRun");
    if (!checked.ok()) return ToGrpcStatus(checked);
    admin = true;
  }
  absl::StatusOr<v1::RegisterRunResponse> out = state_->RegisterRun(*req, admin);
  if (!out.ok()) return Reply(out.status(), "RegisterRun");
  *resp = std::move(*out);
  return grpc::Status::OK;
}

namespace {

// What one watch stream has told its run so far.
struct WatchCursor {
  int64_t sent_stop = 0;
  int64_t sent_checkpoint = 0;
  absl::Time next_keepalive = absl::InfinitePast();
};

// Sends the events that are due: a new STOP / CHECKPOINT request, a KEEPALIVE when its time has
// come. Returns false when the client is gone.
bool SendDue(const WatchStatus& status, absl::Duration keepalive, WatchCursor* cursor,
             grpc::ServerWriter<v1::RunEvent>* writer) {
  v1::RunEvent event;
  if (status.stop_request != 0 && status.stop_request != cursor->sent_stop) {
    event.set_kind(v1::RunEvent::STOP);
    event.set_request_id(cursor->sent_stop = status.stop_request);
    if (!writer->Write(event)) return false;
  }
  if (status.checkpoint_request != 0 && status.checkpoint_request != cursor->sent_checkpoint) {
    event.set_kind(v1::RunEvent::CHECKPOINT);
    event.set_request_id(cursor->sent_checkpoint = status.checkpoint_request);
    if (!writer->Write(event)) return false;
  }
  if (absl::Now() >= cursor->next_keepalive) {
    event.Clear();
    event.set_kind(v1::RunEvent::KEEPALIVE);
    if (!writer->Write(event)) return false;
    cursor->next_keepalive = absl::Now() + keepalive;
  }
  return true;
}

}  // namespace

grpc::Status RssService::WatchRun(grpc::ServerContext* ctx, const v1::WatchRunRequest* req,
                                  grpc::ServerWriter<v1::RunEvent>* writer) {
  absl::Status valid = ValidateWatchRun(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "WatchRun");
  if (!run_id.ok()) return Reply(run_id.status(), "WatchRun");
  absl::Status attached = state_->AttachWatch(*run_id);
  if (!attached.ok()) return Reply(attached, "WatchRun");
  SRS_LOG(DEBUG).Field("run", *run_id) << "watch stream opened";
  int64_t generation = -1;  // differs from any real generation: the first wait returns at once
  WatchCursor cursor;
  grpc::Status result = grpc::Status::OK;
  while (true) {
    absl::Duration until_keepalive =
        std::max(absl::ZeroDuration(), cursor.next_keepalive - absl::Now());
    WatchStatus status = state_->WaitWatch(*run_id, generation, until_keepalive);
    generation = status.generation;
    if (ctx->IsCancelled()) {
      result = grpc::Status(grpc::StatusCode::CANCELLED, "WatchRun: cancelled by the client");
      break;
    }
    if (status.shutting_down) {
      result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "WatchRun: rss is shutting down");
      break;
    }
    if (!status.run_active) break;  // stopped, finished or lost: nothing more to say
    if (!SendDue(status, keepalive_, &cursor, writer)) {
      result = grpc::Status(grpc::StatusCode::CANCELLED, "WatchRun: client went away");
      break;
    }
  }
  state_->DetachWatch(*run_id);
  SRS_LOG(DEBUG).Field("run", *run_id) << "watch stream closed";
  return result;
}

grpc::Status RssService::BeginCheckpoint(grpc::ServerContext*,
                                         const v1::BeginCheckpointRequest* req,
                                         v1::BeginCheckpointResponse* resp) {
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "BeginCheckpoint");
  if (!run_id.ok()) return Reply(run_id.status(), "BeginCheckpoint");
  absl::StatusOr<RssState::RunFacts> run = state_->FactsOfRun(*run_id);
  if (!run.ok()) return Reply(run.status(), "BeginCheckpoint");
  absl::Status valid = ValidateBeginCheckpoint(*req, run->nprocs);
  if (!valid.ok()) return ToGrpcStatus(valid);
  std::vector<v1::ReplicaTargets> targets;
  absl::StatusOr<int64_t> epoch = state_->BeginCheckpoint(*run_id, *req, &targets);
  if (!epoch.ok()) return Reply(epoch.status(), "BeginCheckpoint");
  resp->set_epoch(*epoch);
  for (v1::ReplicaTargets& rank : targets) *resp->add_replica_targets() = std::move(rank);
  if (enrollment_ != nullptr) {
    absl::StatusOr<std::pair<std::string, int32_t>> job = state_->JobOfRun(*run_id);
    if (!job.ok()) return Reply(job.status(), "BeginCheckpoint");
    enrollment_->IssueWriteGrants(job->first, *epoch, job->second, resp);
  }
  return grpc::Status::OK;
}

grpc::Status RssService::ReportPieces(grpc::ServerContext*, const v1::ReportPiecesRequest* req,
                                      v1::ReportPiecesResponse*) {
  absl::Status valid = ValidateReportPieces(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "ReportPieces");
  if (!run_id.ok()) return Reply(run_id.status(), "ReportPieces");
  return Reply(state_->ReportPieces(*run_id, *req), "ReportPieces");
}

grpc::Status RssService::ReportProgress(grpc::ServerContext*, const v1::ReportProgressRequest* req,
                                        v1::ReportProgressResponse*) {
  absl::Status valid = ValidateReportProgress(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "ReportProgress");
  if (!run_id.ok()) return Reply(run_id.status(), "ReportProgress");
  return Reply(state_->ReportProgress(*run_id, *req), "ReportProgress");
}

grpc::Status RssService::CommitCheckpoint(grpc::ServerContext*,
                                          const v1::CommitCheckpointRequest* req,
                                          v1::CommitCheckpointResponse*) {
  absl::Status valid = ValidateCommitCheckpoint(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "CommitCheckpoint");
  if (!run_id.ok()) return Reply(run_id.status(), "CommitCheckpoint");
  return Reply(state_->CommitCheckpoint(*run_id, *req), "CommitCheckpoint");
}

grpc::Status RssService::AbortCheckpoint(grpc::ServerContext*,
                                         const v1::AbortCheckpointRequest* req,
                                         v1::AbortCheckpointResponse*) {
  absl::Status valid = ValidateAbortCheckpoint(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "AbortCheckpoint");
  if (!run_id.ok()) return Reply(run_id.status(), "AbortCheckpoint");
  // The reason is free text from the client and goes into a log line: escaped.
  v1::AbortCheckpointRequest safe = *req;
  safe.set_reason(LogSafe(req->reason(), kMaxReasonBytes));
  return Reply(state_->AbortCheckpoint(*run_id, safe), "AbortCheckpoint");
}

grpc::Status RssService::ReportRestart(grpc::ServerContext*, const v1::ReportRestartRequest* req,
                                       v1::ReportRestartResponse*) {
  absl::Status valid = ValidateReportRestart(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "ReportRestart");
  if (!run_id.ok()) return Reply(run_id.status(), "ReportRestart");
  // An ended run's token can no longer change anything, not even its own figures.
  absl::StatusOr<RssState::RunFacts> run = state_->FactsOfRun(*run_id);
  if (!run.ok()) return Reply(run.status(), "ReportRestart");
  if (run->state != "running") {
    return ToGrpcStatus(absl::FailedPreconditionError(
        absl::StrCat("ReportRestart: run ", *run_id, " is ", run->state, ", not running")));
  }
  return Reply(state_->ReportRestart(*run_id, *req), "ReportRestart");
}

grpc::Status RssService::FinishRun(grpc::ServerContext*, const v1::FinishRunRequest* req,
                                   v1::FinishRunResponse*) {
  absl::Status valid = ValidateFinishRun(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::StatusOr<std::string> run_id = RunOf(req->run_token(), "FinishRun");
  if (!run_id.ok()) return Reply(run_id.status(), "FinishRun");
  return Reply(state_->FinishRun(*run_id), "FinishRun");
}

grpc::Status RssService::RegisterDepot(grpc::ServerContext*, const v1::RegisterDepotRequest* req,
                                       v1::RegisterDepotResponse* resp) {
  // The enrollment secret first (a stranger learns nothing about the request's shape); the
  // refusal names the host and address in the log only when they passed validation.
  absl::Status valid = ValidateRegisterDepot(*req);
  if (enrollment_ != nullptr) {
    absl::Status enrolled = enrollment_->CheckSecret(req->enroll_secret(), admin_token_);
    if (!enrolled.ok()) {
      if (valid.ok()) {
        SRS_LOG(WARNING).Field("host", req->host()).Field("address", req->address())
            << "depot enrollment refused: " << enrolled.message();
      } else {
        SRS_LOG(WARNING) << "depot enrollment refused (malformed request): " << enrolled.message();
      }
      return ToGrpcStatus(enrolled);
    }
  }
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::Status registered = state_->RegisterDepot(*req);
  if (!registered.ok()) return Reply(registered, "RegisterDepot");
  if (enrollment_ != nullptr) resp->set_grant_key(enrollment_->key().bytes());
  return grpc::Status::OK;
}

grpc::Status RssService::RequestStop(grpc::ServerContext*, const v1::RequestStopRequest* req,
                                     v1::RequestStopResponse* resp) {
  absl::Status valid =
      ValidateJobQuery("RequestStop", req->job(), req->admin_token(), req->owner_secret());
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::Status access =
      CheckJobAccess(req->admin_token(), req->owner_secret(), req->job(), "RequestStop");
  if (!access.ok()) return ToGrpcStatus(access);
  absl::StatusOr<int64_t> id = state_->RequestStop(req->job());
  if (!id.ok()) return Reply(id.status(), "RequestStop");
  resp->set_request_id(*id);
  return grpc::Status::OK;
}

grpc::Status RssService::RequestCheckpoint(grpc::ServerContext*,
                                           const v1::RequestCheckpointRequest* req,
                                           v1::RequestCheckpointResponse* resp) {
  absl::Status valid =
      ValidateJobQuery("RequestCheckpoint", req->job(), req->admin_token(), req->owner_secret());
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::Status access =
      CheckJobAccess(req->admin_token(), req->owner_secret(), req->job(), "RequestCheckpoint");
  if (!access.ok()) return ToGrpcStatus(access);
  absl::StatusOr<int64_t> id = state_->RequestCheckpoint(req->job());
  if (!id.ok()) return Reply(id.status(), "RequestCheckpoint");
  resp->set_request_id(*id);
  return grpc::Status::OK;
}

grpc::Status RssService::ListJobs(grpc::ServerContext*, const v1::ListJobsRequest* req,
                                  v1::ListJobsResponse* resp) {
  absl::Status admin = ValidateAdminQuery("ListJobs", req->admin_token());
  if (admin.ok()) admin = CheckAdmin(req->admin_token(), "ListJobs");
  if (!admin.ok()) return ToGrpcStatus(admin);
  for (v1::JobSummary& job : state_->ListJobs()) *resp->add_jobs() = std::move(job);
  return grpc::Status::OK;
}

grpc::Status RssService::GetJob(grpc::ServerContext*, const v1::GetJobRequest* req,
                                v1::GetJobResponse* resp) {
  absl::Status valid =
      ValidateJobQuery("GetJob", req->job(), req->admin_token(), req->owner_secret());
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::Status access =
      CheckJobAccess(req->admin_token(), req->owner_secret(), req->job(), "GetJob");
  if (!access.ok()) return ToGrpcStatus(access);
  absl::StatusOr<v1::GetJobResponse> job = state_->GetJob(req->job());
  if (!job.ok()) return Reply(job.status(), "GetJob");
  *resp = std::move(*job);
  return grpc::Status::OK;
}

grpc::Status RssService::ListDepots(grpc::ServerContext*, const v1::ListDepotsRequest* req,
                                    v1::ListDepotsResponse* resp) {
  absl::Status admin = ValidateAdminQuery("ListDepots", req->admin_token());
  if (admin.ok()) admin = CheckAdmin(req->admin_token(), "ListDepots");
  if (!admin.ok()) return ToGrpcStatus(admin);
  for (v1::DepotRecord& depot : state_->ListDepots()) {
    depot.clear_identity_hash();  // stored to check registrations, never shown
    *resp->add_depots() = std::move(depot);
  }
  return grpc::Status::OK;
}

grpc::Status RssService::EndRun(grpc::ServerContext*, const v1::EndRunRequest* req,
                                v1::EndRunResponse* resp) {
  if (req->job().empty() || req->run_id().empty()) {
    return Reply(absl::InvalidArgumentError("EndRun: give the job and the run id"), "EndRun");
  }
  absl::Status valid =
      ValidateJobQuery("EndRun", req->job(), req->admin_token(), req->owner_secret());
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::Status access =
      CheckJobAccess(req->admin_token(), req->owner_secret(), req->job(), "EndRun");
  if (!access.ok()) return ToGrpcStatus(access);
  absl::StatusOr<std::string> state =
      state_->EndRunByLauncher(req->job(), req->run_id(), req->reason().substr(0, 1000));
  if (!state.ok()) return Reply(state.status(), "EndRun");
  resp->set_state(*state);
  return grpc::Status::OK;
}

grpc::Status RssService::RepairJob(grpc::ServerContext*, const v1::RepairJobRequest* req,
                                   v1::RepairJobResponse* resp) {
  absl::Status valid = ValidateRepairJob(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::Status access =
      CheckJobAccess(req->admin_token(), req->owner_secret(), req->job(), "RepairJob");
  if (!access.ok()) return ToGrpcStatus(access);
  if (copier_ == nullptr) {
    return ToGrpcStatus(absl::UnimplementedError("RepairJob: this RSS cannot reach depots"));
  }
  absl::StatusOr<v1::RepairJobResponse> repaired = state_->RepairJob(req->job(), copier_);
  if (!repaired.ok()) return Reply(repaired.status(), "RepairJob");
  *resp = std::move(*repaired);
  return grpc::Status::OK;
}

grpc::Status RssService::DropCheckpoint(grpc::ServerContext*, const v1::DropCheckpointRequest* req,
                                        v1::DropCheckpointResponse* resp) {
  absl::Status valid = ValidateDropCheckpoint(*req);
  if (!valid.ok()) return ToGrpcStatus(valid);
  absl::Status access =
      CheckJobAccess(req->admin_token(), req->owner_secret(), req->job(), "DropCheckpoint");
  if (!access.ok()) return ToGrpcStatus(access);
  absl::StatusOr<std::string> state = state_->DropJobCheckpoint(req->job(), req->epoch());
  if (!state.ok()) return Reply(state.status(), "DropCheckpoint");
  resp->set_state(*state);
  return grpc::Status::OK;
}

}  // namespace srs
