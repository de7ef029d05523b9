// The background thread of asynchronous checkpoints: one per process, running one task at a
// time — on every rank, writing this rank's piece from staging memory to its depot; on rank 0
// also the RSS calls of the checkpoint (BeginCheckpoint before the write, ReportPieces +
// CommitCheckpoint once every rank has written) — while the application computes.
//
// Its tasks make no MPI call: the library runs with whatever thread level the application
// initialised MPI with (often not MPI_THREAD_MULTIPLE), so every collective of the commit
// protocol stays on the application's thread (docs/architecture.md "Asynchronous checkpoints").
// They speak only gRPC (thread-safe clients) and HDF5 (behind the process-wide Hdf5Lock).
//
//   AsyncFlusher flusher;
//   SRS_RETURN_IF_ERROR(flusher.Post([&] { WriteThePiece(); }));
//   ...                        // the application computes
//   flusher.WaitIdle();        // or poll busy()
//
// Post, busy and WaitIdle are called from one thread (the application's).
#ifndef SRS_LIBSRS_SRC_ASYNC_FLUSHER_H_
#define SRS_LIBSRS_SRC_ASYNC_FLUSHER_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace srs {
namespace libsrs {

class AsyncFlusher {
 public:
  AsyncFlusher() = default;
  // Waits for the task in progress (a task that waits on something must also watch for its
  // owner going away) and joins the thread.
  ~AsyncFlusher();
  AsyncFlusher(const AsyncFlusher&) = delete;
  AsyncFlusher& operator=(const AsyncFlusher&) = delete;

  // Runs `task` on the thread (started on the first Post). FAILED_PRECONDITION while the
  // previous task has not returned.
  absl::Status Post(std::function<void()> task);
  // A posted task has not returned yet.
  bool busy();
  // Blocks until the posted task has returned.
  void WaitIdle();

 private:
  void Loop();
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return quit_ || task_ != nullptr; }
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !busy_; }

  std::thread thread_;
  absl::Mutex mu_;
  std::function<void()> task_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_ASYNC_FLUSHER_H_
