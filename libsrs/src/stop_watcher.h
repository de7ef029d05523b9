// The out-of-band stop flag (DESIGN.md §2: SRS_Check_Stop costs one small collective). On rank 0
// a background thread holds the RSS's WatchRun stream open and turns its events into atomic
// flags; SRS_Check_Stop only reads them. The stream also keeps the run's lease alive.
//
// When the RSS is down the thread reconnects with capped exponential backoff (moving through the
// RSS address list, see RssClient); the job keeps running, and a stop request made meanwhile
// arrives when the stream is back. The watcher remembers when it last heard from the RSS, so the
// job can fail clearly once it has been out of contact for rss_lost_timeout.
#ifndef SRS_LIBSRS_SRC_STOP_WATCHER_H_
#define SRS_LIBSRS_SRC_STOP_WATCHER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "rss/client/rss_client.h"

namespace srs {
namespace libsrs {

class StopWatcher {
 public:
  // Starts the thread. `rss` must outlive the watcher.
  StopWatcher(RssClient* rss, std::string run_token);
  // Stops the thread (cancels the stream, wakes the backoff sleep) and joins it.
  ~StopWatcher();
  StopWatcher(const StopWatcher&) = delete;
  StopWatcher& operator=(const StopWatcher&) = delete;

  // Request ids of pending events (0 = none). Cheap: two atomic loads.
  int64_t stop_request() const { return stop_request_.load(std::memory_order_acquire); }
  int64_t checkpoint_request() const { return checkpoint_request_.load(std::memory_order_acquire); }
  // Clears a checkpoint request once it has been served (a newer one stays pending).
  void ClearCheckpointRequest(int64_t served_id);
  // How long since the stream last delivered an event (keepalives come about once a second).
  // Zero once the RSS has ended the watch (the run is no longer active there).
  absl::Duration SinceContact() const;

 private:
  void Run();
  void OnEvent(const rss::v1::RunEvent& event);
  // Sleeps up to `seconds`; false if woken because the watcher is stopping.
  bool SleepUnlessStopping(double seconds);

  RssClient* const rss_;
  const std::string run_token_;
  std::atomic<int64_t> stop_request_{0};
  std::atomic<int64_t> checkpoint_request_{0};
  std::atomic<int64_t> last_contact_ms_;  // unix ms of the last event; INT64_MAX once ended

  std::mutex mu_;  // guards stopping_ and context_
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  // the open stream's, to cancel it
  std::thread thread_;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_STOP_WATCHER_H_
