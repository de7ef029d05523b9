// Unit tests of RssState over a real SQLite file, with a fake janitor and a hand-moved clock.
#include "rss/rss_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using ::testing::HasSubstr;
using testing_util::BeginRequest;
using testing_util::FakeJanitor;
using testing_util::Report;
using testing_util::RunRequest;

constexpr char kDepot[] = "127.0.0.1:9999";

class RssStateTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // Closes and reopens the state on the same database, as a daemon restart does.
  void Reopen() {
    state_.reset();
    RssStateOptions options;
    options.lease = absl::Seconds(10);
    options.clock = [this] { return now_; };
    auto state = RssState::Open(dir_.path() + "/rss.db", &janitor_, options);
    ASSERT_TRUE(state.ok()) << state.status();
    state_ = std::move(*state);
  }

  // The request as the job's owner sends it: with the owner secret its first registration got.
  v1::RegisterRunRequest Owned(v1::RegisterRunRequest req) {
    auto owner = owners_.find(req.job());
    if (owner != owners_.end()) req.set_owner_secret(owner->second);
    return req;
  }
  absl::StatusOr<v1::RegisterRunResponse> RegisterAsOwner(const v1::RegisterRunRequest& req,
                                                          bool admin = false) {
    auto resp = state_->RegisterRun(Owned(req), admin);
    if (resp.ok() && !resp->owner_secret().empty()) owners_[req.job()] = resp->owner_secret();
    return resp;
  }

  v1::RegisterRunResponse Register(const v1::RegisterRunRequest& req) {
    auto resp = RegisterAsOwner(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? *resp : v1::RegisterRunResponse();
  }

  // Begins, reports every rank and commits a checkpoint; returns its epoch.
  int64_t Checkpoint(const v1::RegisterRunResponse& run, int nprocs,
                     v1::CheckpointReason reason = v1::REASON_PERIODIC) {
    auto epoch =
        state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), nprocs, reason));
    EXPECT_TRUE(epoch.ok()) << epoch.status();
    EXPECT_TRUE(
        state_->ReportPieces(run.run_id(), Report(run.run_token(), *epoch, 0, nprocs, kDepot))
            .ok());
    v1::CommitCheckpointRequest commit;
    commit.set_epoch(*epoch);
    absl::Status status = state_->CommitCheckpoint(run.run_id(), commit);
    EXPECT_TRUE(status.ok()) << status;
    return *epoch;
  }

  std::string State(const std::string& job, int64_t epoch) {
    auto got = state_->GetJob(job);
    if (!got.ok()) return "no job";
    for (const auto& ckpt : got->checkpoints()) {
      if (ckpt.epoch() == epoch) return ckpt.state();
    }
    return "absent";
  }

  testing_util::TempDir dir_;
  FakeJanitor janitor_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::unique_ptr<RssState> state_;
  std::map<std::string, std::string> owners_;  // job -> owner secret
};

TEST_F(RssStateTest, FreshRunThenStopThenRestartGetsManifestWithoutManageCaps) {
  auto run = Register(RunRequest("heat", 4, kDepot));
  EXPECT_FALSE(run.restart());
  ASSERT_EQ(run.rank_depots_size(), 4);
  int64_t epoch = Checkpoint(run, 4, v1::REASON_STOP);
  EXPECT_EQ(janitor_.pinned().size(), 4u);
  EXPECT_EQ(state_->GetJob("heat")->runs(0).state(), "stopped");

  auto again = Register(RunRequest("heat", 3, kDepot));
  EXPECT_TRUE(again.restart());
  EXPECT_EQ(again.previous().nprocs(), 4);
  EXPECT_EQ(again.manifest().epoch(), epoch);
  ASSERT_EQ(again.manifest().pieces_size(), 4);
  for (const auto& piece : again.manifest().pieces()) {
    EXPECT_TRUE(piece.manage_cap().empty());
    EXPECT_FALSE(piece.read_cap().empty());
  }
  EXPECT_EQ(again.manifest().arrays(0).local_counts_size(), 4);
}

