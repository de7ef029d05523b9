#include "libsrs/src/async_checkpoints.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "libsrs/src/checkpoint_writer.h"
#include "libsrs/src/piece_writer.h"
#include "libsrs/src/test_hooks.h"
#include "libsrs/src/write_grants.h"

namespace srs {
namespace libsrs {

// What the background task needs: the staged datasets (pointing into staging memory and into
// `indices`), and on rank 0 what BeginCheckpoint needs.
struct AsyncCheckpoints::Job {
  std::vector<piece::DatasetWrite> datasets;
  std::vector<std::vector<int64_t>> indices;
  absl::Status prepared;  // not OK: staging failed here; the write reports it, nothing written
  std::vector<rss::v1::ArraySpec> arrays;
  rss::v1::CheckpointReason reason = rss::v1::REASON_PERIODIC;
  int64_t request_id = 0;
};

AsyncCheckpoints::AsyncCheckpoints(RunEnv* env, const ArrayRegistry* registry)
    : env_(env), registry_(registry), staging_(env->settings.staging_limit) {}

AsyncCheckpoints::~AsyncCheckpoints() {
  absl::MutexLock lock(&mu_);
  quit_ = true;
}

int AsyncCheckpoints::ExchangeFlags(int root_flags) {
  int flags = env_->rank == 0 ? root_flags : 0;
  if (!in_flight()) {
    MPI_Bcast(&flags, 1, MPI_INT, 0, env_->comm);
    return flags;
  }
  int64_t mine[4] = {flags, 0, 0, 0}, agreed[4] = {0, 0, 0, 0};
  {
    absl::MutexLock lock(&mu_);
    if (phase_ == Phase::kWriting) {
      mine[1] = record_.has_value() ? 0 : 1;
      if (env_->rank == 0) mine[2] = epoch_;
    } else if (env_->rank == 0) {
      mine[1] = verdict_.has_value() ? 0 : 1;
      if (verdict_.has_value()) mine[3] = verdict_->ok() ? 1 : 2;
    }
  }
  // Only rank 0 contributes flags, epoch and verdict: OR gives them to everyone, and "not done"
  // is set if it is set anywhere.
  MPI_Allreduce(mine, agreed, 4, MPI_INT64_T, MPI_BOR, env_->comm);
  Advance(agreed);
  return static_cast<int>(agreed[0]);
}

void AsyncCheckpoints::Advance(const int64_t agreed[4]) {
  if (phase_ == Phase::kWriting) {
    if (shared_epoch_ == 0 && agreed[2] != 0) {
      shared_epoch_ = agreed[2];
      // Every rank learns the epoch in this same allreduce, so the grants' scatter is collective
      // here, on the application thread (the background thread never calls MPI). Not when
      // BeginCheckpoint failed (-1 on every rank): nothing is written then.
      RankWriteGrant grant;
      if (shared_epoch_ > 0) {
        env_->last_epoch_begun = shared_epoch_;  // the next synchronous one's guess
        rss::v1::BeginCheckpointResponse begun;
        if (env_->rank == 0) {
          absl::MutexLock lock(&mu_);
          begun = begun_;
        }
        grant = ScatterWriteGrants(env_->comm, env_->rank, env_->nprocs,
                                   env_->rank == 0 ? &begun : nullptr);
      }
      absl::MutexLock lock(&mu_);
      if (env_->rank != 0) grant_ = std::move(grant);  // rank 0's write already has its own
      epoch_ = shared_epoch_;  // wakes this rank's write (rank 0 set it itself)
    }
    if (agreed[1] == 0) GatherAndCommit();
  } else if (phase_ == Phase::kCommitting && agreed[1] == 0) {
    Finished(agreed[3] == 1);
  }
}

void AsyncCheckpoints::GatherAndCommit() {
  flusher_.WaitIdle();  // the write task has published its record; let it return
  absl::StatusOr<rss::v1::PieceRecord> record = absl::UnknownError("no record");
  double seconds = 0;
  absl::Status begin_error;
  {
    absl::MutexLock lock(&mu_);
    record = std::move(*record_);
    seconds = write_seconds_;
    begin_error = begin_error_;
  }
  if (record.ok()) {
    written_ = *record;
    TestHookMaybeDie(TestPoint::kAfterPut, shared_epoch_, env_->rank);
  }
  if (shared_epoch_ < 0) {  // BeginCheckpoint failed: nothing was written anywhere
    if (env_->rank == 0) {
      SRS_LOG(WARNING) << "asynchronous checkpoint not begun: " << begin_error;
    }
    Finished(false);
    return;
  }
  CheckpointWriter writer(env_, registry_);
  auto gathered =
      std::make_shared<CheckpointWriter::Gathered>(writer.Gather(shared_epoch_, record, seconds));
  phase_ = Phase::kCommitting;
  if (env_->rank != 0) return;
  int64_t epoch = shared_epoch_;
  absl::Status posted = flusher_.Post([this, epoch, gathered] {
    CheckpointWriter root(env_, registry_);
    absl::Status verdict = root.CommitOrAbortOnRoot(epoch, *gathered);
    absl::MutexLock lock(&mu_);
    verdict_ = verdict;
  });
  if (!posted.ok()) {  // cannot happen (the flusher is idle): fail the checkpoint, not the job
    absl::MutexLock lock(&mu_);
    verdict_ = posted;
  }
}

void AsyncCheckpoints::Finished(bool committed) {
  flusher_.WaitIdle();
  absl::Status verdict;
  {
    absl::MutexLock lock(&mu_);
    if (verdict_.has_value()) verdict = *verdict_;
    epoch_ = 0;
    grant_ = RankWriteGrant();
    begun_.Clear();
    begin_error_ = absl::OkStatus();
    record_.reset();
    verdict_.reset();
  }
  if (committed) {
    ++counts_.committed;
    TestHookMaybeDie(TestPoint::kAfterCommit, shared_epoch_, env_->rank);
    SRS_LOG(INFO) << "asynchronous checkpoint of epoch " << shared_epoch_ << " committed";
  } else {
    ++counts_.failed;
    // The previous checkpoint is still the restart point: the job goes on (DESIGN §2).
    if (env_->rank == 0 && shared_epoch_ > 0) {
      SRS_LOG(WARNING) << "asynchronous checkpoint of epoch " << shared_epoch_
                       << " failed, continuing: " << verdict;
    }
    if (written_.has_value()) CheckpointWriter(env_, registry_).DropPiece(*written_);
  }
  written_.reset();
  shared_epoch_ = 0;
  phase_ = Phase::kIdle;
}

void AsyncCheckpoints::Drain(const char* why) {
  if (!in_flight()) return;
  ++counts_.waited;
  SRS_LOG(INFO) << why << " waits for the asynchronous checkpoint in flight";
  while (in_flight()) {
    {
      // What this rank must have before the next exchange can move the checkpoint on.
      absl::MutexLock lock(&mu_);
      if (phase_ == Phase::kWriting && shared_epoch_ != 0) {
        mu_.Await(absl::Condition(
            +[](std::optional<absl::StatusOr<rss::v1::PieceRecord>>* r) { return r->has_value(); },
            &record_));
      } else if (env_->rank == 0 && phase_ == Phase::kWriting) {
        mu_.Await(absl::Condition(
            +[](int64_t* e) { return *e != 0; }, &epoch_));
      } else if (env_->rank == 0) {
        mu_.Await(absl::Condition(
            +[](std::optional<absl::Status>* v) { return v->has_value(); }, &verdict_));
      }
    }
    ExchangeFlags(0);
  }
}

absl::Status AsyncCheckpoints::Checkpoint(rss::v1::CheckpointReason reason, int64_t request_id) {
  if (in_flight()) {
    if (reason == rss::v1::REASON_PERIODIC) {
      ++counts_.skipped;
      SRS_LOG(INFO) << "periodic checkpoint skipped: the previous one is still in flight";
      return absl::OkStatus();
    }
    Drain("a requested checkpoint");
  }
  auto job = std::make_shared<Job>();
  absl::StatusOr<std::vector<piece::DatasetWrite>> datasets =
      BuildPieceDatasets(*env_, *registry_, &job->indices);
  bool async = env_->settings.checkpoint_mode == CheckpointMode::kAsync;
  uint64_t must_sync = (!async || !datasets.ok() || !staging_.Fits(*datasets)) ? 1 : 0;
  uint64_t any_sync = 0;
  // The vote rides on the arrays' agreement: one allreduce, not two. Its verdict is the same on
  // every rank.
  absl::StatusOr<std::vector<rss::v1::ArraySpec>> arrays =
      CheckpointWriter(env_, registry_).AgreeOnArrays(must_sync, &any_sync);
  SRS_RETURN_IF_ERROR(arrays.status());
  if (any_sync != 0) {
    if (async) {
      ++counts_.sync_fallbacks;
      SRS_LOG(INFO) << "checkpoint runs synchronously: the arrays of some rank exceed "
                       "staging_limit ("
                    << env_->settings.staging_limit << " bytes here)";
    }
    return CheckpointWriter(env_, registry_).Run(reason, request_id).status();
  }
  job->datasets = std::move(datasets).value();
  job->arrays = std::move(arrays).value();
  return StartAsync(reason, request_id, std::move(job));
}

absl::Status AsyncCheckpoints::StartAsync(rss::v1::CheckpointReason reason, int64_t request_id,
                                          std::shared_ptr<Job> job) {
  absl::Time start = absl::Now();
  job->reason = reason;
  job->request_id = request_id;
  // A copy that fails here fails this rank's write: the commit then aborts on every rank.
  job->prepared = staging_.CopyIn(&job->datasets);
  SRS_LOG(DEBUG) << "async checkpoint staged in " << absl::ToDoubleSeconds(absl::Now() - start)
                 << " s (" << staging_.capacity() << " bytes of staging)";
  absl::Status posted = flusher_.Post([this, job] { WriteTask(job); });
  if (!posted.ok()) return posted;  // cannot happen: idle when nothing is in flight
  phase_ = Phase::kWriting;
  ++counts_.started;
  return absl::OkStatus();
}

void AsyncCheckpoints::WriteTask(const std::shared_ptr<Job>& job) {
  if (env_->rank == 0) {
    absl::StatusOr<rss::v1::BeginCheckpointResponse> begun =
        CheckpointWriter(env_, registry_).BeginRpc(job->arrays, job->reason, job->request_id);
    absl::MutexLock lock(&mu_);
    if (begun.ok()) {
      begun_ = *begun;
      grant_ = RootWriteGrant(*begun, env_->nprocs);  // the others get theirs in Advance
    }
    epoch_ = begun.ok() ? begun->epoch() : -1;
    if (!begun.ok()) begin_error_ = begun.status();
  }
  int64_t epoch = 0;
  RankWriteGrant grant;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](AsyncCheckpoints* self)
             ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->quit_ || self->epoch_ != 0; },
        this));
    if (quit_) return;
    epoch = epoch_;
    grant = grant_;
  }
  absl::StatusOr<rss::v1::PieceRecord> record = absl::AbortedError("BeginCheckpoint failed");
  absl::Time start = absl::Now();
  if (epoch > 0) {
    if (!HoldForTests()) return;
    record = job->prepared.ok() ? WritePieceDatasets(*env_, job->datasets, epoch, grant,
                                                     /*done_bytes=*/nullptr,
                                                     /*direct_io=*/true)
                                : absl::StatusOr<rss::v1::PieceRecord>(job->prepared);
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  SRS_LOG(DEBUG) << "async write of epoch " << epoch << " done in " << seconds << " s";
  absl::MutexLock lock(&mu_);
  write_seconds_ = seconds;
  record_ = std::move(record);
}

bool AsyncCheckpoints::HoldForTests() {
  const char* path = std::getenv("SRS_TEST_ASYNC_HOLD");
  if (path == nullptr || *path == '\0') return true;
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (access(path, F_OK) != 0 && absl::Now() < deadline) {
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&quit_), absl::Milliseconds(5))) return false;
  }
  return true;
}

void AsyncCheckpoints::LogSummary() const {
  if (env_->rank != 0) return;
  SRS_LOG(INFO) << "async checkpoints: started=" << counts_.started
                << " committed=" << counts_.committed << " failed=" << counts_.failed
                << " skipped=" << counts_.skipped << " waited=" << counts_.waited
                << " sync_fallbacks=" << counts_.sync_fallbacks;
}

}  // namespace libsrs
}  // namespace srs
