// RssState: opening, loading, transactions, run registration, leases and watches.
// Checkpoints live in rss_checkpoints.cc, tool queries in rss_queries.cc.
#include "rss/rss_state.h"

#include <optional>
#include <set>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "rss/job_owner.h"
#include "rss/replica_placement.h"
#include "rss/run_ranks.h"

namespace srs {

namespace v1 = rss::v1;

namespace {

absl::Status ValidateRegister(const v1::RegisterRunRequest& req) {
  if (req.job().empty()) return absl::InvalidArgumentError("RegisterRun: job name is empty");
  if (req.nprocs() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterRun: job ", req.job(), ": nprocs must be >= 1, got ", req.nprocs()));
  }
  if (req.ranks_size() != req.nprocs()) {
    return absl::InvalidArgumentError(absl::StrCat("RegisterRun: job ", req.job(), ": ",
                                                   req.ranks_size(), " rank placements for ",
                                                   req.nprocs(), " processes"));
  }
  std::vector<bool> seen(req.nprocs());  // one bit a rank: a std::set took 48 MB at 2^20 ranks
  for (const v1::RankPlacement& rank : req.ranks()) {
    if (rank.rank() < 0 || rank.rank() >= req.nprocs() || seen[rank.rank()]) {
      return absl::InvalidArgumentError(absl::StrCat("RegisterRun: job ", req.job(), ": rank ",
                                                     rank.rank(), " is out of range or repeated"));
    }
    seen[rank.rank()] = true;
  }
  if (req.keep() < 0 || req.epoch() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterRun: job ", req.job(), ": keep and epoch must not be negative"));
  }
  absl::Status redundancy = CopiesForRedundancy(req.redundancy()).status();
  if (!redundancy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterRun: job ", req.job(), ": ", redundancy.message()));
  }
  return absl::OkStatus();
}

}  // namespace

RssState::RssState(std::unique_ptr<SqliteStore> store, DepotJanitor* janitor,
                   RssStateOptions options)
    : store_(std::move(store)),
      janitor_(janitor),
      options_(std::move(options)),
      registry_(options_.depot_down_timeout) {}

RssState::~RssState() = default;

absl::StatusOr<std::unique_ptr<RssState>> RssState::Open(const std::string& db_path,
                                                         DepotJanitor* janitor,
                                                         RssStateOptions options) {
  SRS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(db_path));
  std::unique_ptr<RssState> state(new RssState(std::move(store), janitor, std::move(options)));
  absl::MutexLock lock(&state->mu_);
  SRS_RETURN_IF_ERROR(state->Load());
  return state;
}

absl::Status RssState::Load() {
  SRS_ASSIGN_OR_RETURN(StoreSnapshot snap, store_->LoadAll());
  // Leases are not durable: keep what we know of live streams, give everyone else a fresh lease.
  std::map<std::string, Run> old_runs = std::move(runs_);
  jobs_.clear();
  runs_.clear();
  run_by_token_.clear();
  deletes_.clear();
  auto it = snap.meta.find("next_request_id");
  next_request_id_ = it == snap.meta.end() ? 1 : it->second;
  for (JobRow& row : snap.jobs) jobs_[row.name].row = std::move(row);
  for (RunRow& row : snap.runs) {
    Run& run = runs_[row.run_id];
    auto old = old_runs.find(row.run_id);
    run.watchers = old == old_runs.end() ? 0 : old->second.watchers;
    run.last_alive = old == old_runs.end() ? options_.clock() : old->second.last_alive;
    jobs_[row.job].run_ids.push_back(row.run_id);
    run_by_token_[row.token] = row.run_id;
    run.row = std::move(row);
    PackRanks(&run.row);
  }
  for (CheckpointRow& row : snap.checkpoints) {
    Checkpoint& ckpt = jobs_[row.job].checkpoints[row.summary.epoch()];
    ckpt.request_id = row.request_id;
    ckpt.summary = std::move(row.summary);
  }
  for (PieceRow& row : snap.pieces) {
    jobs_[row.job].checkpoints[row.epoch].pieces[row.record.rank()] = std::move(row.record);
  }
  registry_.Load(snap.depots);
  for (DeleteTask& task : snap.deletes) deletes_[task.id] = std::move(task);
  return absl::OkStatus();
}