// Every registration names the epoch the job's next begin will get (RegisterRunResponse.
// next_epoch): the library writes its first piece under it while the begin is under way. An
// aborted checkpoint's epoch is not given again.
TEST_F(RssStateTest, RegistrationNamesTheNextEpochTheBeginGives) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  ASSERT_GT(run.next_epoch(), 0);
  auto first =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 2, v1::REASON_PERIODIC));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, run.next_epoch());
  v1::AbortCheckpointRequest abort;
  abort.set_run_token(run.run_token());
  abort.set_epoch(*first);
  ASSERT_TRUE(state_->AbortCheckpoint(run.run_id(), abort).ok());
  int64_t committed = Checkpoint(run, 2, v1::REASON_STOP);
  EXPECT_EQ(committed, *first + 1);
  auto again = Register(RunRequest("heat", 3, kDepot));
  EXPECT_EQ(again.next_epoch(), committed + 1);
  auto next =
      state_->BeginCheckpoint(again.run_id(), BeginRequest(again.run_token(), 3, v1::REASON_STOP));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, again.next_epoch());
}

TEST_F(RssStateTest, CommitRefusesMissingRanksAndNamesThem) {
  auto run = Register(RunRequest("heat", 6, kDepot));
  auto epoch =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 6, v1::REASON_PERIODIC));
  ASSERT_TRUE(epoch.ok());
  ASSERT_TRUE(
      state_->ReportPieces(run.run_id(), Report(run.run_token(), *epoch, 0, 3, kDepot)).ok());
  ASSERT_TRUE(
      state_->ReportPieces(run.run_id(), Report(run.run_token(), *epoch, 4, 5, kDepot)).ok());
  v1::CommitCheckpointRequest commit;
  commit.set_epoch(*epoch);
  absl::Status status = state_->CommitCheckpoint(run.run_id(), commit);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("ranks 3, 5"));
  EXPECT_EQ(State("heat", *epoch), "pending");
  EXPECT_TRUE(janitor_.pinned().empty());
}

TEST_F(RssStateTest, PinFailureFailsCommitAndKeepsPreviousRestartPoint) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  int64_t first = Checkpoint(run, 2);
  janitor_.set_pin_error(absl::UnavailableError("depot down"));
  auto epoch =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 2, v1::REASON_PERIODIC));
  ASSERT_TRUE(
      state_->ReportPieces(run.run_id(), Report(run.run_token(), *epoch, 0, 2, kDepot)).ok());
  v1::CommitCheckpointRequest commit;
  commit.set_epoch(*epoch);
  absl::Status status = state_->CommitCheckpoint(run.run_id(), commit);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(kDepot));
  EXPECT_EQ(State("heat", first), "committed");
  EXPECT_EQ(State("heat", *epoch), "pending");
  EXPECT_EQ(state_->ListJobs()[0].last_epoch(), first);
  // The depot comes back: the same commit now succeeds and retention drops the first one.
  janitor_.set_pin_error(absl::OkStatus());
  EXPECT_TRUE(state_->CommitCheckpoint(run.run_id(), commit).ok());
  EXPECT_EQ(State("heat", first), "deleted");
}

