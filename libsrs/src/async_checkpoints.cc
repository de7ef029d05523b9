#include "libsrs/src/async_checkpoints.h"

#include <utility>
#include <vector>

#include "common/log.h"
#include "common/status_macros.h"
#include "libsrs/src/checkpoint_writer.h"
#include "libsrs/src/piece_writer.h"

namespace srs {
namespace libsrs {

AsyncCheckpoints::AsyncCheckpoints(RunEnv* env, const ArrayRegistry* registry)
    : env_(env), registry_(registry), staging_(env->settings.staging_limit), flusher_(env) {}

int AsyncCheckpoints::ExchangeFlags(int root_flags) {
  int flags = env_->rank == 0 ? root_flags : 0;
  if (!in_flight()) {
    MPI_Bcast(&flags, 1, MPI_INT, 0, env_->comm);
    return flags;
  }
  int mine[2] = {flags, flusher_.done() ? 0 : 1}, agreed[2] = {0, 0};
  MPI_Allreduce(mine, agreed, 2, MPI_INT, MPI_BOR, env_->comm);
  if (agreed[1] == 0) CompleteInFlight();
  return agreed[0];
}

void AsyncCheckpoints::CompleteInFlight() {
  FlushResult flushed = flusher_.Take();
  CheckpointWriter writer(env_, registry_);
  absl::StatusOr<CheckpointResult> result =
      writer.Complete(flushed.epoch, flushed.record, flushed.write_seconds);
  if (result.ok()) {
    ++counts_.committed;
  } else {
    ++counts_.failed;
    // The previous checkpoint is still the restart point: the job goes on (DESIGN §2).
    SRS_LOG(WARNING) << "asynchronous checkpoint of epoch " << flushed.epoch
                     << " failed, continuing: " << result.status();
  }
}

void AsyncCheckpoints::Drain(const char* why) {
  if (!in_flight()) return;
  ++counts_.waited;
  SRS_LOG(INFO) << why << " waits for the asynchronous checkpoint in flight";
  flusher_.Wait();
  CompleteInFlight();
}

absl::Status AsyncCheckpoints::Checkpoint(rss::v1::CheckpointReason reason, int64_t request_id) {
  if (in_flight()) {
    if (reason == rss::v1::REASON_PERIODIC) {
      ++counts_.skipped;
      SRS_LOG(INFO) << "periodic checkpoint skipped: the previous one is still being written";
      return absl::OkStatus();
    }
    Drain("a requested checkpoint");
  }
  FlushJob job;
  absl::StatusOr<std::vector<piece::DatasetWrite>> datasets =
      BuildPieceDatasets(*env_, *registry_, &job.indices);
  bool async = env_->settings.checkpoint_mode == CheckpointMode::kAsync;
  int must_sync = (!async || !datasets.ok() || !staging_.Fits(*datasets)) ? 1 : 0;
  int any_sync = 0;
  MPI_Allreduce(&must_sync, &any_sync, 1, MPI_INT, MPI_MAX, env_->comm);
  if (any_sync != 0) {
    if (async) {
      ++counts_.sync_fallbacks;
      SRS_LOG(INFO) << "checkpoint runs synchronously: the arrays of some rank exceed "
                       "staging_limit ("
                    << env_->settings.staging_limit << " bytes here)";
    }
    CheckpointWriter writer(env_, registry_);
    return writer.Run(reason, request_id).status();
  }
  job.datasets = std::move(datasets).value();
  return StartAsync(reason, request_id, std::move(job));
}

absl::Status AsyncCheckpoints::StartAsync(rss::v1::CheckpointReason reason, int64_t request_id,
                                          FlushJob job) {
  CheckpointWriter writer(env_, registry_);
  SRS_ASSIGN_OR_RETURN(job.epoch, writer.Begin(reason, request_id));
  // A copy that fails here fails this rank's write: Complete then aborts on every rank.
  job.prepared = staging_.CopyIn(&job.datasets);
  int64_t epoch = job.epoch;
  absl::Status started = flusher_.Start(std::move(job));
  if (!started.ok()) return started;  // a logic error: never with in_flight() checked above
  ++counts_.started;
  SRS_LOG(INFO) << "asynchronous checkpoint of epoch " << epoch << " staged ("
                << staging_.capacity() << " bytes of staging); writing in the background";
  return absl::OkStatus();
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