absl::Status RssState::Transact(const std::function<absl::Status()>& fn) {
  absl::Status status = store_->Begin();
  if (status.ok()) status = fn();
  if (status.ok()) status = store_->Commit();
  if (!status.ok()) {
    store_->Rollback();
    absl::Status reload = Load();
    if (!reload.ok()) {
      SRS_LOG(ERROR) << "reloading state after a failed write: " << reload;
    }
  }
  Changed();
  return status;
}

absl::StatusOr<RssState::Run*> RssState::FindRun(const std::string& run_id) {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return absl::NotFoundError(absl::StrCat("run ", run_id, " is unknown"));
  return &it->second;
}

RssState::Run* RssState::CurrentRun(const Job& job) {
  if (job.run_ids.empty()) return nullptr;
  return &runs_.at(job.run_ids.back());
}

bool RssState::LeaseLive(const Run& run) const {
  return run.watchers > 0 || options_.clock() - run.last_alive < options_.lease;
}

absl::Status RssState::PutRun(const Run& run) { return store_->PutRun(run.row); }

absl::StatusOr<std::string> RssState::RunForToken(const std::string& token) const {
  absl::MutexLock lock(&mu_);
  auto it = run_by_token_.find(token);
  if (it == run_by_token_.end()) {
    return absl::PermissionDeniedError("run token is not known to this rss (stale or mistyped)");
  }
  return it->second;
}

absl::Status RssState::EndRun(Job* job, Run* run, const std::string& state) {
  v1::Configuration& config = run->row.config;
  config.set_state(state);
  config.set_ended_unix_ms(NowMs());
  run->row.stop_request = 0;
  run->row.checkpoint_request = 0;
  SRS_RETURN_IF_ERROR(PutRun(*run));
  for (auto& [epoch, ckpt] : job->checkpoints) {
    if (ckpt.summary.run_id() == run->row.run_id && ckpt.summary.state() == "pending") {
      SRS_RETURN_IF_ERROR(DropCheckpoint(job, epoch, "discarded"));
    }
  }
  return absl::OkStatus();
}

absl::Status RssState::MarkLost(Job* job, Run* run) {
  SRS_LOG(WARNING).Field("job", job->row.name).Field("run", run->row.run_id)
      << "run lost: no watch stream for " << absl::FormatDuration(options_.lease);
  return EndRun(job, run, "lost");
}

absl::Status RssState::CheckNoLiveRun(Job* job, bool force) {
  Run* run = CurrentRun(*job);
  if (run == nullptr || run->row.config.state() != "running") return absl::OkStatus();
  if (LeaseLive(*run) && !force) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job->row.name, " is still running as run ", run->row.run_id,
                     " (its lease is live: a watch stream is open or was seen within ",
                     absl::FormatDuration(options_.lease),
                     "); stop it first, wait for the lease to expire, or take over with --force"));
  }
  if (force) {
    SRS_LOG(WARNING).Field("job", job->row.name).Field("run", run->row.run_id)
        << "run taken over by a forced registration";
  }
  return MarkLost(job, run);
}

absl::StatusOr<const RssState::Checkpoint*> RssState::ChooseRestart(
    const Job& job, const v1::RegisterRunRequest& req) {
  if (req.mode() == v1::REGISTER_FRESH) return nullptr;
  std::vector<int64_t> committed;
  for (const auto& [epoch, ckpt] : job.checkpoints) {
    if (ckpt.summary.state() == "committed") committed.push_back(epoch);
  }
  if (req.epoch() != 0) {
    auto it = job.checkpoints.find(req.epoch());
    if (it == job.checkpoints.end() || it->second.summary.state() != "committed") {
      return absl::NotFoundError(
          absl::StrCat("job ", req.job(), " has no committed checkpoint at epoch ", req.epoch(),
                       committed.empty() ? " (it has none)" : " (committed epochs: ",
                       absl::StrJoin(committed, ", "), committed.empty() ? "" : ")"));
    }
    return &it->second;
  }
  if (committed.empty()) {
    if (req.mode() == v1::REGISTER_RESUME) {
      return absl::NotFoundError(
          absl::StrCat("job ", req.job(), " has no committed checkpoint to resume from"));
    }
    return nullptr;
  }
  return &job.checkpoints.at(committed.back());
}

