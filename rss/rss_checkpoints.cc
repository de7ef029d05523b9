// RssState: the two-phase checkpoint commit, retention, the end of a run, and the durable queue
// of piece deletions.
#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "rss/client/piece_copies.h"
#include "rss/replica_placement.h"
#include "rss/rss_state.h"
#include "rss/run_ranks.h"

namespace srs {

namespace v1 = rss::v1;

namespace {

const std::set<std::string>& KnownKinds() {
  static const std::set<std::string> kinds = {
      "", "none", "block", "cyclic", "block_cyclic", "block_cyclic_2d", "map", "func"};
  return kinds;
}

absl::Status ValidateArrays(const v1::BeginCheckpointRequest& req, int32_t nprocs) {
  std::set<std::string> names;
  for (const v1::ArraySpec& array : req.arrays()) {
    if (array.name().empty() || !names.insert(array.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("BeginCheckpoint: array name '", array.name(), "' is empty or given twice"));
    }
    if (array.srs_type().empty() || array.global_count() < 0 ||
        KnownKinds().count(array.distribution().kind()) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "BeginCheckpoint: array ", array.name(), ": needs a type, a global_count >= 0 and a ",
          "known distribution kind (got '", array.distribution().kind(), "')"));
    }
    if (array.local_counts_size() != 0 && array.local_counts_size() != nprocs) {
      return absl::InvalidArgumentError(absl::StrCat("BeginCheckpoint: array ", array.name(), ": ",
                                                     array.local_counts_size(),
                                                     " local counts for ", nprocs, " ranks"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePiece(absl::string_view call, const v1::PieceRecord& piece, int32_t nprocs,
                           const std::string& run) {
  if (piece.rank() < 0 || piece.rank() >= nprocs) {
    return absl::InvalidArgumentError(absl::StrCat(call, ": rank ", piece.rank(),
                                                   " does not exist in run ", run, " (ranks 0..",
                                                   nprocs - 1, ")"));
  }
  if (piece.depot_address().empty() || piece.read_cap().empty() || piece.manage_cap().empty() ||
      piece.size_bytes() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(call, ": rank ", piece.rank(),
                     ": a piece needs a depot address, read and manage capabilities and a size"));
  }
  if (piece.copies_size() > kMaxCopies) {
    return absl::InvalidArgumentError(absl::StrCat(
        call, ": rank ", piece.rank(), ": ", piece.copies_size(), " copies; at most ", kMaxCopies));
  }
  std::set<std::string> depots;
  for (const v1::PieceCopy& copy : piece.copies()) {
    if (copy.depot_address().empty() || copy.read_cap().empty() || copy.manage_cap().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(call, ": rank ", piece.rank(),
                       ": every copy needs a depot address and read and manage capabilities"));
    }
    if (!depots.insert(copy.depot_id().empty() ? copy.depot_address() : copy.depot_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(call, ": rank ", piece.rank(), ": two copies on the same depot"));
    }
  }
  if (piece.copies_size() > 0 && (piece.copies(0).depot_address() != piece.depot_address() ||
                                  piece.copies(0).read_cap() != piece.read_cap() ||
                                  piece.copies(0).manage_cap() != piece.manage_cap())) {
    return absl::InvalidArgumentError(absl::StrCat(
        call, ": rank ", piece.rank(),
        ": the legacy fields (depot_address, read_cap, manage_cap) must mirror copies[0]"));
  }
  return absl::OkStatus();
}

bool SamePiece(const v1::PieceRecord& a, const v1::PieceRecord& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

absl::Duration Backoff(int attempts) {
  return std::min(absl::Seconds(60), absl::Milliseconds(500) * (1 << std::min(attempts, 7)));
}

}  // namespace

absl::Status RssState::PutCheckpoint(const Job& job, const Checkpoint& ckpt) {
  return store_->PutCheckpoint({job.row.name, ckpt.request_id, ckpt.summary});
}

absl::StatusOr<RssState::Checkpoint*> RssState::FindPending(const Run& run, int64_t epoch) {
  Job& job = jobs_.at(run.row.job);
  auto it = job.checkpoints.find(epoch);
  if (it == job.checkpoints.end()) {
    return absl::NotFoundError(
        absl::StrCat("job ", run.row.job, " has no checkpoint with epoch ", epoch));
  }
  const v1::CheckpointSummary& summary = it->second.summary;
  if (summary.run_id() != run.row.run_id) {
    return absl::FailedPreconditionError(absl::StrCat("checkpoint epoch ", epoch,
                                                      " belongs to run ", summary.run_id(),
                                                      ", not to run ", run.row.run_id));
  }
  if (summary.state() != "pending") {
    return absl::FailedPreconditionError(absl::StrCat("checkpoint epoch ", epoch, " of job ",
                                                      run.row.job, " is ", summary.state(),
                                                      ", not pending"));
  }
  return &it->second;
}

absl::StatusOr<int64_t> RssState::BeginCheckpoint(
    const std::string& run_id, const v1::BeginCheckpointRequest& req,
    std::vector<v1::ReplicaTargets>* replica_targets) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  if (run->row.config.state() != "running") {
    return absl::FailedPreconditionError(
        absl::StrCat("BeginCheckpoint: run ", run_id, " is ", run->row.config.state()));
  }
  SRS_RETURN_IF_ERROR(ValidateArrays(req, run->row.config.nprocs()));
  // Where each rank's copies go, decided now over the depots that are up now (a retried begin
  // gets them afresh: the commit checks the copies' failure domains, not these targets).
  const int copies = CopiesForRedundancy(run->row.config.redundancy()).value_or(1);
  std::vector<std::string> rank_depots;
  if (copies > 1) {  // the placements are kept packed (rss/run_ranks.h): parsed only when needed
    const v1::Configuration config = FullConfig(run->row);  // a local: ranks() refers into it
    for (const v1::RankPlacement& rank : config.ranks()) rank_depots.push_back(rank.depot());
  }
  absl::StatusOr<std::vector<v1::ReplicaTargets>> targets = PlaceCopies(rank_depots, copies);
  if (!targets.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "BeginCheckpoint: run ", run_id, ": redundancy = ", run->row.config.redundancy(), ": ",
        targets.status().message()));
  }
  if (replica_targets != nullptr && copies > 1) *replica_targets = std::move(*targets);
  if (!req.attempt_id().empty()) {
    // A retry of a begin whose answer was lost: the same epoch again, not a second checkpoint.
    for (const auto& [pending_epoch, ckpt] : jobs_.at(run->row.job).checkpoints) {
      if (ckpt.summary.attempt_id() == req.attempt_id() && ckpt.summary.run_id() == run_id &&
          ckpt.summary.state() == "pending") {
        return pending_epoch;
      }
    }
  }
  int64_t epoch = 0;
  SRS_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
    Job& job = jobs_.at(run->row.job);
    epoch = job.row.next_epoch++;
    SRS_RETURN_IF_ERROR(store_->PutJob(job.row));
    Checkpoint& ckpt = job.checkpoints[epoch];
    ckpt.request_id = req.request_id();
    v1::CheckpointSummary& summary = ckpt.summary;
    summary.set_epoch(epoch);
    summary.set_run_id(run_id);
    summary.set_state("pending");
    summary.set_reason(req.reason());
    summary.set_created_unix_ms(NowMs());
    *summary.mutable_arrays() = req.arrays();
    summary.set_nprocs(run->row.config.nprocs());
    summary.set_attempt_id(req.attempt_id());
    if (copies > 1) summary.set_copies_required(copies);
    return PutCheckpoint(job, ckpt);
  }));
  SRS_LOG(INFO).Field("run", run_id).Field("epoch", epoch) << "checkpoint begun";
  return epoch;
}

