#include "rss/request_budget.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace srs {

RequestBudget::RequestBudget(int64_t capacity_bytes, absl::Duration max_wait)
    : capacity_(capacity_bytes), max_wait_(max_wait) {}

RequestBudget::Lease& RequestBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (budget_ != nullptr) budget_->Release(bytes_);
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = other.bytes_;
  }
  return *this;
}

RequestBudget::Lease::~Lease() {
  if (budget_ != nullptr) budget_->Release(bytes_);
}

absl::StatusOr<RequestBudget::Lease> RequestBudget::Acquire(absl::string_view call, int64_t bytes) {
  if (capacity_ <= 0 || bytes < kUnmeteredRequestBytes) return Lease();
  // Clamped: a request larger than the whole budget still runs, alone.
  int64_t want = std::min(bytes, capacity_);
  absl::MutexLock lock(&mu_);
  auto fits = [this, want]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_use_ + want <= capacity_; };
  bool admitted = fits();
  if (!admitted && waiting_ + want <= capacity_) {
    waiting_ += want;
    admitted = mu_.AwaitWithTimeout(absl::Condition(&fits), max_wait_);
    waiting_ -= want;
  }
  if (!admitted) {
    ++shed_;
    return absl::ResourceExhaustedError(
        absl::StrCat(call, ": the rss is busy with ", in_use_ >> 20,
                     " MiB of other large requests (its budget is ", capacity_ >> 20,
                     " MiB, srs-rss --request-budget-mib); try again"));
  }
  in_use_ += want;
  return Lease(this, want);
}

void RequestBudget::Release(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  in_use_ -= bytes;
}

int64_t RequestBudget::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int64_t RequestBudget::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

int64_t RequestBudget::shed() const {
  absl::MutexLock lock(&mu_);
  return shed_;
}

NewJobGate::NewJobGate(NewJobLimits limits)
    : limits_(std::move(limits)), tokens_(limits_.burst), refilled_(limits_.clock()) {}

absl::Status NewJobGate::Admit(int64_t existing_jobs, bool admin) {
  if (limits_.max_jobs > 0 && existing_jobs >= limits_.max_jobs) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "RegisterRun: the rss already holds ", existing_jobs, " jobs, its limit (srs-rss ",
        "--max-jobs ", limits_.max_jobs, "); no new job can be created until jobs are removed"));
  }
  if (admin || limits_.per_minute <= 0) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  absl::Time now = limits_.clock();
  double refill = absl::ToDoubleMinutes(now - refilled_) * limits_.per_minute;
  if (refill > 0) {
    tokens_ = std::min<double>(limits_.burst, tokens_ + refill);
    refilled_ = now;
  }
  if (tokens_ < 1) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "RegisterRun: too many new jobs created without the admin token (at most ",
        limits_.per_minute, " a minute after a burst of ", limits_.burst,
        ", srs-rss --new-jobs-per-minute); try again in a few seconds or register with the "
        "admin token"));
  }
  tokens_ -= 1;
  return absl::OkStatus();
}

}  // namespace srs