absl::StatusOr<std::vector<std::string>> RssState::ResolveDepots(
    const v1::RegisterRunRequest& req) const {
  std::vector<std::string> out(req.nprocs());
  for (const v1::RankPlacement& rank : req.ranks()) {
    if (!rank.depot().empty() && rank.depot() != "auto") {
      out[rank.rank()] = rank.depot();
      continue;
    }
    // The live depot of the rank's host seen last; down ones get no new pieces.
    const absl::Time now = options_.clock();
    std::optional<v1::DepotRecord> best, down;
    for (const v1::DepotRecord& depot : registry_.List(now)) {
      if (depot.host() != rank.host()) continue;
      std::optional<v1::DepotRecord>& slot = depot.state() == "up" ? best : down;
      if (!slot || depot.last_seen_unix_ms() > slot->last_seen_unix_ms()) slot = depot;
    }
    if (!best && down) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", req.job(), ": rank ", rank.rank(), " asks for depot=auto but the depot of host '",
          rank.host(), "' (", down->depot_id(), " at ", down->address(), ") is down: not heard ",
          "from since ",
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixMillis(down->last_seen_unix_ms()),
                           absl::UTCTimeZone()),
          "; restart `srs-depot --host ", rank.host(), "` there or set depot = host:port"));
    }
    if (!best) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", req.job(), ": rank ", rank.rank(), " asks for depot=auto but no depot is ",
          "registered for host '", rank.host(), "'; start `srs-depot --host ", rank.host(),
          " --rss <rss>` there or set depot = host:port"));
    }
    out[rank.rank()] = best->address();
  }
  return out;
}

rss::v1::Manifest RssState::MakeManifest(const Checkpoint& ckpt) const {
  v1::Manifest manifest;
  manifest.set_epoch(ckpt.summary.epoch());
  manifest.set_nprocs(ckpt.summary.nprocs());
  *manifest.mutable_arrays() = ckpt.summary.arrays();
  const absl::Time now = options_.clock();
  for (const auto& [rank, piece] : ckpt.pieces) {
    *manifest.add_pieces() = registry_.PresentPiece(piece, now, /*strip_manage=*/true);
  }
  manifest.set_committed_unix_ms(ckpt.summary.committed_unix_ms());
  return manifest;
}

RssState::Run RssState::NewRun(const v1::RegisterRunRequest& req,
                               const std::vector<std::string>& depots, int64_t seq) const {
  Run run;
  run.row.job = req.job();
  run.row.seq = seq;
  run.row.run_id = absl::StrCat(req.job(), "-", seq);
  run.row.token = RandomHex(16);
  run.last_alive = options_.clock();
  v1::Configuration& config = run.row.config;
  config.set_run_id(run.row.run_id);
  config.set_nprocs(req.nprocs());
  // Packed in rank order straight from the request (ValidateRegister: the ranks are 0..n-1),
  // without a parsed copy of the placements (rss/run_ranks.h).
  std::vector<int> index_of_rank(req.nprocs());
  for (int i = 0; i < req.ranks_size(); ++i) index_of_rank[req.ranks(i).rank()] = i;
  v1::Configuration scratch;
  std::unordered_set<std::string> hosts;
  for (int i : index_of_rank) {
    const v1::RankPlacement& rank = req.ranks(i);
    NoteHost(rank.host(), &hosts, &run.row);
    AppendPackedRank(rank, depots[rank.rank()], &scratch, &run.row.ranks_wire);
  }
  run.row.ranks_wire.shrink_to_fit();  // kept for the run's life: no doubling slack
  config.set_redundancy(NormalizeRedundancy(req.redundancy()));
  config.set_started_unix_ms(NowMs());
  config.set_state("running");
  return run;
}

