// RssState: the depot registry, stop/checkpoint requests and the tools' queries.
#include <set>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "rss/job_owner.h"
#include "rss/rss_state.h"
#include "rss/run_ranks.h"

namespace srs {

namespace v1 = rss::v1;

absl::Status RssState::RegisterDepot(const v1::RegisterDepotRequest& req) {
  if (req.address().empty() || req.host().empty()) {
    return absl::InvalidArgumentError("RegisterDepot: a depot needs a host and an address");
  }
  if (req.capacity_bytes() < 0 || req.free_bytes() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterDepot: depot ", req.address(), ": negative capacity or free space"));
  }
  if (req.heartbeat_seconds() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterDepot: depot ", req.address(), ": negative heartbeat_seconds"));
  }
  const absl::Time now = options_.clock();
  absl::MutexLock lock(&mu_);
  v1::DepotRecord depot = registry_.RecordOf(req, now);
  const v1::DepotRecord* before = registry_.ById(depot.depot_id());
  // The id is bound to the first identity key presented for it (older records have none yet).
  const std::string presented =
      req.identity_key().empty() ? "" : OwnerSecretHash(req.identity_key());
  if (before != nullptr && !before->identity_hash().empty() &&
      before->identity_hash() != presented) {
    SRS_LOG(WARNING).Field("depot", depot.depot_id()).Field("address", req.address())
        << "registration refused: another identity key";
    return absl::PermissionDeniedError(absl::StrCat(
        "RegisterDepot: depot id ", depot.depot_id(),
        " belongs to another depot (its identity key, <dir>/depot.key, differs); a depot that "
        "lost its key registers under a new id (start it on an empty --dir)"));
  }
  depot.set_identity_hash(presented.empty() && before != nullptr ? before->identity_hash()
                                                                 : presented);
  const bool is_new = before == nullptr;
  const bool was_down = before != nullptr && !registry_.DepotIsUp(*before, now);
  std::string moved_from;
  SRS_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
    SRS_RETURN_IF_ERROR(store_->PutDepot(depot));
    moved_from = registry_.Put(depot);
    return absl::OkStatus();
  }));
  if (is_new || was_down || !moved_from.empty()) {
    // Pieces are located by id: a new address is where the depot's copies are read from now.
    SRS_LOG(INFO)
            .Field("depot", depot.depot_id())
            .Field("host", depot.host())
            .Field("failure_domain", depot.failure_domain())
            .Field("address", depot.address())
            .Field("previous_address", moved_from)
        << (is_new                ? "depot registered"
            : !moved_from.empty() ? "depot moved to a new address"
                                  : "depot is up again");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RssState::SetRequest(const std::string& job_name, int64_t RunRow::*field,
                                             const char* what) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_name);
  Run* run = it == jobs_.end() ? nullptr : CurrentRun(it->second);
  if (run == nullptr) return absl::NotFoundError(absl::StrCat("no job named ", job_name));
  if (run->row.config.state() != "running") {
    return absl::FailedPreconditionError(absl::StrCat("job ", job_name, " is not running (run ",
                                                      run->row.run_id, " is ",
                                                      run->row.config.state(), ")"));
  }
  if (run->row.*field != 0) return run->row.*field;  // already pending: same request
  int64_t id = 0;
  SRS_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
    SRS_ASSIGN_OR_RETURN(id, NextRequestId());
    run->row.*field = id;
    return PutRun(*run);
  }));
  SRS_LOG(INFO).Field("job", job_name).Field("request", id) << what << " requested";
  return id;
}

absl::StatusOr<int64_t> RssState::RequestStop(const std::string& job) {
  return SetRequest(job, &RunRow::stop_request, "stop");
}

absl::StatusOr<int64_t> RssState::RequestCheckpoint(const std::string& job) {
  return SetRequest(job, &RunRow::checkpoint_request, "checkpoint");
}

v1::JobSummary RssState::Summarize(const Job& job) const {
  v1::JobSummary out;
  out.set_job(job.row.name);
  if (!job.run_ids.empty()) {
    const Run& run = runs_.at(job.run_ids.back());
    out.set_state(run.row.config.state());
    out.set_nprocs(run.row.config.nprocs());
    for (std::string& host : HostsOf(run.row)) out.add_hosts(std::move(host));
    out.set_stop_pending(run.row.stop_request != 0);
    if (run.row.config.has_failure()) *out.mutable_failure() = run.row.config.failure();
  }
  for (auto it = job.checkpoints.rbegin(); it != job.checkpoints.rend(); ++it) {
    const v1::CheckpointSummary& summary = it->second.summary;
    if (summary.state() != "committed") continue;
    out.set_last_epoch(summary.epoch());
    out.set_last_checkpoint_bytes(summary.timings().bytes());
    out.set_last_checkpoint_unix_ms(summary.committed_unix_ms());
    break;
  }
  return out;
}

std::vector<v1::JobSummary> RssState::ListJobs() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::JobSummary> out;
  for (const auto& [name, job] : jobs_) out.push_back(Summarize(job));
  return out;
}

absl::StatusOr<v1::GetJobResponse> RssState::GetJob(const std::string& job_name) const {
  if (job_name.empty()) return absl::InvalidArgumentError("no job name given");
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_name);
  if (it == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job named ", job_name));
  const Job& job = it->second;
  v1::GetJobResponse out;
  *out.mutable_summary() = Summarize(job);
  for (const std::string& run_id : job.run_ids) {
    const Run& run = runs_.at(run_id);
    v1::Configuration* config = out.add_runs();
    *config = FullConfig(run.row);
    if (config->state() == "running") {
      // Lets a launcher that finds the job still running say how long its lease has left.
      config->set_watched(run.watchers > 0);
      if (run.watchers == 0) {
        config->set_lease_expires_unix_ms(absl::ToUnixMillis(run.last_alive + options_.lease));
      }
    }
  }
  for (const auto& [epoch, ckpt] : job.checkpoints) {
    v1::CheckpointSummary* summary = out.add_checkpoints();
    *summary = ckpt.summary;
    if (summary->state() == "pending") {
      summary->set_progress_bytes(ckpt.progress_bytes);
      summary->set_progress_total_bytes(ckpt.progress_total_bytes);
    }
    const absl::Time now = options_.clock();
    for (const auto& [rank, piece] : ckpt.pieces) {
      *summary->add_pieces() = registry_.PresentPiece(piece, now, /*strip_manage=*/true);
    }
  }
  return out;
}

std::vector<v1::DepotRecord> RssState::ListDepots() const {
  absl::MutexLock lock(&mu_);
  return registry_.List(options_.clock());
}

}  // namespace srs
