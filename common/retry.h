// Retries with deadlines: a call that failed because its peer blinked (restart, dropped
// connection) is tried again with exponential backoff and jitter until it succeeds, fails for a
// reason retrying cannot fix, or its deadline passes. The deadline is the whole budget (attempts
// and sleeps together), so a caller waits at most about as long as one call's rpc_timeout.
//
// What is retried (RetryableFailure):
//   - UNAVAILABLE: the peer could not be reached or the connection broke. Retried for idempotent
//     calls only: a call that may have been executed must be safe to run twice.
//   - ABORTED: a transient conflict; retried for idempotent calls.
//   - DEADLINE_EXCEEDED: only when the attempt's own deadline ended before the overall one (the
//     request may never have been sent; an idempotent call may go again).
// Everything else (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED, ...)
// returns at once: it would fail the same way again.
//
//   RetryOptions options;  // 50 ms doubling up to 1 s, +-25 % jitter
//   absl::Status status = RetryUntil(absl::Now() + rpc_timeout, options, "FinishRun",
//       [&](absl::Time attempt_deadline) { return CallOnce(attempt_deadline); });
//
// The clock and the sleep are injectable (RetryOptions::clock), so tests run without waiting.
#ifndef SRS_COMMON_RETRY_H_
#define SRS_COMMON_RETRY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace srs {

// Time as the retry loop sees it. Real by default; tests substitute a fake.
struct RetryClock {
  std::function<absl::Time()> now = [] { return absl::Now(); };
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
  // A value in [0, 1) for the jitter.
  std::function<double()> uniform;  // empty = absl::BitGen
};

struct RetryOptions {
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(1);
  double multiplier = 2.0;
  // Each sleep is the backoff times a factor drawn uniformly from [1 - jitter, 1 + jitter], so
  // ranks or clients that failed together do not retry in lock step.
  double jitter = 0.25;
  // Whether running the call twice is harmless (see the header comment).
  bool idempotent = true;
  RetryClock clock;
};

// True if `status` (the result of one attempt that had `attempt_deadline`, within the overall
// `deadline`) may be retried under `options`.
bool RetryableFailure(const absl::Status& status, const RetryOptions& options,
                      absl::Time attempt_deadline, absl::Time deadline);

// The sleep before attempt `attempt` (1 = the first retry), jitter included, never beyond
// max_backoff * (1 + jitter).
absl::Duration RetryBackoff(const RetryOptions& options, int attempt);

// Runs `attempt(attempt_deadline)` until it returns OK or a non-retryable error, or `deadline`
// passes. `attempt_deadline` is the overall deadline (an attempt may use all that is left). The
// last error is returned with its code; when more than one attempt was made its message ends
// with "(N attempts in S s)". `what` names the call for the debug log.
absl::Status RetryUntil(absl::Time deadline, const RetryOptions& options, absl::string_view what,
                        const std::function<absl::Status(absl::Time attempt_deadline)>& attempt);

// Same for a call with a value: the value of the first successful attempt.
template <typename T>
absl::StatusOr<T> RetryUntilValue(
    absl::Time deadline, const RetryOptions& options, absl::string_view what,
    const std::function<absl::StatusOr<T>(absl::Time attempt_deadline)>& attempt) {
  absl::StatusOr<T> result = absl::UnknownError("not attempted");
  absl::Status status = RetryUntil(deadline, options, what, [&](absl::Time attempt_deadline) {
    result = attempt(attempt_deadline);
    return result.status();
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace srs

#endif  // SRS_COMMON_RETRY_H_