absl::StatusOr<std::pair<std::string, int32_t>> RssState::JobOfRun(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  return std::make_pair(run->row.job, run->row.config.nprocs());
}

absl::StatusOr<std::vector<v1::PieceRecord>> RssState::FreshPieces(
    absl::string_view call, const std::string& run_id, const Checkpoint& ckpt,
    const google::protobuf::RepeatedPtrField<v1::PieceRecord>& reported_pieces) {
  std::vector<bool> in_request(ckpt.summary.nprocs());  // a bit a rank (a set: 40 B a rank)
  std::vector<v1::PieceRecord> fresh;
  for (const v1::PieceRecord& reported : reported_pieces) {
    // Checked as reported (the legacy fields must mirror copies[0]: a client that says two
    // things is refused, not corrected), then stored with every copy named by depot id (an old
    // client's legacy fields become copies[0]).
    SRS_RETURN_IF_ERROR(ValidatePiece(call, reported, ckpt.summary.nprocs(), run_id));
    v1::PieceRecord piece = registry_.NormalizePiece(reported);
    if (in_request[piece.rank()]) {
      return absl::InvalidArgumentError(
          absl::StrCat(call, ": rank ", piece.rank(), " appears twice in one request"));
    }
    in_request[piece.rank()] = true;
    auto old = ckpt.pieces.find(piece.rank());
    if (old == ckpt.pieces.end()) {
      fresh.push_back(std::move(piece));
    } else if (!SamePiece(old->second, piece)) {
      return absl::AlreadyExistsError(absl::StrCat(call, ": rank ", piece.rank(),
                                                   " already reported a different piece for "
                                                   "epoch ",
                                                   ckpt.summary.epoch()));
    }  // the same record again is a retry after a lost answer: accepted
  }
  return fresh;
}