TEST_F(RssStateTest, RetentionKeepsNewestAndDeletesOlderPiecesThroughTheQueue) {
  auto run = Register(RunRequest("heat", 2, kDepot, v1::REGISTER_AUTO, /*keep=*/2));
  int64_t e1 = Checkpoint(run, 2);
  int64_t e2 = Checkpoint(run, 2);
  int64_t e3 = Checkpoint(run, 2);
  EXPECT_EQ(State("heat", e1), "deleted");
  auto job = state_->GetJob("heat");
  EXPECT_EQ(job->checkpoints(0).pieces_size(), 0);
  EXPECT_EQ(job->checkpoints(0).arrays(0).local_counts_size(), 0);  // history stays small
  EXPECT_EQ(job->checkpoints(1).arrays(0).local_counts_size(), 2);
  EXPECT_EQ(State("heat", e2), "committed");
  EXPECT_EQ(State("heat", e3), "committed");
  EXPECT_EQ(state_->ProcessDeleteQueue(), 0);
  EXPECT_EQ(janitor_.deleted(), (std::set<std::string>{"e1r0.manage", "e1r1.manage"}));
}

TEST_F(RssStateTest, DeleteQueueIsDurableAndRetriedWithBackoffUntilTheDepotAnswers) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  Checkpoint(run, 2);
  janitor_.set_delete_error(absl::UnavailableError("depot down"));
  ASSERT_TRUE(state_->FinishRun(run.run_id()).ok());
  EXPECT_EQ(state_->ProcessDeleteQueue(), 2);
  int calls = janitor_.delete_calls();
  EXPECT_EQ(state_->ProcessDeleteQueue(), 2);  // backing off: not retried at once
  EXPECT_EQ(janitor_.delete_calls(), calls);
  Reopen();  // the queue survives a restart
  janitor_.set_delete_error(absl::OkStatus());
  now_ += absl::Minutes(2);
  EXPECT_EQ(state_->ProcessDeleteQueue(), 0);
  EXPECT_EQ(janitor_.deleted().size(), 2u);
}

TEST_F(RssStateTest, ExpiredLeaseMarksRunLostAndDiscardsItsHalfWrittenCheckpoint) {
  auto run = Register(RunRequest("heat", 4, kDepot));
  int64_t committed = Checkpoint(run, 4);
  auto half =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 4, v1::REASON_PERIODIC));
  ASSERT_TRUE(
      state_->ReportPieces(run.run_id(), Report(run.run_token(), *half, 0, 2, kDepot)).ok());
  ASSERT_TRUE(state_->AttachWatch(run.run_id()).ok());
  now_ += absl::Seconds(30);
  EXPECT_EQ(state_->SweepLostRuns(), 0);  // an open watch holds the lease
  state_->DetachWatch(run.run_id());
  now_ += absl::Seconds(9);
  EXPECT_EQ(state_->SweepLostRuns(), 0);
  now_ += absl::Seconds(2);
  EXPECT_EQ(state_->SweepLostRuns(), 1);
  EXPECT_EQ(state_->GetJob("heat")->runs(0).state(), "lost");
  EXPECT_EQ(State("heat", *half), "discarded");
  EXPECT_EQ(State("heat", committed), "committed");
  state_->ProcessDeleteQueue();
  EXPECT_EQ(janitor_.deleted(), (std::set<std::string>{absl::StrCat("e", *half, "r0.manage"),
                                                       absl::StrCat("e", *half, "r1.manage")}));
  EXPECT_TRUE(absl::IsFailedPrecondition(state_->AttachWatch(run.run_id())));
  auto resumed = Register(RunRequest("heat", 5, kDepot, v1::REGISTER_RESUME));
  EXPECT_TRUE(resumed.restart());
  EXPECT_EQ(resumed.manifest().epoch(), committed);
}

TEST_F(RssStateTest, LiveRunIsNotTakenOverWithoutForce) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  auto second = RegisterAsOwner(RunRequest("heat", 2, kDepot), false);
  ASSERT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("heat"));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(run.run_id()));
  auto forced_req = RunRequest("heat", 2, kDepot);
  forced_req.set_force(true);
  EXPECT_TRUE(absl::IsPermissionDenied(RegisterAsOwner(forced_req, false).status()));
  auto forced = RegisterAsOwner(forced_req, true);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(state_->GetJob("heat")->runs(0).state(), "lost");
  EXPECT_TRUE(absl::IsPermissionDenied(state_->RunForToken("nonsense").status()));
}

