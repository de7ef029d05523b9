// Unit tests of the bounds on valid requests (rss/request_budget.h) and of the packed rank
// placements (rss/run_ranks.h), plus their wiring into RssState (admit_new_job, a restart).
#include "rss/request_budget.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "rss/rss_state.h"
#include "rss/run_ranks.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMiB = int64_t{1} << 20;

TEST(RequestBudgetTest, SmallCallsAreNotMeteredAndLeasesGiveBytesBack) {
  RequestBudget budget(8 * kMiB, absl::Milliseconds(10));
  auto small = budget.Acquire("RegisterRun", kUnmeteredRequestBytes - 1);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(budget.in_use(), 0);
  {
    auto big = budget.Acquire("RegisterRun", 5 * kMiB);
    ASSERT_TRUE(big.ok());
    EXPECT_EQ(budget.in_use(), 5 * kMiB);
  }
  EXPECT_EQ(budget.in_use(), 0);
}

TEST(RequestBudgetTest, ACallThatDoesNotFitWaitsThenIsShedWithTryAgain) {
  RequestBudget budget(8 * kMiB, absl::Milliseconds(50));
  auto first = budget.Acquire("RegisterRun", 6 * kMiB);
  ASSERT_TRUE(first.ok());
  auto second = budget.Acquire("ReportPieces", 4 * kMiB);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(second.status().message(), HasSubstr("ReportPieces"));
  EXPECT_THAT(second.status().message(), HasSubstr("try again"));
  EXPECT_THAT(second.status().message(), HasSubstr("--request-budget-mib"));
  EXPECT_EQ(budget.shed(), 1);
}