absl::Status RssState::StorePieces(const std::string& job, Checkpoint* ckpt,
                                   const std::vector<v1::PieceRecord>& fresh) {
  for (const v1::PieceRecord& piece : fresh) {
    SRS_RETURN_IF_ERROR(store_->PutPiece({job, ckpt->summary.epoch(), piece}));
    ckpt->pieces[piece.rank()] = piece;
  }
  return absl::OkStatus();
}

absl::Status RssState::ReportPieces(const std::string& run_id, const v1::ReportPiecesRequest& req) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  SRS_ASSIGN_OR_RETURN(Checkpoint * ckpt, FindPending(*run, req.epoch()));
  SRS_ASSIGN_OR_RETURN(std::vector<v1::PieceRecord> fresh,
                       FreshPieces("ReportPieces", run_id, *ckpt, req.pieces()));
  if (fresh.empty()) return absl::OkStatus();
  const std::string job = run->row.job;
  return Transact([&]() -> absl::Status { return StorePieces(job, ckpt, fresh); });
}

absl::Status RssState::ReportProgress(const std::string& run_id,
                                      const v1::ReportProgressRequest& req) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  SRS_ASSIGN_OR_RETURN(Checkpoint * ckpt, FindPending(*run, req.epoch()));
  ckpt->progress_bytes = req.done_bytes();
  ckpt->progress_total_bytes = req.total_bytes();
  return absl::OkStatus();
}