TEST_F(RssStateTest, AutoDepotResolvesByHostOrNamesTheMissingHost) {
  v1::RegisterDepotRequest depot;
  depot.set_depot_id("d0");
  depot.set_host("node0");
  depot.set_address("127.0.0.1:7001");
  ASSERT_TRUE(state_->RegisterDepot(depot).ok());
  auto failed = RegisterAsOwner(RunRequest("heat", 2, "auto"), false);
  ASSERT_TRUE(absl::IsFailedPrecondition(failed.status()));
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("'node1'"));
  depot.set_depot_id("d1");
  depot.set_host("node1");
  depot.set_address("127.0.0.1:7002");
  ASSERT_TRUE(state_->RegisterDepot(depot).ok());
  depot.set_address("127.0.0.1:7003");  // re-registration upserts
  ASSERT_TRUE(state_->RegisterDepot(depot).ok());
  auto run = Register(RunRequest("heat", 3, "auto"));
  EXPECT_THAT(run.rank_depots(),
              ::testing::ElementsAre("127.0.0.1:7001", "127.0.0.1:7003", "127.0.0.1:7001"));
  EXPECT_EQ(state_->ListDepots().size(), 2u);
}

TEST_F(RssStateTest, FreshModeDeletesEarlierCheckpointsOnlyOnceItCommitsAndResumeNeedsOne) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  int64_t epoch = Checkpoint(run, 2, v1::REASON_STOP);
  auto fresh = Register(RunRequest("heat", 2, kDepot, v1::REGISTER_FRESH));
  EXPECT_FALSE(fresh.restart());
  // Until the fresh run commits, the old checkpoint stays the restart point.
  EXPECT_EQ(State("heat", epoch), "committed");
  EXPECT_TRUE(state_->GetJob("heat")->runs(1).supersedes_earlier());
  int64_t own = Checkpoint(fresh, 2);
  EXPECT_EQ(State("heat", epoch), "deleted");
  EXPECT_EQ(State("heat", own), "committed");
  state_->ProcessDeleteQueue();
  EXPECT_EQ(janitor_.deleted().size(), 2u);
  ASSERT_TRUE(state_->FinishRun(fresh.run_id()).ok());
  auto resume = RegisterAsOwner(RunRequest("heat", 2, kDepot, v1::REGISTER_RESUME), false);
  EXPECT_TRUE(absl::IsNotFound(resume.status())) << resume.status();
}

TEST_F(RssStateTest, FreshRunLostBeforeItsFirstCommitLeavesTheOldCheckpointResumable) {
  auto run = Register(RunRequest("heat", 3, kDepot));
  int64_t epoch = Checkpoint(run, 3, v1::REASON_STOP);
  auto fresh = Register(RunRequest("heat", 2, kDepot, v1::REGISTER_FRESH));
  auto pending = state_->BeginCheckpoint(fresh.run_id(),
                                         BeginRequest(fresh.run_token(), 2, v1::REASON_PERIODIC));
  ASSERT_TRUE(pending.ok());
  auto ended = state_->EndRunByLauncher("heat", fresh.run_id(), "the launcher exited with 137");
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(*ended, "lost");
  EXPECT_EQ(State("heat", *pending), "discarded");
  EXPECT_EQ(State("heat", epoch), "committed");
  auto resumed = Register(RunRequest("heat", 4, kDepot));  // AUTO, at once: no lease to wait for
  EXPECT_TRUE(resumed.restart());
  EXPECT_EQ(resumed.manifest().epoch(), epoch);
  EXPECT_EQ(resumed.previous().nprocs(), 3);
}

TEST_F(RssStateTest, FreshRunThatFinishesDeletesEverything) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  int64_t epoch = Checkpoint(run, 2, v1::REASON_STOP);
  auto fresh = Register(RunRequest("heat", 2, kDepot, v1::REGISTER_FRESH));
  ASSERT_TRUE(state_->FinishRun(fresh.run_id()).ok());
  EXPECT_EQ(State("heat", epoch), "deleted");
}

