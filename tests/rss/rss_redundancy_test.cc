// RssState with redundancy (issue 13): registration refused without enough failure domains,
// replica targets at BeginCheckpoint, a commit refused while a piece lacks a copy (or has its
// copies on one domain), every copy pinned, and every copy deleted by abort, retention and
// finish. A fake janitor and a hand-moved clock (depots are up when seen within 15 s).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rss/request_validation.h"
#include "rss/rss_state.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using ::testing::HasSubstr;
using testing_util::BeginRequest;
using testing_util::FakeJanitor;
using testing_util::RunRequest;

struct DepotSpec {
  std::string id, host, address;
};
const DepotSpec kA{"depot-a", "hostA", "127.0.0.1:7001"};
const DepotSpec kA2{"depot-a2", "hostA", "127.0.0.1:7003"};
const DepotSpec kB{"depot-b", "hostB", "127.0.0.1:7002"};

class RssRedundancyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RssStateOptions options;
    options.clock = [this] { return now_; };
    state_ = std::move(RssState::Open(dir_.path() + "/rss.db", &janitor_, options)).value();
  }
  void AddDepot(const DepotSpec& depot) {
    v1::RegisterDepotRequest req;
    req.set_depot_id(depot.id);
    req.set_host(depot.host);
    req.set_address(depot.address);
    ASSERT_TRUE(state_->RegisterDepot(req).ok());
  }
  v1::RegisterRunRequest Partner(const std::string& job, int nprocs) {
    v1::RegisterRunRequest req = RunRequest(job, nprocs, kA.address);
    req.set_redundancy("partner");
    return req;
  }
  // Rank r's piece of `epoch` with a copy on each of `depots` (the first is the writer's).
  static v1::PieceRecord Piece(int rank, int64_t epoch, const std::vector<DepotSpec>& depots) {
    v1::PieceRecord piece = testing_util::Piece(rank, epoch, depots[0].address);
    for (const DepotSpec& depot : depots) {
      v1::PieceCopy* copy = piece.add_copies();
      copy->set_depot_id(depot.id);
      copy->set_depot_address(depot.address);
      copy->set_read_cap(absl::StrCat("e", epoch, "r", rank, depot.id, ".read"));
      copy->set_manage_cap(absl::StrCat("e", epoch, "r", rank, depot.id, ".manage"));
    }
    piece.set_depot_id(depots[0].id);
    piece.set_read_cap(piece.copies(0).read_cap());
    piece.set_manage_cap(piece.copies(0).manage_cap());
    return piece;
  }
  absl::Status ReportAndCommit(const v1::RegisterRunResponse& run, int64_t epoch,
                               const std::vector<v1::PieceRecord>& pieces) {
    v1::ReportPiecesRequest report;
    report.set_epoch(epoch);
    for (const v1::PieceRecord& piece : pieces) *report.add_pieces() = piece;
    absl::Status reported = state_->ReportPieces(run.run_id(), report);
    if (!reported.ok()) return reported;
    v1::CommitCheckpointRequest commit;
    commit.set_epoch(epoch);
    return state_->CommitCheckpoint(run.run_id(), commit);
  }
  v1::CheckpointSummary Summary(const std::string& job, int64_t epoch) {
    absl::StatusOr<v1::GetJobResponse> got = state_->GetJob(job);  // kept: the loop reads it
    if (!got.ok()) return v1::CheckpointSummary();
    for (const auto& ckpt : got->checkpoints()) {
      if (ckpt.epoch() == epoch) return ckpt;
    }
    return v1::CheckpointSummary();
  }

  testing_util::TempDir dir_;
  FakeJanitor janitor_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::unique_ptr<RssState> state_;
};