absl::StatusOr<RssState::CapsByDepot> RssState::CapsToPin(const std::string& run_id,
                                                          const v1::CommitCheckpointRequest& req,
                                                          std::vector<v1::PieceRecord>* fresh,
                                                          bool* committed) {
  const int64_t epoch = req.epoch();
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  Job& job = jobs_.at(run->row.job);
  auto it = job.checkpoints.find(epoch);
  *committed = it != job.checkpoints.end() && it->second.summary.run_id() == run_id &&
               it->second.summary.state() == "committed";
  if (*committed) return CapsByDepot();  // a retry after a lost answer
  SRS_ASSIGN_OR_RETURN(Checkpoint * ckpt, FindPending(*run, epoch));
  SRS_ASSIGN_OR_RETURN(*fresh, FreshPieces("CommitCheckpoint", run_id, *ckpt, req.pieces()));
  // What the commit will hold: the reported pieces and the ones it brings. Checked on a copy
  // (the pieces it brings are stored only by MarkCommitted's transaction, after the pin).
  Checkpoint whole;
  if (!fresh->empty()) {
    whole.summary = ckpt->summary;
    whole.pieces = ckpt->pieces;
    for (const v1::PieceRecord& piece : *fresh) whole.pieces[piece.rank()] = piece;
    ckpt = &whole;
  }
  std::vector<int32_t> missing;
  for (int32_t rank = 0; rank < ckpt->summary.nprocs(); ++rank) {
    if (ckpt->pieces.count(rank) == 0) missing.push_back(rank);
  }
  if (!missing.empty()) {
    size_t count = missing.size();
    if (missing.size() > 20) missing.resize(20);
    return absl::FailedPreconditionError(
        absl::StrCat("CommitCheckpoint: job ", job.row.name, " epoch ", epoch, ": ", count, " of ",
                     ckpt->summary.nprocs(), " ranks have not reported pieces (ranks ",
                     absl::StrJoin(missing, ", "), count > 20 ? ", ...)" : ")"));
  }
  SRS_RETURN_IF_ERROR(CheckCopies(*ckpt, ckpt->summary.copies_required()));
  // Every copy is pinned: an unpinned copy would be reclaimed by its lease.
  CapsByDepot caps;
  for (const auto& [rank, piece] : ckpt->pieces) {
    for (const v1::PieceCopy& copy : CopiesOf(piece)) {
      caps[CopyAddress(copy)].push_back(copy.manage_cap());
    }
  }
  return caps;
}

absl::Status RssState::CommitCheckpoint(const std::string& run_id,
                                        const v1::CommitCheckpointRequest& req) {
  bool committed = false;
  std::vector<v1::PieceRecord> fresh;
  SRS_ASSIGN_OR_RETURN(CapsByDepot caps_by_depot, CapsToPin(run_id, req, &fresh, &committed));
  if (committed) return absl::OkStatus();
  // Pinning talks to depots: done without the lock. Until it succeeds the checkpoint stays
  // pending and the previous committed one stays the restart point. The pieces the request
  // brings are pinned before they are stored: should this RSS die in between, the library's
  // retry of the commit pins and stores them again, and a library that gives up deletes its
  // pieces (only both dying at once leaves pinned pieces no checkpoint names). A commit that
  // fails once pinning has begun keeps them (FailedCommitKeeps), so whatever ends the
  // checkpoint deletes them too.
  absl::Time pin_start = absl::Now();
  absl::Status done;
  for (const auto& [depot, caps] : caps_by_depot) {
    absl::Status pinned = janitor_->Pin(depot, caps);
    if (!pinned.ok()) {
      SRS_LOG(WARNING).Field("run", run_id).Field("epoch", req.epoch()).Field("depot", depot)
          << "commit failed, pieces not pinned: " << pinned;
      done = Annotate(pinned, absl::StrCat("CommitCheckpoint epoch ", req.epoch(),
                                           ": pinning pieces on depot ", depot));
      break;
    }
  }
  if (done.ok()) done = MarkCommitted(run_id, req, fresh, absl::Now() - pin_start);
  if (!done.ok() && !fresh.empty()) FailedCommitKeeps(run_id, req.epoch(), fresh);
  return done;
}

