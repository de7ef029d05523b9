#include "libsrs/src/stop_watcher.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "absl/time/clock.h"
#include "common/log.h"

namespace srs {
namespace libsrs {

StopWatcher::StopWatcher(RssClient* rss, std::string run_token)
    : rss_(rss),
      run_token_(std::move(run_token)),
      last_contact_ms_(absl::ToUnixMillis(absl::Now())) {
  thread_ = std::thread([this] { Run(); });
}

StopWatcher::~StopWatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StopWatcher::ClearCheckpointRequest(int64_t served_id) {
  int64_t expected = served_id;
  checkpoint_request_.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

absl::Duration StopWatcher::SinceContact() const {
  int64_t last = last_contact_ms_.load(std::memory_order_acquire);
  if (last == INT64_MAX) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), absl::Now() - absl::FromUnixMillis(last));
}

void StopWatcher::OnEvent(const rss::v1::RunEvent& event) {
  last_contact_ms_.store(absl::ToUnixMillis(absl::Now()), std::memory_order_release);
  // Request ids start at 1; 0 would read as "nothing pending".
  int64_t id = std::max<int64_t>(event.request_id(), 1);
  if (event.kind() == rss::v1::RunEvent::STOP) {
    SRS_LOG(INFO) << "stop requested (request " << id << ")";
    stop_request_.store(id, std::memory_order_release);
  } else if (event.kind() == rss::v1::RunEvent::CHECKPOINT) {
    SRS_LOG(INFO) << "checkpoint requested (request " << id << ")";
    checkpoint_request_.store(id, std::memory_order_release);
  }
}

bool StopWatcher::SleepUnlessStopping(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return stopping_; });
  return !stopping_;
}

void StopWatcher::Run() {
  double backoff = 0.1;
  for (;;) {
    grpc::ClientContext context;
    // Wait for the channel instead of failing fast while it backs off: after an RSS restart the
    // stream must be back within the lease the RSS grants on restart, or the run is lost.
    context.set_wait_for_ready(true);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      context_ = &context;
    }
    bool got_event = false;
    absl::Status status = rss_->WatchRun(
        run_token_,
        [&](const rss::v1::RunEvent& event) {
          got_event = true;
          OnEvent(event);
        },
        &context);
    {
      std::lock_guard<std::mutex> lock(mu_);
      context_ = nullptr;
      if (stopping_) return;
    }
    if (status.ok()) {
      // The RSS closes the stream cleanly only when the run is no longer active (stopped,
      // finished, lost or taken over): there is nothing left to watch.
      SRS_LOG(INFO) << "the RSS ended the stop watch: the run is no longer active";
      last_contact_ms_.store(INT64_MAX, std::memory_order_release);
      return;
    }
    if (got_event) backoff = 0.1;  // the stream worked: retry fast after a drop
    SRS_LOG(WARNING) << "stop watch stream ended (" << status.ToString() << "); retrying in "
                     << backoff << " s; the job keeps running";
    if (!SleepUnlessStopping(backoff)) return;
    backoff = std::min(backoff * 2, 1.0);  // short: a restarted RSS gives runs one lease to return
  }
}

}  // namespace libsrs
}  // namespace srs
