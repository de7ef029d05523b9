// CheckpointProgress (libsrs/src/checkpoint_progress.h): its estimate, and that its reports reach
// a real srs-rss and come back in GetJob while the checkpoint is pending. What `srs stop --wait`
// draws from them on a terminal is tests/tools/stop_progress.sh's.
#include "libsrs/src/checkpoint_progress.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "tests/rss/rss_daemon_fixture.h"

namespace srs {
namespace libsrs {
namespace {

namespace v1 = rss::v1;
using testing_util::BeginRequest;
using testing_util::RunRequest;

constexpr int64_t kMiB = int64_t{1} << 20;

TEST(CheckpointProgressEstimate, ScalesRankZerosShareToTheWholeAndCapsIt) {
  EXPECT_EQ(CheckpointProgress::Estimate(0, 10 * kMiB, 40 * kMiB), 0);
  EXPECT_EQ(CheckpointProgress::Estimate(5 * kMiB, 10 * kMiB, 40 * kMiB), 20 * kMiB);
  EXPECT_EQ(CheckpointProgress::Estimate(10 * kMiB, 10 * kMiB, 40 * kMiB), 40 * kMiB);
  // The piece file holds HDF5's metadata too: more than the data is all of it, not more.
  EXPECT_EQ(CheckpointProgress::Estimate(11 * kMiB, 10 * kMiB, 40 * kMiB), 40 * kMiB);
  EXPECT_EQ(CheckpointProgress::Estimate(5 * kMiB, 0, 40 * kMiB), 0);  // rank 0 holds nothing
  EXPECT_EQ(CheckpointProgress::Estimate(-1, 10 * kMiB, 40 * kMiB), 0);
  // No overflow at the largest sizes.
  const int64_t huge = int64_t{1} << 60;
  EXPECT_EQ(CheckpointProgress::Estimate(huge / 2, huge, huge), huge / 2);
}

class CheckpointProgressTest : public RssDaemonTest {
 protected:
  // The pending checkpoint's progress as GetJob shows it; {-1, -1} if the epoch is not there.
  std::pair<int64_t, int64_t> Shown(int64_t epoch) {
    auto job = Job("heat");
    if (job.ok()) {
      for (const v1::CheckpointSummary& ckpt : job->checkpoints()) {
        if (ckpt.epoch() == epoch) return {ckpt.progress_bytes(), ckpt.progress_total_bytes()};
      }
    }
    return {-1, -1};
  }
  // Polls GetJob until it shows `want` (a condition, not a sleep); false after 10 s.
  bool WaitShown(int64_t epoch, std::pair<int64_t, int64_t> want) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (Shown(epoch) == want) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return Shown(epoch) == want;
  }
};

TEST_F(CheckpointProgressTest, ReportsReachGetJobWhileTheWriteGoesOn) {
  auto run = RegisterOwned(RunRequest("heat", 2, depot_->address()));
  ASSERT_TRUE(run.ok()) << run.status();
  Watcher watcher(client_.get(), run->run_token());  // keeps the run's 1 s lease alive
  auto begun = client_->BeginCheckpoint(BeginRequest(run->run_token(), 2, v1::REASON_STOP));
  ASSERT_TRUE(begun.ok()) << begun.status();
  const int64_t total = 64 * kMiB, mine = 32 * kMiB;
  {
    CheckpointProgress progress(client_.get(), run->run_token(), begun->epoch(), total, mine);
    progress.my_done()->store(8 * kMiB);
    EXPECT_TRUE(WaitShown(begun->epoch(), {16 * kMiB, total})) << Shown(begun->epoch()).first;
    progress.my_done()->store(mine);
    EXPECT_TRUE(WaitShown(begun->epoch(), {total, total})) << Shown(begun->epoch()).first;
  }
}

TEST_F(CheckpointProgressTest, ASmallCheckpointOrNoRssSendsNothing) {
  auto run = RegisterOwned(RunRequest("heat", 2, depot_->address()));
  ASSERT_TRUE(run.ok()) << run.status();
  Watcher watcher(client_.get(), run->run_token());  // keeps the run's 1 s lease alive
  auto begun = client_->BeginCheckpoint(BeginRequest(run->run_token(), 2, v1::REASON_STOP));
  ASSERT_TRUE(begun.ok()) << begun.status();
  {
    // Below kMinBytes no thread runs; a report would show within kFirstReportAfter plus one
    // round trip: a large one started after it is the witness that the small one sent nothing.
    CheckpointProgress small(client_.get(), run->run_token(), begun->epoch(),
                             CheckpointProgress::kMinBytes - 1, 1 * kMiB);
    small.my_done()->store(1 * kMiB);
    CheckpointProgress no_rss(nullptr, run->run_token(), begun->epoch(), 64 * kMiB, 32 * kMiB);
    no_rss.my_done()->store(32 * kMiB);
    CheckpointProgress witness(client_.get(), run->run_token(), begun->epoch(), 64 * kMiB,
                               32 * kMiB);
    witness.my_done()->store(2 * kMiB);
    EXPECT_TRUE(WaitShown(begun->epoch(), {4 * kMiB, 64 * kMiB}));
    absl::SleepFor(CheckpointProgress::kReportEvery * 2);
    EXPECT_EQ(Shown(begun->epoch()), std::make_pair(4 * kMiB, 64 * kMiB));
  }
}

}  // namespace
}  // namespace libsrs
}  // namespace srs