absl::Status RssState::AuthorizeRegistration(const v1::RegisterRunRequest& req, bool admin,
                                             bool* new_owner) const {
  auto found = jobs_.find(req.job());
  if (found == jobs_.end()) {
    *new_owner = true;  // the first registration makes the owner
    return absl::OkStatus();
  }
  const std::string& hash = found->second.row.owner_hash;
  if (hash.empty()) {
    if (admin) {
      *new_owner = true;  // adopted: the registration's success is logged with adopted=1
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat(
        "RegisterRun: job ", req.job(), " has no owner yet (it predates job ownership); register ",
        "it once with the admin token (token_file) to adopt it and receive its owner secret"));
  }
  if (admin || OwnerSecretMatches(req.owner_secret(), hash)) return absl::OkStatus();
  if (req.owner_secret().empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "RegisterRun: job ", req.job(), " already exists and belongs to its owner: present its ",
        "owner secret (owner_file) or the admin token (token_file)"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat("RegisterRun: wrong owner secret for job ", req.job()));
}

absl::Status RssState::CheckOwner(const std::string& job, const std::string& secret) const {
  absl::MutexLock lock(&mu_);
  auto found = jobs_.find(job);
  if (found != jobs_.end() && OwnerSecretMatches(secret, found->second.row.owner_hash)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the owner secret is not that of job ", job, " (or the job is unknown)"));
}

absl::StatusOr<RssState::RunFacts> RssState::FactsOfRun(const std::string& run_id) const {
  absl::MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return absl::NotFoundError(absl::StrCat("run ", run_id, " is unknown"));
  return RunFacts{it->second.row.config.nprocs(), it->second.row.config.state()};
}

absl::StatusOr<v1::RegisterRunResponse> RssState::RegisterRun(const v1::RegisterRunRequest& req,
                                                              bool admin) {
  SRS_RETURN_IF_ERROR(ValidateRegister(req));
  if (req.force() && !admin) {
    return absl::PermissionDeniedError("RegisterRun: force needs a valid admin token");
  }
  absl::MutexLock lock(&mu_);
  bool new_owner = false;
  SRS_RETURN_IF_ERROR(AuthorizeRegistration(req, admin, &new_owner));
  bool adopted = new_owner && jobs_.count(req.job()) != 0;
  if (new_owner && !adopted && options_.admit_new_job) {
    SRS_RETURN_IF_ERROR(options_.admit_new_job(static_cast<int64_t>(jobs_.size()), admin));
  }
  std::string owner_secret = new_owner ? NewOwnerSecret() : std::string();
  SRS_ASSIGN_OR_RETURN(std::vector<std::string> depots, ResolveDepots(req));
  // With redundancy, refuse now (SRS_Init fails with the reason) rather than at the first
  // checkpoint when the live depots cannot hold the copies.
  absl::Status placeable = PlaceCopies(depots, *CopiesForRedundancy(req.redundancy())).status();
  if (!placeable.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", req.job(), ": redundancy = ", req.redundancy(), ": ", placeable.message()));
  }
  // Refusals are decided before the transaction, so they change nothing.
  const Checkpoint* restart = nullptr;
  auto found = jobs_.find(req.job());
  Job empty_job;
  const Job& existing = found == jobs_.end() ? empty_job : found->second;
  Run* current = CurrentRun(existing);
  if (current != nullptr && current->row.config.state() == "running" && LeaseLive(*current) &&
      !req.force()) {
    return CheckNoLiveRun(&found->second, false);
  }
  SRS_ASSIGN_OR_RETURN(restart, ChooseRestart(existing, req));
  v1::RegisterRunResponse resp;
  absl::Status status = Transact([&]() -> absl::Status {
    Job& job = jobs_[req.job()];
    job.row.name = req.job();
    job.row.keep = req.keep() > 0 ? req.keep() : 1;
    if (new_owner) job.row.owner_hash = OwnerSecretHash(owner_secret);
    SRS_RETURN_IF_ERROR(CheckNoLiveRun(&job, req.force()));
    SRS_RETURN_IF_ERROR(store_->PutJob(job.row));
    Run run = NewRun(req, depots, static_cast<int64_t>(job.run_ids.size()) + 1);
    // A fresh start deletes nothing yet: the earlier checkpoints stay the restart point until
    // this run has one of its own (DropSuperseded), so a fresh run that dies early loses nothing.
    if (req.mode() == v1::REGISTER_FRESH) run.row.config.set_supersedes_earlier(true);
    if (restart != nullptr) {
      run.row.config.set_resumed_from_epoch(restart->summary.epoch());
      resp.set_restart(true);
      *resp.mutable_previous() = FullConfig(runs_.at(restart->summary.run_id()).row);
      *resp.mutable_manifest() = MakeManifest(*restart);
    }
    SRS_RETURN_IF_ERROR(PutRun(run));
    resp.set_run_id(run.row.run_id);
    resp.set_run_token(run.row.token);
    for (const std::string& depot : depots) resp.add_rank_depots(depot);
    resp.set_lease_seconds(absl::ToInt64Seconds(options_.lease));
    resp.set_commit_accepts_pieces(true);
    resp.set_next_epoch(job.row.next_epoch);
    if (new_owner) resp.set_owner_secret(owner_secret);
    job.run_ids.push_back(run.row.run_id);
    run_by_token_[run.row.token] = run.row.run_id;
    runs_[run.row.run_id] = std::move(run);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  SRS_LOG(INFO)
          .Field("job", req.job())
          .Field("run", resp.run_id())
          .Field("nprocs", req.nprocs())
          .Field("restart", resp.restart() ? 1 : 0)
          .Field("adopted", adopted ? 1 : 0)
      << "run registered";
  return resp;
}

absl::StatusOr<std::string> RssState::EndRunByLauncher(const std::string& job_name,
                                                       const std::string& run_id,
                                                       const std::string& reason) {
  absl::MutexLock lock(&mu_);
  auto found = jobs_.find(job_name);
  if (found == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job named ", job_name));
  Job& job = found->second;
  Run* current = CurrentRun(job);
  if (current == nullptr || current->row.run_id != run_id) {
    SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
    if (run->row.job != job_name) {
      return absl::InvalidArgumentError(
          absl::StrCat("run ", run_id, " belongs to job ", run->row.job, ", not ", job_name));
    }
    return run->row.config.state();  // superseded by a newer run: leave everything as it is
  }
  if (current->row.config.state() != "running") return current->row.config.state();
  SRS_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
    current->row.config.set_end_reason(reason);
    return EndRun(&job, current, "lost");
  }));
  SRS_LOG(WARNING).Field("job", job_name).Field("run", run_id)
      << "run ended by its launcher: " << reason;
  return std::string("lost");
}

absl::Status RssState::AttachWatch(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  const std::string& state = run->row.config.state();
  if (state != "running") {
    return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " is ", state,
                                                      state == "lost"
                                                          ? " (its lease expired); register again"
                                                          : "; it has nothing more to watch"));
  }
  ++run->watchers;
  run->last_alive = options_.clock();
  return absl::OkStatus();
}