void RssState::FailedCommitKeeps(const std::string& run_id, int64_t epoch,
                                 const std::vector<v1::PieceRecord>& fresh) {
  absl::MutexLock lock(&mu_);
  absl::Status kept = [&]() -> absl::Status {
    SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
    Job& job = jobs_.at(run->row.job);
    absl::StatusOr<Checkpoint*> pending = FindPending(*run, epoch);
    std::vector<v1::PieceRecord> to_store, to_delete;
    for (const v1::PieceRecord& piece : fresh) {
      if (!pending.ok()) {
        to_delete.push_back(piece);  // the checkpoint ended meanwhile: nothing will name them
        continue;
      }
      auto old = (*pending)->pieces.find(piece.rank());
      if (old == (*pending)->pieces.end()) {
        to_store.push_back(piece);
      } else if (!SamePiece(old->second, piece)) {
        to_delete.push_back(piece);  // another piece of that rank was reported meanwhile
      }
    }
    return Transact([&]() -> absl::Status {
      if (!to_store.empty()) SRS_RETURN_IF_ERROR(StorePieces(job.row.name, *pending, to_store));
      for (const v1::PieceRecord& piece : to_delete) {
        SRS_RETURN_IF_ERROR(QueuePieceDeletion(job.row.name, epoch, piece));
      }
      return absl::OkStatus();
    });
  }();
  if (!kept.ok()) {
    SRS_LOG(WARNING).Field("run", run_id).Field("epoch", epoch)
        << "the pieces of a failed commit are neither stored nor queued for deletion (their "
           "library deletes them when it gives up): "
        << kept;
  }
}

absl::Status RssState::MarkCommitted(const std::string& run_id,
                                     const v1::CommitCheckpointRequest& req,
                                     const std::vector<v1::PieceRecord>& fresh,
                                     absl::Duration pin_time) {
  absl::MutexLock lock(&mu_);
  // Looked up again: the run may have been lost (and this checkpoint discarded) meanwhile.
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  SRS_ASSIGN_OR_RETURN(Checkpoint * ckpt, FindPending(*run, req.epoch()));
  Job& job = jobs_.at(run->row.job);
  // A concurrent ReportPieces may have stored some of them meanwhile: the same record is fine,
  // a different one refuses the commit.
  std::vector<v1::PieceRecord> to_store;
  for (const v1::PieceRecord& piece : fresh) {
    auto old = ckpt->pieces.find(piece.rank());
    if (old == ckpt->pieces.end()) {
      to_store.push_back(piece);
    } else if (!SamePiece(old->second, piece)) {
      return absl::AlreadyExistsError(absl::StrCat("CommitCheckpoint: rank ", piece.rank(),
                                                   " reported a different piece for epoch ",
                                                   req.epoch(), " meanwhile"));
    }
  }
  SRS_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
    SRS_RETURN_IF_ERROR(StorePieces(job.row.name, ckpt, to_store));
    v1::CheckpointSummary& summary = ckpt->summary;
    summary.set_state("committed");
    summary.set_committed_unix_ms(NowMs());
    *summary.mutable_timings() = req.timings();
    if (summary.timings().bytes() == 0) {
      int64_t bytes = 0;
      for (const auto& [rank, piece] : ckpt->pieces) bytes += piece.size_bytes();
      summary.mutable_timings()->set_bytes(bytes);
    }
    if (summary.timings().commit_seconds() == 0) {
      summary.mutable_timings()->set_commit_seconds(absl::ToDoubleSeconds(pin_time));
    }
    SRS_RETURN_IF_ERROR(PutCheckpoint(job, *ckpt));
    if (run->row.config.supersedes_earlier()) {
      SRS_RETURN_IF_ERROR(DropSuperseded(&job, run_id));
    }
    if (summary.reason() == v1::REASON_STOP) {
      SRS_RETURN_IF_ERROR(EndRun(&job, run, "stopped"));
    } else if (ckpt->request_id != 0 && ckpt->request_id == run->row.checkpoint_request) {
      run->row.checkpoint_request = 0;
      SRS_RETURN_IF_ERROR(PutRun(*run));
    }
    return ApplyRetention(&job);
  }));
  SRS_LOG(INFO)
          .Field("job", job.row.name)
          .Field("epoch", req.epoch())
          .Field("pieces", static_cast<long long>(ckpt->pieces.size()))
      << "checkpoint committed";
  return absl::OkStatus();
}

