#include "libsrs/src/async_flusher.h"

#include <utility>

namespace srs {
namespace libsrs {

AsyncFlusher::~AsyncFlusher() {
  {
    absl::MutexLock lock(&mu_);
    quit_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status AsyncFlusher::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (busy_) return absl::FailedPreconditionError("async flusher: a task is still running");
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  task_ = std::move(task);
  busy_ = true;
  return absl::OkStatus();
}

bool AsyncFlusher::busy() {
  absl::MutexLock lock(&mu_);
  return busy_;
}

void AsyncFlusher::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &AsyncFlusher::Idle));
}

void AsyncFlusher::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AsyncFlusher::HasWork));
      // A task already posted still runs: its owner waits for its outcome or is going away.
      if (task_ == nullptr) return;
      task = std::move(task_);
      task_ = nullptr;
    }
    task();
    absl::MutexLock lock(&mu_);
    busy_ = false;
  }
}

}  // namespace libsrs
}  // namespace srs
