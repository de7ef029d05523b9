// Asynchronous periodic and requested checkpoints (DESIGN.md §3 checkpoint_mode = async), on top
// of the all-or-nothing protocol of CheckpointWriter, whose steps stay exactly as they are:
//
//   SRS_Check_Stop k     agree on the arrays (collective), copy them into staging, return. The
//                        background thread (AsyncFlusher) asks the RSS for the epoch (rank 0)
//                        and writes the piece (every rank, once it knows the epoch).
//   SRS_Check_Stop k+1.. the small collective SRS_Check_Stop makes anyway becomes one
//                        MPI_Allreduce that also carries rank 0's epoch to the other ranks and
//                        "my write is done"; when the epoch becomes known, rank 0 scatters the
//                        ranks' write grants (write_grants.h) in the same call. Once it is done
//                        everywhere: the records are gathered to rank 0 (collective), whose
//                        background thread reports and commits them (or aborts); a later call
//                        carries the verdict.
//
// So the background thread never calls MPI, whatever thread level MPI was initialised with; a
// checkpoint becomes the restart point only once the RSS committed it, and a crash before that
// leaves the previous one. With a checkpoint in flight, a periodic checkpoint that falls due is
// SKIPPED (counted); a requested one, SRS_Checkpoint, a stop and SRS_Finish first WAIT for it
// (drain, counted). A checkpoint whose arrays exceed staging_limit on any rank runs
// synchronously (counted).
//
// Every method is collective over env->comm unless it says otherwise; every rank calls them in
// the same order and sees the same phase (it changes only inside collective calls).
#ifndef SRS_LIBSRS_SRC_ASYNC_CHECKPOINTS_H_
#define SRS_LIBSRS_SRC_ASYNC_CHECKPOINTS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libsrs/src/array_registry.h"
#include "libsrs/src/async_flusher.h"
#include "libsrs/src/run_env.h"
#include "libsrs/src/staging_buffer.h"
#include "libsrs/src/write_grants.h"
#include "srs/depot/v1/depot.pb.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

// What happened to this run's periodic/requested checkpoints (the same on every rank).
struct AsyncCounts {
  int64_t started = 0;         // handed to the flusher
  int64_t committed = 0;       // of those, committed
  int64_t failed = 0;          // of those, aborted (the previous checkpoint stayed)
  int64_t skipped = 0;         // periodic checkpoints not taken: one was in flight
  int64_t waited = 0;          // checkpoints (requested, SRS_Checkpoint, stop, finish) that
                               // first waited for one in flight
  int64_t sync_fallbacks = 0;  // async mode, but the arrays did not fit staging_limit
};

class AsyncCheckpoints {
 public:
  AsyncCheckpoints(RunEnv* env, const ArrayRegistry* registry);
  // Stops waiting tasks and joins the thread (no MPI: also called from MPI_Finalize). A piece of
  // an uncommitted checkpoint is left to its depot lease.
  ~AsyncCheckpoints();

  // Collective: SRS_Check_Stop's exchange of rank 0's pending flags (`root_flags`, ignored on
  // other ranks). One MPI_Bcast when nothing is in flight; otherwise one MPI_Allreduce that also
  // moves the checkpoint in flight one step on (epoch to every rank, completion, verdict).
  // Returns the flags on every rank.
  int ExchangeFlags(int root_flags);

  // Collective: a periodic or requested checkpoint (`reason`). Async when checkpoint_mode is
  // async and every rank's arrays fit its staging; else synchronous (the caller's thread writes
  // and commits). OK when skipped. A failure of the synchronous path is returned; the async
  // path's failures are logged and counted when they surface (the previous checkpoint stays).
  absl::Status Checkpoint(rss::v1::CheckpointReason reason, int64_t request_id);

  // Collective: waits for the checkpoint in flight, if any, until it is committed or aborted.
  // `why` names the caller in the log.
  void Drain(const char* why);

  bool in_flight() const { return phase_ != Phase::kIdle; }
  const AsyncCounts& counts() const { return counts_; }
  // Local: rank 0 logs the counts at INFO ("async checkpoints: started=... skipped=...").
  void LogSummary() const;

 private:
  enum class Phase { kIdle, kWriting, kCommitting };
  struct Job;

  absl::Status StartAsync(rss::v1::CheckpointReason reason, int64_t request_id,
                          std::shared_ptr<Job> job);
  // Background: (rank 0) BeginCheckpoint, then wait for the epoch, then write the piece.
  void WriteTask(const std::shared_ptr<Job>& job);
  // Application thread, collective: one step of the checkpoint in flight from the agreed words
  // of the exchange ({flags, not done, epoch, verdict}). When the epoch becomes known
  // everywhere, rank 0 scatters the write grants (collective) and each rank hands its grant to
  // its waiting write together with the epoch.
  void Advance(const int64_t agreed[4]);
  void GatherAndCommit();
  void Finished(bool committed);
  // Test hook: with SRS_TEST_ASYNC_HOLD=PATH set, a write waits (up to 120 s, or until this
  // object goes away) for PATH to exist, so tests can change the arrays, request checkpoints or
  // kill ranks while a checkpoint is known to be in flight. False when going away.
  bool HoldForTests();

  RunEnv* const env_;
  const ArrayRegistry* const registry_;
  StagingBuffer staging_;
  AsyncCounts counts_;
  Phase phase_ = Phase::kIdle;  // application thread
  int64_t shared_epoch_ = 0;    // application thread: the epoch every rank knows (0 = not yet)
  std::optional<rss::v1::PieceRecord> written_;  // this rank's piece, until the verdict

  // Shared with the background task.
  absl::Mutex mu_;
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;  // 0 unknown, -1 BeginCheckpoint failed
  // This rank's write grant for epoch_, set together with it (write_grants.h).
  RankWriteGrant grant_ ABSL_GUARDED_BY(mu_);
  // Rank 0: BeginCheckpoint's answer, whose grants Advance scatters to every rank.
  rss::v1::BeginCheckpointResponse begun_ ABSL_GUARDED_BY(mu_);
  absl::Status begin_error_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::StatusOr<rss::v1::PieceRecord>> record_ ABSL_GUARDED_BY(mu_);
  double write_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Status> verdict_ ABSL_GUARDED_BY(mu_);  // rank 0
  bool quit_ ABSL_GUARDED_BY(mu_) = false;

  AsyncFlusher flusher_;  // last: joined before everything its tasks use goes away
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_ASYNC_CHECKPOINTS_H_