absl::Status RssState::ApplyRetention(Job* job) {
  std::vector<int64_t> committed;
  for (const auto& [epoch, ckpt] : job->checkpoints) {
    if (ckpt.summary.state() == "committed") committed.push_back(epoch);
  }
  int64_t excess = static_cast<int64_t>(committed.size()) - job->row.keep;
  for (int64_t i = 0; i < excess; ++i) {
    SRS_RETURN_IF_ERROR(DropCheckpoint(job, committed[i], "deleted"));
  }
  return absl::OkStatus();
}

absl::Status RssState::DropSuperseded(Job* job, const std::string& run_id) {
  for (auto& [epoch, ckpt] : job->checkpoints) {
    if (ckpt.summary.state() == "committed" && ckpt.summary.run_id() != run_id) {
      SRS_RETURN_IF_ERROR(DropCheckpoint(job, epoch, "deleted"));
    }
  }
  return absl::OkStatus();
}

absl::Status RssState::QueuePieceDeletion(const std::string& job, int64_t epoch,
                                          const v1::PieceRecord& piece, int64_t now_ms) {
  if (now_ms == 0) now_ms = NowMs();
  // Every copy: a replica left behind would leak its depot's space for good once pinned.
  // By depot id: the address is looked up when the deletion is tried.
  for (const v1::PieceCopy& copy : CopiesOf(piece)) {
    DeleteTask task{0,
                    CopyAddress(copy),
                    copy.manage_cap(),
                    absl::StrCat("job ", job, " epoch ", epoch, " rank ", piece.rank(),
                                 copy.depot_id().empty() ? "" : " on depot ", copy.depot_id()),
                    0,
                    now_ms,
                    copy.depot_id(),
                    false};
    SRS_RETURN_IF_ERROR(store_->EnqueueDelete(&task));
    deletes_[task.id] = std::move(task);
  }
  return absl::OkStatus();
}

absl::Status RssState::DropCheckpoint(Job* job, int64_t epoch, const std::string& state) {
  Checkpoint& ckpt = job->checkpoints.at(epoch);
  ckpt.summary.set_state(state);
  int64_t now = NowMs();
  for (const auto& [rank, piece] : ckpt.pieces) {
    SRS_RETURN_IF_ERROR(QueuePieceDeletion(job->row.name, epoch, piece, now));
  }
  SRS_RETURN_IF_ERROR(store_->DeletePieces(job->row.name, epoch));
  ckpt.pieces.clear();
  // History keeps names, types, sizes and timings; the per-rank counts (ranks x arrays) are only
  // needed to restart, and would make a long job's history grow without bound.
  for (v1::ArraySpec& array : *ckpt.summary.mutable_arrays()) array.clear_local_counts();
  SRS_LOG(INFO).Field("job", job->row.name).Field("epoch", epoch).Field("state", state)
      << "checkpoint dropped, pieces queued for deletion";
  return PutCheckpoint(*job, ckpt);
}

absl::Status RssState::AbortCheckpoint(const std::string& run_id,
                                       const v1::AbortCheckpointRequest& req) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  Job& job = jobs_.at(run->row.job);
  auto it = job.checkpoints.find(req.epoch());
  if (it != job.checkpoints.end() && it->second.summary.run_id() == run_id &&
      it->second.summary.state() == "discarded") {
    return absl::OkStatus();  // already gone: aborting twice is harmless
  }
  SRS_RETURN_IF_ERROR(FindPending(*run, req.epoch()).status());
  SRS_LOG(WARNING).Field("run", run_id).Field("epoch", req.epoch())
      << "checkpoint aborted: " << req.reason();
  return Transact([&] {
    // Kept with the discarded checkpoint: `srs stop --wait` and `srs ls` say why it failed.
    job.checkpoints.at(req.epoch()).summary.set_failure(req.reason().substr(0, 4096));
    return DropCheckpoint(&job, req.epoch(), "discarded");
  });
}