TEST_F(RssStateTest, ResumeFromAnOlderKeptEpoch) {
  auto run = Register(RunRequest("heat", 2, kDepot, v1::REGISTER_AUTO, 3));
  int64_t e1 = Checkpoint(run, 2);
  Checkpoint(run, 2);
  Checkpoint(run, 2, v1::REASON_STOP);
  auto req = RunRequest("heat", 2, kDepot, v1::REGISTER_RESUME, 3);
  req.set_epoch(e1);
  auto resumed = Register(req);
  EXPECT_EQ(resumed.manifest().epoch(), e1);
  EXPECT_EQ(resumed.previous().run_id(), run.run_id());
  state_->FinishRun(resumed.run_id()).IgnoreError();
  req.set_epoch(99);
  auto missing = RegisterAsOwner(req, false);
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
}

// The usual checkpoint reports and commits in one call (CommitCheckpointRequest.pieces): the
// same checks as ReportPieces, counted as reported, pinned, and stored by the commit itself.
TEST_F(RssStateTest, CommitCarriesThePiecesNotReportedYet) {
  auto run = Register(RunRequest("heat", 3, kDepot));
  EXPECT_TRUE(run.commit_accepts_pieces());
  auto epoch =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 3, v1::REASON_STOP));
  ASSERT_TRUE(epoch.ok());
  ASSERT_TRUE(
      state_->ReportPieces(run.run_id(), Report(run.run_token(), *epoch, 0, 1, kDepot)).ok());
  auto commit_with = [&](int first, int last) {
    v1::CommitCheckpointRequest commit;
    commit.set_epoch(*epoch);
    *commit.mutable_pieces() = Report(run.run_token(), *epoch, first, last, kDepot).pieces();
    return commit;
  };
  // Rank 2 missing: refused before anything is pinned.
  absl::Status status = state_->CommitCheckpoint(run.run_id(), commit_with(1, 2));
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("ranks 2)"));
  EXPECT_TRUE(janitor_.pinned().empty());
  // A different piece for the reported rank 0: refused.
  v1::CommitCheckpointRequest conflict = commit_with(0, 3);
  conflict.mutable_pieces(0)->set_size_bytes(1);
  status = state_->CommitCheckpoint(run.run_id(), conflict);
  EXPECT_TRUE(absl::IsAlreadyExists(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("CommitCheckpoint: rank 0"));
  v1::CommitCheckpointRequest malformed = commit_with(1, 3);
  malformed.mutable_pieces(1)->set_rank(7);
  EXPECT_TRUE(absl::IsInvalidArgument(state_->CommitCheckpoint(run.run_id(), malformed)));
  // A depot that does not answer: still pending and the carried pieces are not stored, so the
  // same commit again (the library's retry) succeeds once it does.
  janitor_.set_pin_error(absl::UnavailableError("depot down"));
  v1::CommitCheckpointRequest commit = commit_with(0, 3);  // rank 0 again, as reported: fine
  EXPECT_TRUE(absl::IsUnavailable(state_->CommitCheckpoint(run.run_id(), commit)));
  EXPECT_EQ(State("heat", *epoch), "pending");
  janitor_.set_pin_error(absl::OkStatus());
  ASSERT_TRUE(state_->CommitCheckpoint(run.run_id(), commit).ok());
  EXPECT_EQ(State("heat", *epoch), "committed");
  EXPECT_EQ(janitor_.pinned().size(), 3u);
  EXPECT_TRUE(state_->CommitCheckpoint(run.run_id(), commit).ok()) << "a retry after a lost answer";
  // Stored durably with the commit: a restarted RSS gives every rank's piece to the restart.
  Reopen();
  auto again = Register(RunRequest("heat", 2, kDepot));
  ASSERT_TRUE(again.restart());
  ASSERT_EQ(again.manifest().pieces_size(), 3);
  for (int rank = 0; rank < 3; ++rank) EXPECT_EQ(again.manifest().pieces(rank).rank(), rank);
}