TEST_F(RssRedundancyTest, RegistrationNeedsEnoughLiveFailureDomains) {
  AddDepot(kA);
  AddDepot(kA2);  // a second depot on the same host is no second failure domain
  auto refused = state_->RegisterRun(Partner("heat", 2), false);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("redundancy = partner"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("hostA (depot-a, depot-a2)"));
  EXPECT_FALSE(state_->GetJob("heat").ok());  // nothing was registered

  v1::RegisterRunRequest bad = Partner("heat", 2);
  bad.set_redundancy("replicas:9");
  EXPECT_EQ(state_->RegisterRun(bad, false).status().code(), absl::StatusCode::kInvalidArgument);

  AddDepot(kB);
  auto run = state_->RegisterRun(Partner("heat", 2), false);
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<v1::GetJobResponse> job = state_->GetJob("heat");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->runs(0).redundancy(), "partner");
  // replicas:3 needs three hosts.
  v1::RegisterRunRequest three = Partner("wave", 1);
  three.set_redundancy("replicas:3");
  EXPECT_EQ(state_->RegisterRun(three, false).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RssRedundancyTest, BeginAnswersTargetsAndCommitNeedsEveryCopyOnDistinctDomains) {
  AddDepot(kA);
  AddDepot(kA2);
  AddDepot(kB);
  auto run = state_->RegisterRun(Partner("heat", 2), false);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<v1::ReplicaTargets> targets;
  auto epoch = state_->BeginCheckpoint(
      run->run_id(), BeginRequest(run->run_token(), 2, v1::REASON_STOP), &targets);
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  ASSERT_EQ(targets.size(), 2u);
  for (const v1::ReplicaTargets& rank : targets) {
    ASSERT_EQ(rank.targets_size(), 1);
    EXPECT_EQ(rank.targets(0).depot_id(), kB.id);  // the one depot of the other domain
    EXPECT_EQ(rank.targets(0).address(), kB.address);
    EXPECT_EQ(rank.targets(0).failure_domain(), "hostB");
  }
  EXPECT_EQ(Summary("heat", *epoch).copies_required(), 2);

  // Rank 1 has one copy only; then its two copies share hostA: both refused, still pending.
  absl::Status status =
      ReportAndCommit(*run, *epoch, {Piece(0, *epoch, {kA, kB}), Piece(1, *epoch, {kA})});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("rank 1: 1 failure domain(s) (hostA)"));
  EXPECT_EQ(Summary("heat", *epoch).state(), "pending");
  EXPECT_TRUE(janitor_.pinned().empty());

  auto second = state_->RegisterRun(Partner("wave", 1), false);
  ASSERT_TRUE(second.ok());
  auto wave = state_->BeginCheckpoint(second->run_id(),
                                      BeginRequest(second->run_token(), 1, v1::REASON_STOP));
  ASSERT_TRUE(wave.ok());
  status = ReportAndCommit(*second, *wave, {Piece(0, *wave, {kA, kA2})});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  // A copy on a depot the RSS does not know does not count either.
  DepotSpec stranger{"depot-x", "hostX", "127.0.0.1:7009"};
  v1::RegisterRunRequest fresh = Partner("tide", 1);
  auto tide_run = state_->RegisterRun(fresh, false);
  ASSERT_TRUE(tide_run.ok());
  auto tide = state_->BeginCheckpoint(tide_run->run_id(),
                                      BeginRequest(tide_run->run_token(), 1, v1::REASON_STOP));
  status = ReportAndCommit(*tide_run, *tide, {Piece(0, *tide, {kA, stranger})});
  EXPECT_THAT(std::string(status.message()), HasSubstr("unknown depots: depot-x"));

  // Aborting the incomplete heat checkpoint deletes the copies that were made.
  v1::AbortCheckpointRequest abort;
  abort.set_epoch(*epoch);
  abort.set_reason("a copy failed");
  ASSERT_TRUE(state_->AbortCheckpoint(run->run_id(), abort).ok());
  EXPECT_EQ(state_->ProcessDeleteQueue(), 0);
  std::set<std::string> deleted = janitor_.deleted();
  for (const std::string copy : {"r0depot-a", "r0depot-b", "r1depot-a"}) {
    EXPECT_EQ(deleted.count(absl::StrCat("e", *epoch, copy, ".manage")), 1u) << copy;
  }
}

TEST_F(RssRedundancyTest, EveryCopyIsPinnedShownAndDeletedByRetentionAndFinish) {
  AddDepot(kA);
  AddDepot(kB);
  auto run = state_->RegisterRun(Partner("heat", 2), false);
  ASSERT_TRUE(run.ok()) << run.status();
  int64_t epochs[2];
  for (int64_t& epoch : epochs) {
    auto begun = state_->BeginCheckpoint(run->run_id(),
                                         BeginRequest(run->run_token(), 2, v1::REASON_PERIODIC));
    ASSERT_TRUE(begun.ok()) << begun.status();
    epoch = *begun;
    absl::Status status =
        ReportAndCommit(*run, epoch, {Piece(0, epoch, {kA, kB}), Piece(1, epoch, {kB, kA})});
    ASSERT_TRUE(status.ok()) << status;
    for (int rank = 0; rank < 2; ++rank) {
      for (const DepotSpec* depot : {&kA, &kB}) {
        EXPECT_EQ(
            janitor_.pinned().count(absl::StrCat("e", epoch, "r", rank, depot->id, ".manage")), 1u)
            << "epoch " << epoch << " rank " << rank << " on " << depot->id << " not pinned";
      }
    }
  }
  // keep = 1: the first checkpoint was dropped, both copies of both pieces queued for deletion.
  EXPECT_EQ(state_->ProcessDeleteQueue(), 0);
  EXPECT_EQ(janitor_.deleted().size(), 4u);
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("e", epochs[0], "r1depot-a.manage")), 1u);

  // Shown with every copy, the depots' state, no manage capability.
  v1::CheckpointSummary summary = Summary("heat", epochs[1]);
  ASSERT_EQ(summary.pieces_size(), 2);
  ASSERT_EQ(summary.pieces(1).copies_size(), 2);
  EXPECT_EQ(summary.pieces(1).copies(0).depot_id(), kB.id);
  EXPECT_EQ(summary.pieces(1).copies(0).state(), "ok");
  EXPECT_EQ(summary.pieces(1).copies(1).failure_domain(), "hostA");
  for (const auto& piece : summary.pieces()) {
    EXPECT_TRUE(piece.manage_cap().empty());
    for (const auto& copy : piece.copies()) EXPECT_TRUE(copy.manage_cap().empty());
  }
  // Depot B silent for 20 s: its copies are shown down, and a new checkpoint cannot place
  // copies (only hostA is up).
  now_ += absl::Seconds(20);
  AddDepot(kA);
  summary = Summary("heat", epochs[1]);
  EXPECT_EQ(summary.pieces(0).copies(1).state(), "depot_down");
  auto refused = state_->BeginCheckpoint(run->run_id(),
                                         BeginRequest(run->run_token(), 2, v1::REASON_PERIODIC));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  // The restart manifest lists the copies, without manage capabilities.
  AddDepot(kB);
  ASSERT_TRUE(state_->FinishRun(run->run_id()).ok());
  EXPECT_EQ(state_->ProcessDeleteQueue(), 0);
  EXPECT_EQ(janitor_.deleted().size(), 8u);  // finish: every copy of the kept checkpoint too
}

