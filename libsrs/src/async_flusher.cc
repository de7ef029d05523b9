#include "libsrs/src/async_flusher.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/time/clock.h"
#include "common/log.h"
#include "libsrs/src/piece_writer.h"

namespace srs {
namespace libsrs {

AsyncFlusher::~AsyncFlusher() {
  {
    absl::MutexLock lock(&mu_);
    quit_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status AsyncFlusher::Start(FlushJob job) {
  if (in_flight_) return absl::FailedPreconditionError("async flush: one is already in flight");
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  absl::MutexLock lock(&mu_);
  job_ = std::move(job);
  result_.reset();
  in_flight_ = true;
  return absl::OkStatus();
}

bool AsyncFlusher::done() {
  absl::MutexLock lock(&mu_);
  return result_.has_value();
}

void AsyncFlusher::Wait() {
  if (!in_flight_) return;
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::optional<FlushResult>* r) { return r->has_value(); }, &result_));
}

FlushResult AsyncFlusher::Take() {
  absl::MutexLock lock(&mu_);
  FlushResult result = std::move(*result_);
  result_.reset();
  job_.reset();  // releases the index tables; staging is the caller's again
  in_flight_ = false;
  return result;
}

void AsyncFlusher::HoldForTests() {
  const char* path = std::getenv("SRS_TEST_ASYNC_HOLD");
  if (path == nullptr || *path == '\0') return;
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (access(path, F_OK) != 0 && absl::Now() < deadline) {
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&quit_), absl::Milliseconds(5))) return;
  }
}

bool AsyncFlusher::HasWork() const { return quit_ || (job_.has_value() && !result_.has_value()); }

void AsyncFlusher::Loop() {
  for (;;) {
    const FlushJob* job = nullptr;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AsyncFlusher::HasWork));
      if (quit_) return;
      job = &*job_;  // stays in place until Take(), which needs result_ set first
    }
    HoldForTests();
    FlushResult result;
    result.epoch = job->epoch;
    absl::Time start = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      if (quit_) return;
    }
    result.record = job->prepared.ok() ? WritePieceDatasets(*env_, job->datasets, job->epoch)
                                       : absl::StatusOr<rss::v1::PieceRecord>(job->prepared);
    result.write_seconds = absl::ToDoubleSeconds(absl::Now() - start);
    SRS_LOG(DEBUG) << "async flush of epoch " << job->epoch << " done in " << result.write_seconds
                   << " s";
    absl::MutexLock lock(&mu_);
    result_ = std::move(result);
  }
}

}  // namespace libsrs
}  // namespace srs
