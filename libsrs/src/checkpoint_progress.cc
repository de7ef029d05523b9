#include "libsrs/src/checkpoint_progress.h"

#include <algorithm>

#include "common/log.h"

namespace srs {
namespace libsrs {
namespace {

// A report is best effort: it must never hold the checkpoint's end up for long.
constexpr absl::Duration kReportTimeout = absl::Seconds(1);

}  // namespace

CheckpointProgress::CheckpointProgress(RssClient* rss, std::string run_token, int64_t epoch,
                                       int64_t total_bytes, int64_t my_bytes,
                                       const std::atomic<int64_t>* my_done)
    : rss_(rss),
      run_token_(std::move(run_token)),
      epoch_(epoch),
      total_(total_bytes),
      mine_(my_bytes),
      counted_(my_done != nullptr ? my_done : &my_done_) {
  if (rss_ != nullptr && total_ >= kMinBytes && mine_ > 0) {
    thread_ = std::thread([this] { Loop(); });
  }
}

CheckpointProgress::~CheckpointProgress() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t CheckpointProgress::Estimate(int64_t my_done, int64_t my_bytes, int64_t total) {
  if (my_bytes <= 0 || my_done <= 0 || total <= 0) return 0;
  // my_done counts the piece file's bytes, HDF5's metadata included: it may pass my_bytes.
  const double fraction =
      std::min(1.0, static_cast<double>(my_done) / static_cast<double>(my_bytes));
  return std::min(total, static_cast<int64_t>(fraction * static_cast<double>(total)));
}

void CheckpointProgress::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  if (wake_.wait_for(lock, absl::ToChronoMilliseconds(kFirstReportAfter),
                     [this] { return stop_; })) {
    return;
  }
  int64_t reported = -1;
  // Once it has reported at all, a last report goes out as the write ends (its final bytes), so
  // the line does not stand still at the last half-second's figure.
  bool last_round = false;
  while (!stop_ || !last_round) {
    last_round = stop_;
    const int64_t done = Estimate(counted_->load(std::memory_order_relaxed), mine_, total_);
    if (done != reported) {
      lock.unlock();
      rss::v1::ReportProgressRequest req;
      req.set_run_token(run_token_);
      req.set_epoch(epoch_);
      req.set_done_bytes(done);
      req.set_total_bytes(total_);
      absl::Status sent = rss_->ReportProgress(req, kReportTimeout).status();
      lock.lock();
      if (absl::IsUnimplemented(sent)) {
        SRS_LOG(DEBUG) << "the RSS takes no progress reports: " << sent;
        return;
      }
      if (!sent.ok()) {
        SRS_LOG(DEBUG) << "progress report of epoch " << epoch_ << ": " << sent;
      }
      reported = done;
    }
    if (!stop_) {
      wake_.wait_for(lock, absl::ToChronoMilliseconds(kReportEvery), [this] { return stop_; });
    }
  }
}

}  // namespace libsrs
}  // namespace srs
