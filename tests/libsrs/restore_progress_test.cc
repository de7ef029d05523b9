// RestoreProgress (libsrs/src/restore_progress.h): when it is on, what it estimates, and that
// it draws only after a while and erases what it drew. The line on a real resume under a
// terminal is tests/tools/resume_progress.sh's.
#include "libsrs/src/restore_progress.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "absl/time/clock.h"

namespace srs {
namespace libsrs {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

TEST(RestoreProgressTest, OnlyWhenAskedAndLarge) {
  RestoreProgress small(true, RestoreProgress::kMinBytes - 1);
  EXPECT_FALSE(small.enabled());
  EXPECT_EQ(small.fetched(), nullptr);  // the fetch path does nothing extra
  RestoreProgress unasked(false, 100 * kMiB);
  EXPECT_FALSE(unasked.enabled());
  EXPECT_EQ(unasked.fetched(), nullptr);
  RestoreProgress large(true, RestoreProgress::kMinBytes);
  EXPECT_TRUE(large.enabled());
  EXPECT_NE(large.fetched(), nullptr);
}

TEST(RestoreProgressTest, RequestedByEnvMeansExactlyOne) {
  unsetenv("SRS_PROGRESS");
  EXPECT_FALSE(RestoreProgress::RequestedByEnv());
  setenv("SRS_PROGRESS", "0", 1);
  EXPECT_FALSE(RestoreProgress::RequestedByEnv());
  setenv("SRS_PROGRESS", "1", 1);
  EXPECT_TRUE(RestoreProgress::RequestedByEnv());
  unsetenv("SRS_PROGRESS");
}

// Done = finished arrays + this rank's fraction of its share times the current array.
TEST(RestoreProgressTest, EstimatesFromThisRanksShare) {
  RestoreProgress progress(true, 100 * kMiB);
  progress.BeginArray(60 * kMiB);
  EXPECT_EQ(progress.EstimatedDone(), 0);
  progress.fetched()->fetch_add(5 * kMiB);  // share not known yet: nothing estimated
  EXPECT_EQ(progress.EstimatedDone(), 0);
  progress.SetMyBytes(20 * kMiB);
  EXPECT_EQ(progress.EstimatedDone(), 15 * kMiB);  // a quarter of 60 MiB
  progress.fetched()->fetch_add(45 * kMiB);        // counted twice (a retry): capped at the array
  EXPECT_EQ(progress.EstimatedDone(), 60 * kMiB);
  progress.EndArray();
  EXPECT_EQ(progress.EstimatedDone(), 60 * kMiB);
  progress.BeginArray(40 * kMiB);
  EXPECT_EQ(progress.fetched()->load(), 0);  // each array counts afresh
  progress.EndArray();
  EXPECT_EQ(progress.EstimatedDone(), 100 * kMiB);
  progress.BeginArray(40 * kMiB);  // read again: never past the total
  progress.EndArray();
  EXPECT_EQ(progress.EstimatedDone(), 100 * kMiB);
}

TEST(RestoreProgressTest, QuickReadsDrawNothing) {
  RestoreProgress progress(true, 100 * kMiB);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) {
    progress.BeginArray(10 * kMiB);
    progress.SetMyBytes(kMiB);
    progress.fetched()->fetch_add(kMiB);
    progress.EndArray();
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(RestoreProgressTest, ALongReadDrawsInPlaceAndErases) {
  RestoreProgress progress(true, 100 * kMiB);
  ::testing::internal::CaptureStderr();
  progress.BeginArray(100 * kMiB);
  progress.SetMyBytes(50 * kMiB);
  progress.fetched()->fetch_add(25 * kMiB);
  absl::SleepFor(RestoreProgress::kShowAfter + 3 * RestoreProgress::kRedrawEvery);
  progress.EndArray();
  const std::string drawn = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(drawn.rfind("\rsrs resume: 50.0 MiB of 100.0 MiB  50%  ", 0), 0) << drawn;
  EXPECT_NE(drawn.find(" left\033[K"), std::string::npos) << drawn;
  EXPECT_EQ(drawn.find('\n'), std::string::npos) << drawn;  // one line, redrawn
  // At most one draw per kRedrawEvery after kShowAfter: 3 here, give or take a tick.
  size_t draws = 0;
  for (size_t at = drawn.find("srs resume:"); at != std::string::npos;
       at = drawn.find("srs resume:", at + 1)) {
    ++draws;
  }
  EXPECT_GE(draws, 1u);
  EXPECT_LE(draws, 5u);
  const std::string erase = "\r\033[K";
  ASSERT_GE(drawn.size(), erase.size());
  EXPECT_EQ(drawn.substr(drawn.size() - erase.size()), erase) << drawn;
}

}  // namespace
}  // namespace libsrs
}  // namespace srs
