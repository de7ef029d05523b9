// Progress of a restart's reads on the user's terminal: one line on rank 0's stderr, redrawn in
// place (carriage return) at most five times a second while an SRS_Read runs, e.g.
//   srs resume: 1.2 GiB of 4.0 GiB  30%  210.5 MiB/s  14 s left
// (the text is common/progress_line.h's, like `srs export`'s).
//
// Who asks for it: `srs run` sets SRS_PROGRESS=1 for the ranks when its own stderr is a terminal
// and it was not given --quiet (the ranks' stderr is mpiexec's pipe, never a terminal, so they
// cannot tell themselves); without srs run, SRS_PROGRESS=1 asks for it by hand. Anything else:
// nothing is shown, nothing runs.
//
// What it shows without costing the restore anything: rank 0 alone draws, from what it knows
// with no extra communication. The total is the checkpoint's data (every array's global count
// times its stored element size). Done = the arrays every rank has finished (each SRS_Read ends
// with an agreement, so rank 0 knows) plus, for the array being read, rank 0's own fraction of
// its share times the array's size: an estimate that assumes the ranks read at the same pace,
// which their parallel reads of equal shares do. The fetch threads only add to an atomic
// counter; a small thread wakes every 200 ms to draw.
//
// Small or quick restores stay silent: nothing below kMinBytes of checkpoint data, and nothing
// drawn before the restore has lasted kShowAfter, so a 1 MiB read never flickers. The line is
// erased when each SRS_Read returns, before the application prints anything of its own.
#ifndef SRS_LIBSRS_SRC_RESTORE_PROGRESS_H_
#define SRS_LIBSRS_SRC_RESTORE_PROGRESS_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace srs {
namespace libsrs {

class RestoreProgress {
 public:
  static constexpr int64_t kMinBytes = int64_t{4} << 20;
  static constexpr absl::Duration kShowAfter = absl::Milliseconds(500);
  static constexpr absl::Duration kRedrawEvery = absl::Milliseconds(200);

  // `wanted`: this rank draws (rank 0 of a restart, SRS_PROGRESS=1: see RequestedByEnv).
  // `total_bytes`: the checkpoint's data, >= 0; below kMinBytes nothing is ever shown.
  RestoreProgress(bool wanted, int64_t total_bytes);
  ~RestoreProgress();  // ends an array still open (erasing the line)
  RestoreProgress(const RestoreProgress&) = delete;
  RestoreProgress& operator=(const RestoreProgress&) = delete;

  // True when SRS_PROGRESS is "1" in the environment.
  static bool RequestedByEnv();

  bool enabled() const { return enabled_; }

  // An SRS_Read begins: `array_bytes` is the array's whole size (its part of the total). Starts
  // the drawing thread when enabled. Calls do not nest: a second Begin ends the first array.
  void BeginArray(int64_t array_bytes);
  // How many bytes this rank reads of the current array (known once its read is planned); 0 =
  // none (done then moves only when the array ends).
  void SetMyBytes(int64_t bytes) { my_bytes_.store(bytes, std::memory_order_relaxed); }
  // Where the fetch threads count this rank's bytes as they land (null when not enabled, so the
  // fetch path does nothing extra).
  std::atomic<int64_t>* fetched() { return enabled_ ? &fetched_ : nullptr; }
  // The SRS_Read returned (every rank finished it, or it failed): the array counts as done, the
  // drawing thread stops and the line, if drawn, is erased.
  void EndArray();

  // The estimate drawn now (see above), for tests: done bytes of the total.
  int64_t EstimatedDone() const;
  int64_t total_bytes() const { return total_; }

 private:
  void DrawLoop();

  const bool enabled_;
  const int64_t total_;
  absl::Time start_ = absl::InfinitePast();  // the first BeginArray
  std::atomic<int64_t> finished_{0};         // bytes of the arrays already read
  std::atomic<int64_t> array_bytes_{0};
  std::atomic<int64_t> my_bytes_{0};
  std::atomic<int64_t> fetched_{0};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;   // guarded by mu_
  bool drawn_ = false;  // guarded by mu_
  std::thread drawer_;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_RESTORE_PROGRESS_H_