// A commit that carried pieces and failed once pinning had begun (a depot down after another
// was pinned, a run ended meanwhile) keeps them: stored with the pending checkpoint, so the
// abort deletes them; or queued for deletion at once when the checkpoint is gone.
TEST_F(RssStateTest, AFailedCommitKeepsTheCarriedPiecesForTheCleanup) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  auto epoch =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 2, v1::REASON_PERIODIC));
  ASSERT_TRUE(epoch.ok());
  v1::CommitCheckpointRequest commit;
  commit.set_epoch(*epoch);
  *commit.mutable_pieces() = Report(run.run_token(), *epoch, 0, 2, kDepot).pieces();
  janitor_.set_pin_error(absl::DeadlineExceededError("depot hangs"));
  EXPECT_FALSE(state_->CommitCheckpoint(run.run_id(), commit).ok());
  v1::AbortCheckpointRequest abort;
  abort.set_epoch(*epoch);
  ASSERT_TRUE(state_->AbortCheckpoint(run.run_id(), abort).ok());
  janitor_.set_pin_error(absl::OkStatus());
  EXPECT_EQ(state_->ProcessDeleteQueue(), 0);
  EXPECT_EQ(janitor_.deleted(), (std::set<std::string>{absl::StrCat("e", *epoch, "r0.manage"),
                                                       absl::StrCat("e", *epoch, "r1.manage")}))
      << "the abort must delete the pieces the failed commit carried";
  // The checkpoint ends between the pin and the transaction: queued for deletion directly.
  auto second =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 2, v1::REASON_PERIODIC));
  ASSERT_TRUE(second.ok());
  commit.set_epoch(*second);
  *commit.mutable_pieces() = Report(run.run_token(), *second, 0, 2, kDepot).pieces();
  janitor_.on_pin([&] {
    v1::AbortCheckpointRequest meanwhile;
    meanwhile.set_epoch(*second);
    EXPECT_TRUE(state_->AbortCheckpoint(run.run_id(), meanwhile).ok());
  });
  EXPECT_TRUE(absl::IsFailedPrecondition(state_->CommitCheckpoint(run.run_id(), commit)));
  EXPECT_EQ(state_->ProcessDeleteQueue(), 0);
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("e", *second, "r1.manage")), 1u)
      << "pinned pieces of a checkpoint that ended meanwhile must be deleted";
}

TEST_F(RssStateTest, ReportPiecesRejectsBadRanksForeignEpochsAndConflicts) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  auto epoch =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 2, v1::REASON_PERIODIC));
  absl::Status status =
      state_->ReportPieces(run.run_id(), Report(run.run_token(), *epoch, 2, 3, kDepot));
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(std::string(status.message()), HasSubstr("rank 2 does not exist"));
  EXPECT_TRUE(absl::IsNotFound(
      state_->ReportPieces(run.run_id(), Report(run.run_token(), 77, 0, 1, kDepot))));
  auto report = Report(run.run_token(), *epoch, 0, 1, kDepot);
  ASSERT_TRUE(state_->ReportPieces(run.run_id(), report).ok());
  EXPECT_TRUE(state_->ReportPieces(run.run_id(), report).ok());  // a retry
  report.mutable_pieces(0)->set_size_bytes(1);
  EXPECT_TRUE(absl::IsAlreadyExists(state_->ReportPieces(run.run_id(), report)));
  auto twice = Report(run.run_token(), *epoch, 1, 2, kDepot);
  *twice.add_pieces() = twice.pieces(0);
  EXPECT_TRUE(absl::IsInvalidArgument(state_->ReportPieces(run.run_id(), twice)));
  v1::CommitCheckpointRequest commit;
  commit.set_epoch(*epoch + 5);
  EXPECT_TRUE(absl::IsNotFound(state_->CommitCheckpoint(run.run_id(), commit)));
  v1::AbortCheckpointRequest abort;
  abort.set_epoch(*epoch);
  EXPECT_TRUE(state_->AbortCheckpoint(run.run_id(), abort).ok());
  commit.set_epoch(*epoch);
  EXPECT_TRUE(absl::IsFailedPrecondition(state_->CommitCheckpoint(run.run_id(), commit)));
  auto bad = BeginRequest(run.run_token(), 2, v1::REASON_PERIODIC);
  bad.mutable_arrays(0)->mutable_distribution()->set_kind("diagonal");
  EXPECT_TRUE(absl::IsInvalidArgument(state_->BeginCheckpoint(run.run_id(), bad).status()));
}

