// Asynchronous periodic and requested checkpoints (DESIGN.md §3 checkpoint_mode = async), on top
// of the all-or-nothing protocol of CheckpointWriter, which stays exactly as it is:
//
//   SRS_Check_Stop k    : Begin (agree on the arrays, epoch from the RSS), copy the arrays into
//                         staging, hand the piece to the flusher thread, return.
//   SRS_Check_Stop k+1.. : the usual small collective also carries "my write is done"; once it is
//                         on every rank, Complete (gather the records, ReportPieces, commit or
//                         abort) runs right there, on the application's thread.
//
// So the background thread never calls MPI, whatever thread level MPI was initialised with,
// and a checkpoint becomes visible only once committed; a crash before that leaves the previous
// one. With a flush in flight: a periodic checkpoint that falls due is SKIPPED (counted), a
// requested one WAITS for it (counted), SRS_Checkpoint, a stop and SRS_Finish drain it first. A
// checkpoint whose arrays exceed staging_limit on any rank runs synchronously (counted).
//
// Every method is collective over env->comm unless it says otherwise, and every rank calls them
// in the same order with the same in_flight() (it changes only inside collective calls).
#ifndef SRS_LIBSRS_SRC_ASYNC_CHECKPOINTS_H_
#define SRS_LIBSRS_SRC_ASYNC_CHECKPOINTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "libsrs/src/array_registry.h"
#include "libsrs/src/async_flusher.h"
#include "libsrs/src/run_env.h"
#include "libsrs/src/staging_buffer.h"

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

  // Collective: SRS_Check_Stop's exchange of rank 0's pending flags (`root_flags`, ignored on
  // other ranks). One MPI_Bcast when nothing is in flight; otherwise one MPI_Allreduce that also
  // tells whether every rank's write is done, in which case the checkpoint is completed here.
  // Returns the flags on every rank.
  int ExchangeFlags(int root_flags);

  // Collective: a periodic or requested checkpoint (`reason`). Async when checkpoint_mode is
  // async and every rank's arrays fit its staging; else synchronous (the caller's thread writes
  // and commits). OK when skipped. A failure of the synchronous path is returned; the async
  // path's failures surface (logged, counted) when it completes.
  absl::Status Checkpoint(rss::v1::CheckpointReason reason, int64_t request_id);

  // Collective: waits for the checkpoint in flight, if any, and completes it. `why` names the
  // caller in the log.
  void Drain(const char* why);

  bool in_flight() const { return flusher_.in_flight(); }
  const AsyncCounts& counts() const { return counts_; }
  // Local: rank 0 logs the counts at INFO ("async checkpoints: started=... skipped=...").
  void LogSummary() const;

 private:
  absl::Status StartAsync(rss::v1::CheckpointReason reason, int64_t request_id, FlushJob prepared);
  void CompleteInFlight();

  RunEnv* const env_;
  const ArrayRegistry* const registry_;
  StagingBuffer staging_;
  AsyncCounts counts_;
  AsyncFlusher flusher_;  // last: joined before the staging it reads goes away
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_ASYNC_CHECKPOINTS_H_
