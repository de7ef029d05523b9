#include "common/retry.h"

#include <algorithm>
#include <cmath>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace srs {

bool RetryableFailure(const absl::Status& status, const RetryOptions& options,
                      absl::Time attempt_deadline, absl::Time deadline) {
  if (!options.idempotent) return false;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
      return true;
    case absl::StatusCode::kDeadlineExceeded:
      return attempt_deadline < deadline;
    default:
      return false;
  }
}

absl::Duration RetryBackoff(const RetryOptions& options, int attempt) {
  double factor = std::pow(std::max(options.multiplier, 1.0), std::max(attempt - 1, 0));
  absl::Duration backoff = std::min(options.initial_backoff * factor, options.max_backoff);
  double jitter = std::clamp(options.jitter, 0.0, 1.0);
  double u = 0.5;
  if (options.clock.uniform) {
    u = options.clock.uniform();
  } else {
    static thread_local absl::BitGen gen;
    u = absl::Uniform(gen, 0.0, 1.0);
  }
  return backoff * (1.0 - jitter + 2.0 * jitter * std::clamp(u, 0.0, 1.0));
}

absl::Status RetryUntil(absl::Time deadline, const RetryOptions& options, absl::string_view what,
                        const std::function<absl::Status(absl::Time attempt_deadline)>& attempt) {
  const RetryClock& clock = options.clock;
  const absl::Time start = clock.now();
  absl::Status status;
  for (int attempts = 1;; ++attempts) {
    status = attempt(deadline);
    if (status.ok() || !RetryableFailure(status, options, deadline, deadline)) break;
    absl::Duration left = deadline - clock.now();
    absl::Duration pause = RetryBackoff(options, attempts);
    if (left <= pause) {
      if (attempts > 1) {
        return absl::Status(status.code(),
                            absl::StrCat(status.message(), " (", attempts, " attempts in ",
                                         absl::FormatDuration(clock.now() - start), ")"));
      }
      break;
    }
    SRS_LOG(DEBUG) << what << ": attempt " << attempts << " failed (" << status.ToString()
                   << "), retrying in " << absl::FormatDuration(pause);
    clock.sleep(pause);
  }
  return status;
}

}  // namespace srs