// ReportProgress is memory only: GetJob shows it while the checkpoint is pending, never after, and
// a restarted RSS has forgotten it; another run's or an ended checkpoint's epoch is refused.
TEST_F(RssStateTest, ProgressShowsWhilePendingOnlyAndIsNotStored) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  auto epoch =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 2, v1::REASON_STOP));
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  auto progress_of = [&](int64_t e) {
    std::pair<int64_t, int64_t> out{-1, -1};
    auto got = state_->GetJob("heat");
    for (const auto& ckpt : got->checkpoints()) {
      if (ckpt.epoch() == e) out = {ckpt.progress_bytes(), ckpt.progress_total_bytes()};
    }
    return out;
  };
  EXPECT_EQ(progress_of(*epoch), std::make_pair(int64_t{0}, int64_t{0}));
  v1::ReportProgressRequest report;
  report.set_epoch(*epoch);
  report.set_done_bytes(300);
  report.set_total_bytes(1000);
  ASSERT_TRUE(state_->ReportProgress(run.run_id(), report).ok());
  EXPECT_EQ(progress_of(*epoch), std::make_pair(int64_t{300}, int64_t{1000}));
  report.set_epoch(*epoch + 1);
  EXPECT_TRUE(absl::IsNotFound(state_->ReportProgress(run.run_id(), report)));
  auto other = Register(RunRequest("wave", 2, kDepot));
  report.set_epoch(*epoch);
  EXPECT_FALSE(state_->ReportProgress(other.run_id(), report).ok());
  EXPECT_EQ(progress_of(*epoch), std::make_pair(int64_t{300}, int64_t{1000}));
  Reopen();
  EXPECT_EQ(progress_of(*epoch), std::make_pair(int64_t{0}, int64_t{0}));
  ASSERT_TRUE(state_->ReportProgress(run.run_id(), report).ok());
  ASSERT_TRUE(
      state_->ReportPieces(run.run_id(), Report(run.run_token(), *epoch, 0, 2, kDepot)).ok());
  v1::CommitCheckpointRequest commit;
  commit.set_epoch(*epoch);
  ASSERT_TRUE(state_->CommitCheckpoint(run.run_id(), commit).ok());
  EXPECT_EQ(progress_of(*epoch), std::make_pair(int64_t{0}, int64_t{0}));
  EXPECT_TRUE(absl::IsFailedPrecondition(state_->ReportProgress(run.run_id(), report)));
}

