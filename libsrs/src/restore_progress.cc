#include "libsrs/src/restore_progress.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "common/progress_line.h"

namespace srs {
namespace libsrs {

RestoreProgress::RestoreProgress(bool wanted, int64_t total_bytes)
    : enabled_(wanted && total_bytes >= kMinBytes), total_(total_bytes) {}

RestoreProgress::~RestoreProgress() { EndArray(); }

bool RestoreProgress::RequestedByEnv() {
  const char* value = std::getenv("SRS_PROGRESS");
  return value != nullptr && std::strcmp(value, "1") == 0;
}

void RestoreProgress::BeginArray(int64_t array_bytes) {
  if (!enabled_) return;
  EndArray();
  if (start_ == absl::InfinitePast()) start_ = absl::Now();
  array_bytes_.store(array_bytes > 0 ? array_bytes : 0, std::memory_order_relaxed);
  my_bytes_.store(0, std::memory_order_relaxed);
  fetched_.store(0, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
    drawn_ = false;
  }
  drawer_ = std::thread([this] { DrawLoop(); });
}

int64_t RestoreProgress::EstimatedDone() const {
  int64_t done = finished_.load(std::memory_order_relaxed);
  const int64_t mine = my_bytes_.load(std::memory_order_relaxed);
  const int64_t got = fetched_.load(std::memory_order_relaxed);
  if (mine > 0 && got > 0) {
    // A copy that failed halfway and was read again elsewhere may have counted twice: cap.
    double fraction = got >= mine ? 1.0 : static_cast<double>(got) / static_cast<double>(mine);
    done += static_cast<int64_t>(fraction *
                                 static_cast<double>(array_bytes_.load(std::memory_order_relaxed)));
  }
  return done < total_ ? done : total_;
}

void RestoreProgress::DrawLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, absl::ToChronoMilliseconds(kRedrawEvery), [this] { return stop_; });
    if (stop_) break;
    const absl::Duration elapsed = absl::Now() - start_;
    if (elapsed < kShowAfter) continue;
    // \r and "erase to end of line" keep it one line however its length changes; one write,
    // so mpiexec forwards it whole.
    std::string line =
        "\r" + ProgressLine("srs resume", EstimatedDone(), total_, elapsed) + "\033[K";
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
    drawn_ = true;
  }
  if (drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
}

void RestoreProgress::EndArray() {
  if (!drawer_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  drawer_.join();
  finished_.fetch_add(array_bytes_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  array_bytes_.store(0, std::memory_order_relaxed);
  my_bytes_.store(0, std::memory_order_relaxed);
  fetched_.store(0, std::memory_order_relaxed);
}

}  // namespace libsrs
}  // namespace srs
