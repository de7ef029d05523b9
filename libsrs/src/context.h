// The library's state for one run: everything SRS_Init builds and SRS_Finish (or MPI_Finalize)
// tears down. The C API holds the one pointer to it; nothing else in the library is global.
#ifndef SRS_LIBSRS_SRC_CONTEXT_H_
#define SRS_LIBSRS_SRC_CONTEXT_H_

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libsrs/src/array_registry.h"
#include "libsrs/src/async_checkpoints.h"
#include "libsrs/src/checkpoint_backoff.h"
#include "libsrs/src/restart_reader.h"
#include "libsrs/src/run_env.h"
#include "libsrs/src/stop_watcher.h"

namespace srs {
namespace libsrs {

class Context {
 public:
  // Collective over `comm`. Reads the config, registers the run, starts the stop watcher.
  static absl::StatusOr<std::unique_ptr<Context>> Create(MPI_Comm comm,
                                                         const std::string& config_path);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  bool restart() const { return env_.run.restart(); }
  int rank() const { return env_.rank; }
  int nprocs() const { return env_.nprocs; }
  const RunEnv& env() const { return env_; }

  absl::Status Register(const std::string& name, void* data, int c_type, int64_t global_count,
                        SRS_Distribution dist);
  absl::Status Read(const std::string& name, void* data, int c_type, SRS_Distribution dist);
  // OK unless `name` is registered, distributed, for this same `data`, with another global count
  // than the checkpoint holds (then INVALID_ARGUMENT: the read would overrun the buffer).
  absl::Status CheckReadAgainstRegistration(const std::string& name, const void* data,
                                            SRS_Distribution dist) const;
  absl::Status Query(const std::string& name, ElementType* type, int64_t* global_count) const;
  // Collective: 1 once a stop checkpoint is committed, else 0.
  absl::StatusOr<int> CheckStop();
  absl::Status Checkpoint();
  // Collective: tells the RSS the job is done (its checkpoints get deleted).
  absl::Status Finish();
  // Called from MPI_Finalize (the app left without SRS_Finish): stop threads, skip MPI calls
  // that would need every rank.
  void PrepareForFinalize() { finalizing_ = true; }

 private:
  Context() = default;
  // Rank 0's view of what SRS_Check_Stop must do, as bits (kStop, kRequested, kPeriodic).
  int PendingFlags() const;
  absl::Status RunCheckpoint(rss::v1::CheckpointReason reason, int64_t request_id);
  // Once per restarted run: the slowest rank's read time and the bytes read, to the RSS.
  void ReportRestartOnce();
  absl::Status RejectAfterStop(const char* call) const;
  // Rank 0: UNAVAILABLE once the stop watcher has been out of contact with every RSS for
  // rss_lost_timeout, else OK.
  absl::Status RssLost() const;

  RunEnv env_;
  ArrayRegistry registry_;
  std::unique_ptr<RestartReader> reader_;
  // Periodic/requested checkpoints, asynchronous or not; drained before any other checkpoint.
  std::unique_ptr<AsyncCheckpoints> async_;
  std::unique_ptr<StopWatcher> watcher_;  // rank 0 only
  absl::Time last_checkpoint_;            // rank 0: for checkpoint_interval
  CheckpointBackoff backoff_;             // rank 0: spacing after failed checkpoints
  bool restart_reported_ = false;
  bool stopped_ = false;  // a stop checkpoint was committed; the app should leave
  bool finalizing_ = false;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_CONTEXT_H_