absl::Status RssState::ReportRestart(const std::string& run_id,
                                     const v1::ReportRestartRequest& req) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  return Transact([&] {
    run->row.config.set_restart_read_seconds(req.read_seconds());
    run->row.config.set_restart_bytes(req.bytes());
    return PutRun(*run);
  });
}

absl::Status RssState::FinishRun(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  SRS_ASSIGN_OR_RETURN(Run * run, FindRun(run_id));
  const std::string& state = run->row.config.state();
  if (state == "finished") return absl::OkStatus();
  if (state != "running") {
    return absl::FailedPreconditionError(
        absl::StrCat("FinishRun: run ", run_id, " is ", state, ", not running"));
  }
  Job& job = jobs_.at(run->row.job);
  SRS_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
    SRS_RETURN_IF_ERROR(EndRun(&job, run, "finished"));
    for (auto& [epoch, ckpt] : job.checkpoints) {
      if (ckpt.summary.state() == "committed") {
        SRS_RETURN_IF_ERROR(DropCheckpoint(&job, epoch, "deleted"));
      }
    }
    return absl::OkStatus();
  }));
  SRS_LOG(INFO).Field("job", job.row.name).Field("run", run_id) << "job finished";
  return absl::OkStatus();
}

int RssState::ProcessDeleteQueue() {
  absl::MutexLock one_at_a_time(&delete_mu_);
  std::vector<DeleteTask> due;
  {
    absl::MutexLock lock(&mu_);
    int64_t now = NowMs();
    for (const auto& [id, task] : deletes_) {
      if (task.next_try_unix_ms > now) continue;
      due.push_back(task);
      // Depots are known by id: a depot that moved is asked at its current address.
      const v1::DepotRecord* depot =
          task.depot_id.empty() ? nullptr : registry_.ById(task.depot_id);
      if (depot == nullptr) continue;
      due.back().depot = depot->address();
      if (!registry_.DepotIsUp(*depot, options_.clock())) due.back().depot_down = true;
    }
    if (due.empty()) return static_cast<int>(deletes_.size());
  }
  std::vector<std::pair<DeleteTask, absl::Status>> results;
  std::set<std::string> unreachable;  // skip the rest of a depot that is down this round
  for (DeleteTask& task : due) {
    absl::Status status = absl::UnavailableError("depot unreachable this round");
    if (task.depot_down) {
      status = absl::UnavailableError("depot is down (no heartbeat)");
    } else if (unreachable.count(task.depot) == 0) {
      status = janitor_->Delete(task.depot, task.manage_cap);
      if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
        unreachable.insert(task.depot);
      }
    }
    results.emplace_back(std::move(task), std::move(status));
  }
  absl::MutexLock lock(&mu_);
  // One transaction for the whole round: a big finish deletes thousands of pieces.
  absl::Status write = Transact([&]() -> absl::Status {
    for (auto& [task, status] : results) {
      if (deletes_.count(task.id) == 0) continue;
      // Done when deleted or already gone; dropped when the depot refuses the capability for good.
      bool done = status.ok() || absl::IsNotFound(status);
      bool refused = absl::IsPermissionDenied(status) || absl::IsInvalidArgument(status);
      if (refused) {
        SRS_LOG(ERROR).Field("depot", task.depot)
            << "depot refuses to delete " << task.what << ": " << status;
      }
      if (done || refused) {
        deletes_.erase(task.id);
        SRS_RETURN_IF_ERROR(store_->RemoveDelete(task.id));
        continue;
      }
      DeleteTask& queued = deletes_.at(task.id);
      ++queued.attempts;
      queued.next_try_unix_ms = NowMs() + absl::ToInt64Milliseconds(Backoff(queued.attempts));
      SRS_RETURN_IF_ERROR(store_->UpdateDelete(queued));
    }
    return absl::OkStatus();
  });
  if (!write.ok()) {
    SRS_LOG(ERROR) << "updating the delete queue: " << write;
  }
  return static_cast<int>(deletes_.size());
}

}  // namespace srs
