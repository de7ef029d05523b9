// The background half of an asynchronous checkpoint: one thread per process that writes this
// rank's piece (from staging memory) to its depot while the application computes.
//
// It makes no MPI call: the library initialises MPI as the application did (often not
// MPI_THREAD_MULTIPLE), so every collective of the commit protocol stays on the application's
// thread, at the next SRS_Check_Stop / SRS_Checkpoint / SRS_Finish (docs/architecture.md
// "Asynchronous checkpoints"). It talks only to the depot (gRPC, thread-safe) and HDF5 (through
// the process-wide Hdf5Lock).
//
//   AsyncFlusher flusher(&env);
//   flusher.Start({epoch, std::move(datasets), std::move(indices)});
//   ...                                 // the application computes
//   if (flusher.done()) { FlushResult r = flusher.Take(); ... }   // or Wait() to block
//
// Start, done, Wait and Take are called from one thread (the application's); at most one flush is
// in flight.
#ifndef SRS_LIBSRS_SRC_ASYNC_FLUSHER_H_
#define SRS_LIBSRS_SRC_ASYNC_FLUSHER_H_

#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/piece_format.h"
#include "libsrs/src/run_env.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

struct FlushJob {
  int64_t epoch = 0;
  // Point into staging memory (and `indices`), which must stay untouched until Take().
  std::vector<piece::DatasetWrite> datasets;
  std::vector<std::vector<int64_t>> indices;
  // Not OK: the staging failed on this rank; the flush reports it without writing, so the
  // collective commit aborts the checkpoint on every rank.
  absl::Status prepared;
};

struct FlushResult {
  int64_t epoch = 0;
  absl::StatusOr<rss::v1::PieceRecord> record = absl::UnknownError("no flush");
  double write_seconds = 0;  // this rank's write, from the flusher's start of work
};

class AsyncFlusher {
 public:
  // `env` must outlive the flusher; the thread starts on the first Start.
  explicit AsyncFlusher(const RunEnv* env) : env_(env) {}
  // Cancels a flush that is still waiting on the test hold, waits for one that is writing, and
  // joins the thread. An uncommitted piece is left to the depot's lease.
  ~AsyncFlusher();
  AsyncFlusher(const AsyncFlusher&) = delete;
  AsyncFlusher& operator=(const AsyncFlusher&) = delete;

  // Hands a job to the thread. FAILED_PRECONDITION if one is in flight (not yet Taken).
  absl::Status Start(FlushJob job);
  // A job was started and not yet taken.
  bool in_flight() const { return in_flight_; }
  // The job in flight has finished writing (non-blocking).
  bool done();
  // Blocks until the job in flight has finished writing.
  void Wait();
  // The finished job's result; the flusher is idle afterwards. Call only when done().
  FlushResult Take();

 private:
  void Loop();
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Test hook: with SRS_TEST_ASYNC_HOLD=PATH in the environment, a flush waits (up to 120 s, or
  // until the flusher is destroyed) for PATH to exist before writing, so tests can change the
  // arrays, request checkpoints or kill ranks while a flush is known to be in flight.
  void HoldForTests();

  const RunEnv* const env_;
  std::thread thread_;
  bool in_flight_ = false;  // application thread only
  absl::Mutex mu_;
  std::optional<FlushJob> job_ ABSL_GUARDED_BY(mu_);
  std::optional<FlushResult> result_ ABSL_GUARDED_BY(mu_);
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_ASYNC_FLUSHER_H_