void RssState::DetachWatch(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  if (it->second.watchers > 0) --it->second.watchers;
  it->second.last_alive = options_.clock();
}

WatchStatus RssState::WaitWatch(const std::string& run_id, int64_t generation,
                                absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto changed = [this, generation]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return generation_ != generation || shutting_down_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  WatchStatus out;
  out.generation = generation_;
  out.shutting_down = shutting_down_;
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return out;
  Run& run = it->second;
  run.last_alive = options_.clock();
  out.run_active = run.row.config.state() == "running";
  out.stop_request = run.row.stop_request;
  out.checkpoint_request = run.row.checkpoint_request;
  return out;
}

void RssState::ShutdownWatches() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
}

int RssState::SweepLostRuns() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> expired;
  for (auto& [name, job] : jobs_) {
    Run* run = CurrentRun(job);
    if (run != nullptr && run->row.config.state() == "running" && !LeaseLive(*run)) {
      expired.push_back(name);
    }
  }
  int lost = 0;
  for (const std::string& name : expired) {
    // Looked up afresh: a failed transaction reloads the maps.
    auto it = jobs_.find(name);
    if (it == jobs_.end()) continue;
    Run* run = CurrentRun(it->second);
    absl::Status status = Transact([&] { return MarkLost(&it->second, run); });
    if (!status.ok()) {
      SRS_LOG(ERROR).Field("job", name) << "marking a run lost failed: " << status;
      continue;
    }
    ++lost;
  }
  return lost;
}

absl::StatusOr<int64_t> RssState::NextRequestId() {
  int64_t id = next_request_id_++;
  SRS_RETURN_IF_ERROR(store_->PutMeta("next_request_id", next_request_id_));
  return id;
}

}  // namespace srs