TEST_F(RssStateTest, EverythingSurvivesReopen) {
  auto run = Register(RunRequest("heat", 3, kDepot));
  int64_t epoch = Checkpoint(run, 3);
  auto stop = state_->RequestStop("heat");
  ASSERT_TRUE(stop.ok());
  Reopen();
  auto run_id = state_->RunForToken(run.run_token());
  ASSERT_TRUE(run_id.ok());
  EXPECT_EQ(*run_id, run.run_id());
  WatchStatus watch = state_->WaitWatch(run.run_id(), -1, absl::ZeroDuration());
  EXPECT_TRUE(watch.run_active);
  EXPECT_EQ(watch.stop_request, *stop);
  auto job = state_->GetJob("heat");
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE(job->summary().stop_pending());
  EXPECT_EQ(job->summary().last_epoch(), epoch);
  EXPECT_EQ(job->checkpoints(0).pieces_size(), 3);
  EXPECT_EQ(job->runs(0).ranks_size(), 3);
  // Epochs never repeat, even after a restart.
  auto next =
      state_->BeginCheckpoint(run.run_id(), BeginRequest(run.run_token(), 3, v1::REASON_STOP));
  EXPECT_EQ(*next, epoch + 1);
}

TEST_F(RssStateTest, StopCheckpointStopsTheRunAndClearsTheFlag) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  ASSERT_TRUE(state_->RequestStop("heat").ok());
  EXPECT_TRUE(state_->ListJobs()[0].stop_pending());
  Checkpoint(run, 2, v1::REASON_STOP);
  auto summary = state_->ListJobs()[0];
  EXPECT_FALSE(summary.stop_pending());
  EXPECT_EQ(summary.state(), "stopped");
  EXPECT_TRUE(absl::IsFailedPrecondition(state_->RequestStop("heat").status()));
  EXPECT_TRUE(absl::IsNotFound(state_->RequestStop("nope").status()));
}

TEST_F(RssStateTest, EndRunByLauncherEndsOnlyTheNamedRunningRunAndRecordsWhy) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  ASSERT_TRUE(state_->AttachWatch(run.run_id()).ok());  // a live lease: the run looks alive
  auto job = state_->GetJob("heat");
  EXPECT_TRUE(job->runs(0).watched());
  EXPECT_EQ(job->runs(0).lease_expires_unix_ms(), 0);
  // The owner (admin here) is refused too while the run is alive.
  EXPECT_TRUE(absl::IsFailedPrecondition(
      state_->RegisterRun(RunRequest("heat", 2, kDepot), true).status()));
  auto ended = state_->EndRunByLauncher("heat", run.run_id(), "mpiexec exited with status 9");
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(*ended, "lost");
  job = state_->GetJob("heat");
  EXPECT_EQ(job->runs(0).state(), "lost");
  EXPECT_EQ(job->runs(0).end_reason(), "mpiexec exited with status 9");
  // Idempotent, and harmless once a newer run exists.
  auto next = Register(RunRequest("heat", 2, kDepot));
  EXPECT_EQ(*state_->EndRunByLauncher("heat", run.run_id(), "again"), "lost");
  EXPECT_EQ(state_->GetJob("heat")->runs(1).state(), "running");
  EXPECT_TRUE(absl::IsNotFound(state_->EndRunByLauncher("nosuch", run.run_id(), "").status()));
  EXPECT_TRUE(absl::IsNotFound(state_->EndRunByLauncher("heat", "heat-99", "").status()));
  // Survives a restart of the RSS.
  Reopen();
  EXPECT_EQ(state_->GetJob("heat")->runs(0).end_reason(), "mpiexec exited with status 9");
}

TEST_F(RssStateTest, GetJobSaysWhenAnUnwatchedLeaseRunsOut) {
  auto run = Register(RunRequest("heat", 2, kDepot));
  now_ += absl::Seconds(4);
  auto job = state_->GetJob("heat");
  EXPECT_FALSE(job->runs(0).watched());
  EXPECT_EQ(job->runs(0).lease_expires_unix_ms(),
            absl::ToUnixMillis(now_ - absl::Seconds(4) + absl::Seconds(10)));
  ASSERT_TRUE(state_->FinishRun(run.run_id()).ok());
  EXPECT_EQ(state_->GetJob("heat")->runs(0).lease_expires_unix_ms(), 0);
}

}  // namespace
}  // namespace srs
