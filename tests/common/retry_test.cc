#include "common/retry.h"

#include <gtest/gtest.h>

#include <vector>

namespace srs {
namespace {

// A clock that only moves when the retry loop sleeps (or an attempt takes time).
struct FakeTime {
  absl::Time now = absl::UnixEpoch() + absl::Hours(1);
  std::vector<absl::Duration> sleeps;

  RetryOptions Options(double u = 0.5) {
    RetryOptions options;
    options.clock.now = [this] { return now; };
    options.clock.sleep = [this](absl::Duration d) {
      sleeps.push_back(d);
      now += d;
    };
    options.clock.uniform = [u] { return u; };
    return options;
  }
};

TEST(Retry, SucceedsAfterTransientUnavailable) {
  FakeTime t;
  int calls = 0;
  absl::Status status = RetryUntil(t.now + absl::Seconds(30), t.Options(), "call", [&](absl::Time) {
    return ++calls < 4 ? absl::UnavailableError("down") : absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(calls, 4);
  // No jitter at u = 0.5: 50, 100, 200 ms.
  ASSERT_EQ(t.sleeps.size(), 3u);
  EXPECT_EQ(t.sleeps[0], absl::Milliseconds(50));
  EXPECT_EQ(t.sleeps[1], absl::Milliseconds(100));
  EXPECT_EQ(t.sleeps[2], absl::Milliseconds(200));
}

TEST(Retry, StopsAtTheDeadlineWithTheLastErrorAndItsCode) {
  FakeTime t;
  absl::Time deadline = t.now + absl::Seconds(5);
  int calls = 0;
  absl::Status status = RetryUntil(deadline, t.Options(), "call", [&](absl::Time) {
    ++calls;
    return absl::UnavailableError("rss 127.0.0.1:1: connection refused");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("connection refused"), std::string::npos);
  EXPECT_NE(status.message().find("attempts in"), std::string::npos) << status;
  EXPECT_LE(t.now, deadline);
  EXPECT_GT(calls, 3);
  // Backoff is capped at max_backoff.
  for (absl::Duration d : t.sleeps) EXPECT_LE(d, RetryOptions().max_backoff * 1.25);
}

TEST(Retry, DoesNotRetryPermanentErrors) {
  FakeTime t;
  for (absl::Status error :
       {absl::InvalidArgumentError("bad"), absl::NotFoundError("gone"),
        absl::PermissionDeniedError("no"), absl::ResourceExhaustedError("full"),
        absl::FailedPreconditionError("state"), absl::DeadlineExceededError("slow")}) {
    int calls = 0;
    absl::Status status =
        RetryUntil(t.now + absl::Seconds(30), t.Options(), "call", [&](absl::Time) {
          ++calls;
          return error;
        });
    EXPECT_EQ(status, error);
    EXPECT_EQ(calls, 1) << error;
  }
  EXPECT_TRUE(t.sleeps.empty());
}

TEST(Retry, NonIdempotentCallsAreNeverRetried) {
  FakeTime t;
  RetryOptions options = t.Options();
  options.idempotent = false;
  int calls = 0;
  absl::Status status = RetryUntil(t.now + absl::Seconds(30), options, "call", [&](absl::Time) {
    ++calls;
    return absl::UnavailableError("down");
  });
  EXPECT_TRUE(absl::IsUnavailable(status));
  EXPECT_EQ(calls, 1);
}

TEST(Retry, AbortedIsRetriedForIdempotentCalls) {
  FakeTime t;
  int calls = 0;
  absl::Status status = RetryUntil(t.now + absl::Seconds(30), t.Options(), "call", [&](absl::Time) {
    return ++calls < 2 ? absl::AbortedError("conflict") : absl::OkStatus();
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(calls, 2);
}

TEST(Retry, DeadlineExceededOnlyWhenTheAttemptHadLessTimeThanTheWhole) {
  RetryOptions options;
  absl::Time deadline = absl::UnixEpoch() + absl::Seconds(10);
  absl::Status late = absl::DeadlineExceededError("late");
  EXPECT_FALSE(RetryableFailure(late, options, deadline, deadline));
  EXPECT_TRUE(RetryableFailure(late, options, deadline - absl::Seconds(5), deadline));
}

TEST(Retry, JitterStaysWithinItsBand) {
  RetryOptions options;
  options.clock.uniform = [] { return 0.0; };
  EXPECT_EQ(RetryBackoff(options, 1), absl::Milliseconds(50) * 0.75);
  options.clock.uniform = [] { return 1.0; };
  EXPECT_EQ(RetryBackoff(options, 1), absl::Milliseconds(50) * 1.25);
  options.clock.uniform = {};  // real randomness
  for (int i = 0; i < 100; ++i) {
    absl::Duration d = RetryBackoff(options, 20);
    EXPECT_GE(d, RetryOptions().max_backoff * 0.75);
    EXPECT_LE(d, RetryOptions().max_backoff * 1.25);
  }
}

TEST(Retry, ValueOfTheFirstSuccess) {
  FakeTime t;
  int calls = 0;
  absl::StatusOr<int> value = RetryUntilValue<int>(t.now + absl::Seconds(30), t.Options(), "call",
                                                   [&](absl::Time) -> absl::StatusOr<int> {
                                                     if (++calls < 3)
                                                       return absl::UnavailableError("down");
                                                     return 42;
                                                   });
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 42);
}

}  // namespace
}  // namespace srs