TEST(RequestBudgetTest, AQueuedCallProceedsWhenAnEarlierOneFinishes) {
  RequestBudget budget(8 * kMiB, absl::Seconds(30));
  auto first = std::make_unique<absl::StatusOr<RequestBudget::Lease>>(
      budget.Acquire("RegisterRun", 6 * kMiB));
  ASSERT_TRUE(first->ok());
  std::atomic<bool> admitted{false};
  std::thread waiter([&] {
    auto second = budget.Acquire("RegisterRun", 6 * kMiB);
    admitted = second.ok();
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(admitted.load());  // still waiting: 12 MiB do not fit in 8
  first.reset();                  // the earlier call ends
  waiter.join();
  EXPECT_TRUE(admitted.load());
  EXPECT_EQ(budget.in_use(), 0);
}

TEST(RequestBudgetTest, WhenTheQueueIsFullACallIsShedWithoutWaiting) {
  RequestBudget budget(8 * kMiB, absl::Seconds(30));
  auto first = std::make_unique<absl::StatusOr<RequestBudget::Lease>>(
      budget.Acquire("RegisterRun", 8 * kMiB));
  ASSERT_TRUE(first->ok());
  std::atomic<bool> admitted{false};
  std::thread waiter([&] { admitted = budget.Acquire("RegisterRun", 6 * kMiB).ok(); });
  while (budget.waiting() == 0) absl::SleepFor(absl::Milliseconds(5));
  // 6 MiB are waiting; 4 more would make the queue 10 MiB > 8: refused at once, not in 30 s.
  absl::Time start = absl::Now();
  auto second = budget.Acquire("RegisterRun", 4 * kMiB);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  first.reset();  // the 8 MiB are released: the waiter runs
  waiter.join();
  EXPECT_TRUE(admitted.load());
  EXPECT_EQ(budget.in_use(), 0);
  EXPECT_EQ(budget.waiting(), 0);
}

TEST(RequestBudgetTest, ARequestLargerThanTheBudgetRunsAloneAndZeroCapacityIsUnbounded) {
  RequestBudget budget(8 * kMiB, absl::Milliseconds(10));
  auto huge = budget.Acquire("RegisterRun", 60 * kMiB);
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(budget.in_use(), 8 * kMiB);
  EXPECT_FALSE(budget.Acquire("RegisterRun", 1 * kMiB).ok());
  RequestBudget unbounded(0, absl::Milliseconds(10));
  auto a = unbounded.Acquire("RegisterRun", 60 * kMiB);
  auto b = unbounded.Acquire("RegisterRun", 60 * kMiB);
  EXPECT_TRUE(a.ok() && b.ok());
}

TEST(NewJobGateTest, CapsTheJobCountForEveryoneAndTheAnonymousRate) {
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  NewJobLimits limits;
  limits.max_jobs = 10;
  limits.per_minute = 60;  // one a second
  limits.burst = 3;
  limits.clock = [&] { return now; };
  NewJobGate gate(limits);
  absl::Status capped = gate.Admit(10, /*admin=*/true);
  EXPECT_EQ(capped.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(capped.message(), HasSubstr("--max-jobs 10"));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(gate.Admit(i, false).ok()) << i;  // the burst
  absl::Status fast = gate.Admit(3, false);
  EXPECT_EQ(fast.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(fast.message(), HasSubstr("--new-jobs-per-minute"));
  EXPECT_TRUE(gate.Admit(3, /*admin=*/true).ok());  // the admin token is not rate limited
  now += absl::Seconds(1);
  EXPECT_TRUE(gate.Admit(4, false).ok());  // refilled one
  EXPECT_FALSE(gate.Admit(5, false).ok());
  now += absl::Hours(1);  // refills up to the burst, not beyond
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(gate.Admit(5, false).ok()) << i;
  EXPECT_FALSE(gate.Admit(8, false).ok());
}

TEST(RunRanksTest, PackedRanksRoundTripThroughTheSameBlob) {
  RunRow row;
  row.config.set_run_id("j-1");
  row.config.set_nprocs(3);
  for (int r = 0; r < 3; ++r) {
    v1::RankPlacement* rank = row.config.add_ranks();
    rank->set_rank(r);
    rank->set_host(r == 1 ? "b" : "a");
    rank->set_depot("d:1");
  }
  v1::Configuration original = row.config;
  PackRanks(&row);
  EXPECT_EQ(row.config.ranks_size(), 0);
  EXPECT_THAT(row.hosts, ElementsAre("a", "b"));
  EXPECT_THAT(HostsOf(row), ElementsAre("a", "b"));
  EXPECT_EQ(FullConfig(row).SerializeAsString(), original.SerializeAsString());
  // What the store writes (config, then the packed ranks) parses as the original.
  v1::Configuration stored;
  ASSERT_TRUE(stored.ParseFromString(row.config.SerializeAsString() + row.ranks_wire));
  EXPECT_EQ(stored.SerializeAsString(), original.SerializeAsString());
}

TEST(RunRanksTest, ManyHostsAreRecomputedInsteadOfCached) {
  RunRow row;
  int n = static_cast<int>(kMaxCachedHosts) + 5;
  for (int r = 0; r < n; ++r) {
    v1::RankPlacement* rank = row.config.add_ranks();
    rank->set_rank(r);
    rank->set_host(absl::StrCat("h", r));
  }
  PackRanks(&row);
  EXPECT_FALSE(row.hosts_complete);
  EXPECT_TRUE(row.hosts.empty());
  std::vector<std::string> hosts = HostsOf(row);
  ASSERT_EQ(hosts.size(), static_cast<size_t>(n));
  EXPECT_EQ(hosts.back(), absl::StrCat("h", n - 1));
}

class StateBoundsTest : public ::testing::Test {
 protected:
  std::unique_ptr<RssState> Open(std::function<absl::Status(int64_t, bool)> admit) {
    RssStateOptions options;
    options.admit_new_job = std::move(admit);
    auto state = RssState::Open(dir_.path() + "/rss.db", &janitor_, options);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? std::move(*state) : nullptr;
  }
  testing_util::TempDir dir_;
  testing_util::FakeJanitor janitor_;
};

TEST_F(StateBoundsTest, TheGateIsAskedOnlyForNewJobsAndItsRefusalIsTheAnswer) {
  std::vector<std::pair<int64_t, bool>> asked;
  bool refuse = false;
  auto state = Open([&](int64_t jobs, bool admin) {
    asked.emplace_back(jobs, admin);
    return refuse ? absl::ResourceExhaustedError("full") : absl::OkStatus();
  });
  ASSERT_NE(state, nullptr);
  auto first = state->RegisterRun(testing_util::RunRequest("a", 2, "d:1"), false);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(state->FinishRun(first->run_id()).ok());
  refuse = true;
  auto other = state->RegisterRun(testing_util::RunRequest("b", 2, "d:1"), true);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kResourceExhausted);
  v1::RegisterRunRequest again = testing_util::RunRequest("a", 2, "d:1");
  again.set_owner_secret(first->owner_secret());
  EXPECT_TRUE(state->RegisterRun(again, false).ok());  // an existing job is not a new one
  EXPECT_THAT(asked,
              ElementsAre(std::make_pair(int64_t{0}, false), std::make_pair(int64_t{1}, true)));
  EXPECT_EQ(state->ListJobs().size(), 1u);
}

TEST_F(StateBoundsTest, PlacementsSurviveAReopenSortedWithTheirDepotsAndHosts) {
  {
    auto state = Open(nullptr);
    ASSERT_NE(state, nullptr);
    v1::RegisterRunRequest req = testing_util::RunRequest("j", 4, "d:1");
    std::reverse(req.mutable_ranks()->begin(), req.mutable_ranks()->end());  // any order
    auto resp = state->RegisterRun(req, false);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_THAT(resp->rank_depots(), ElementsAre("d:1", "d:1", "d:1", "d:1"));
  }
  auto state = Open(nullptr);  // loaded from the database
  ASSERT_NE(state, nullptr);
  auto job = state->GetJob("j");
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(job->runs_size(), 1);
  ASSERT_EQ(job->runs(0).ranks_size(), 4);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(job->runs(0).ranks(r).rank(), r);
    EXPECT_EQ(job->runs(0).ranks(r).depot(), "d:1");
  }
  EXPECT_THAT(job->summary().hosts(), ElementsAre("node0", "node1"));  // in rank order
}

TEST_F(StateBoundsTest, ReportPiecesRefusesARankTwiceInOneRequestAndTakesTheRest) {
  auto state = Open(nullptr);
  ASSERT_NE(state, nullptr);
  auto run = state->RegisterRun(testing_util::RunRequest("p", 3, "d:1"), false);
  ASSERT_TRUE(run.ok()) << run.status();
  auto epoch = state->BeginCheckpoint(
      run->run_id(), testing_util::BeginRequest(run->run_token(), 3, v1::REASON_PERIODIC));
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  v1::ReportPiecesRequest twice = testing_util::Report(run->run_token(), *epoch, 0, 2, "d:1");
  *twice.add_pieces() = twice.pieces(0);
  absl::Status refused = state->ReportPieces(run->run_id(), twice);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("appears twice"));
  EXPECT_TRUE(
      state
          ->ReportPieces(run->run_id(), testing_util::Report(run->run_token(), *epoch, 0, 3, "d:1"))
          .ok());
}

}  // namespace
}  // namespace srs