TEST(RedundancyValidation, RequestsWithBadRedundancyOrCopiesAreRefused) {
  v1::RegisterRunRequest reg = RunRequest("heat", 1, kA.address);
  for (const char* ok : {"", "none", "partner", "replicas:1", "replicas:8"}) {
    reg.set_redundancy(ok);
    EXPECT_TRUE(ValidateRegisterRun(reg).ok()) << ok;
  }
  for (const char* bad : {"replicas:9", "replicas:0", "xor", "PARTNER"}) {
    reg.set_redundancy(bad);
    absl::Status status = ValidateRegisterRun(reg);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr("RegisterRun")) << bad;
  }
  v1::ReportPiecesRequest report;
  report.set_epoch(1);
  v1::PieceRecord* piece = report.add_pieces();
  *piece = testing_util::Piece(0, 1, kA.address);
  for (int c = 0; c < 9; ++c) {
    v1::PieceCopy* copy = piece->add_copies();
    copy->set_depot_id(absl::StrCat("depot-", c));
    copy->set_depot_address(kA.address);
    copy->set_read_cap("r");
    copy->set_manage_cap("m");
  }
  EXPECT_EQ(ValidateReportPieces(report).code(), absl::StatusCode::kInvalidArgument);  // 9 > 8
  piece->mutable_copies()->DeleteSubrange(1, 8);
  EXPECT_TRUE(ValidateReportPieces(report).ok());
  // state is the RSS's to say: a client that echoes an answer's copy is not refused, and the
  // RSS drops the field when it stores the record (DepotRegistry::NormalizePiece).
  piece->mutable_copies(0)->set_state("ok");
  EXPECT_TRUE(ValidateReportPieces(report).ok());
  piece->mutable_copies(0)->set_state(std::string(4096, 's'));  // but bounded
  EXPECT_EQ(ValidateReportPieces(report).code(), absl::StatusCode::kInvalidArgument);
  piece->mutable_copies(0)->clear_state();
  piece->mutable_copies(0)->set_depot_id("bad\nid");
  EXPECT_EQ(ValidateReportPieces(report).code(), absl::StatusCode::kInvalidArgument);
  piece->mutable_copies(0)->set_depot_id("depot-0");
  piece->mutable_copies(0)->set_manage_cap(std::string(200, 'm'));
  EXPECT_EQ(ValidateReportPieces(report).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RssRedundancyTest, ReportedCopiesMustMirrorTheLegacyFieldsAndSitOnDistinctDepots) {
  AddDepot(kA);
  AddDepot(kB);
  auto run = state_->RegisterRun(Partner("heat", 1), false);
  ASSERT_TRUE(run.ok()) << run.status();
  auto epoch =
      state_->BeginCheckpoint(run->run_id(), BeginRequest(run->run_token(), 1, v1::REASON_STOP));
  ASSERT_TRUE(epoch.ok());
  v1::PieceRecord twice = Piece(0, *epoch, {kA, kA});
  absl::Status status = ReportAndCommit(*run, *epoch, {twice});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  v1::PieceRecord skewed = Piece(0, *epoch, {kA, kB});
  skewed.set_read_cap("not-copies[0]'s");
  status = ReportAndCommit(*run, *epoch, {skewed});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  // The well-formed record is accepted and commits.
  ASSERT_TRUE(ReportAndCommit(*run, *epoch, {Piece(0, *epoch, {kA, kB})}).ok());
}

}  // namespace
}  // namespace srs
