// How far a synchronous checkpoint's write has got, as `srs stop --wait` shows it on the user's
// terminal ("stopping heat: 1.2 GiB of 4.0 GiB  30%  210.5 MiB/s  14 s left").
//
// What it measures without costing the write anything: rank 0 alone reports, from what it knows
// with no extra communication. The total is the checkpoint's data over all ranks (every array's
// global count times its element size, known at rank 0 after the arrays' agreement). Done is rank
// 0's own piece's bytes that reached the disk (common/write_behind.h counts them as the kernel
// writes them back; for a remote depot, the bytes sent) as a fraction of its data, times the
// total: an estimate that assumes the ranks write at the same pace, which their parallel writes of
// equal shares do. A thread wakes every kReportEvery and sends the estimate to the RSS with
// ReportProgress (memory only there, once, at most 1 s; a lost report is replaced by the next);
// `srs stop --wait` reads it back from GetJob.
//
// Small or quick checkpoints cost nothing: no thread below kMinBytes of data, and no report before
// the write has lasted kFirstReportAfter. An RSS that does not know ReportProgress (UNIMPLEMENTED,
// an older srs-rss) gets no further report.
#ifndef SRS_LIBSRS_SRC_CHECKPOINT_PROGRESS_H_
#define SRS_LIBSRS_SRC_CHECKPOINT_PROGRESS_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "rss/client/rss_client.h"

namespace srs {
namespace libsrs {

class CheckpointProgress {
 public:
  static constexpr int64_t kMinBytes = int64_t{16} << 20;
  static constexpr absl::Duration kFirstReportAfter = absl::Milliseconds(500);
  static constexpr absl::Duration kReportEvery = absl::Milliseconds(500);

  // `rss`: rank 0's RSS client (null: never reports). `total_bytes`: the checkpoint's data over
  // all ranks; `my_bytes`: this rank's share of it (0: nothing to scale, never reports).
  // `my_done` (may be null: my_done() then): where the piece writer counts this rank's bytes,
  // when the write started before this object (an early write, piece_writer.h); it must
  // outlive this object.
  CheckpointProgress(RssClient* rss, std::string run_token, int64_t epoch, int64_t total_bytes,
                     int64_t my_bytes, const std::atomic<int64_t>* my_done = nullptr);
  // Stops the thread (waiting for a report in flight, at most 1 s).
  ~CheckpointProgress();
  CheckpointProgress(const CheckpointProgress&) = delete;
  CheckpointProgress& operator=(const CheckpointProgress&) = delete;

  // Where the piece writer stores this rank's bytes done so far (a running total).
  std::atomic<int64_t>* my_done() { return &my_done_; }

  // The whole checkpoint's estimated bytes done: `my_done` of `my_bytes` (capped at all of it)
  // scaled to `total`; 0 when my_bytes <= 0. Pure, for the unit tests.
  static int64_t Estimate(int64_t my_done, int64_t my_bytes, int64_t total);

 private:
  void Loop();

  RssClient* const rss_;
  const std::string run_token_;
  const int64_t epoch_;
  const int64_t total_;
  const int64_t mine_;
  std::atomic<int64_t> my_done_{0};
  const std::atomic<int64_t>* const counted_;  // &my_done_ or the caller's
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_CHECKPOINT_PROGRESS_H_
