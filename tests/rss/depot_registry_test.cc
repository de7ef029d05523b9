// Unit tests of the RSS's depot registry (rss/depot_registry.h) with a hand-moved clock, and of
// what RssState builds on it: depots up/down from heartbeats, an address change, `depot = auto`
// skipping down depots, pieces stored by depot id and answered with the current address, and
// deletions sent to a moved depot's new address.
#include "rss/depot_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rss/rss_state.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using ::testing::HasSubstr;

v1::RegisterDepotRequest Registration(const std::string& id, const std::string& host,
                                      const std::string& address, int heartbeat = 0) {
  v1::RegisterDepotRequest req;
  req.set_depot_id(id);
  req.set_host(host);
  req.set_address(address);
  req.set_heartbeat_seconds(heartbeat);
  return req;
}

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TEST(DepotRegistryTest, UpThenDownAfterMissedHeartbeatsThenUpAgain) {
  DepotRegistry registry(absl::Seconds(15));
  registry.Put(registry.RecordOf(Registration("d1", "node1", "10.0.0.1:7000"), kStart));
  const v1::DepotRecord* depot = registry.ById("d1");
  ASSERT_NE(depot, nullptr);
  EXPECT_EQ(depot->failure_domain(), "node1");  // the host by default
  // No heartbeat announced: 5 s assumed, so down after max(15 s, 3 * 5 s + 2 s) = 17 s.
  EXPECT_EQ(registry.DownAfter(*depot), absl::Seconds(17));
  EXPECT_TRUE(registry.DepotIsUp(*depot, kStart + absl::Seconds(17)));
  EXPECT_FALSE(registry.DepotIsUp(*depot, kStart + absl::Seconds(18)));
  EXPECT_EQ(registry.List(kStart + absl::Seconds(18)).at(0).state(), "down");
  registry.Put(
      registry.RecordOf(Registration("d1", "node1", "10.0.0.1:7000"), kStart + absl::Seconds(30)));
  EXPECT_EQ(registry.List(kStart + absl::Seconds(31)).at(0).state(), "up");
}

TEST(DepotRegistryTest, TimeoutIsTheLargerOfTheFlagAndThreeHeartbeats) {
  DepotRegistry registry(absl::Seconds(2));
  registry.Put(registry.RecordOf(Registration("fast", "n", "a:1", 1), kStart));
  registry.Put(registry.RecordOf(Registration("slow", "n", "a:2", 60), kStart));
  EXPECT_EQ(registry.DownAfter(*registry.ById("fast")), absl::Seconds(5));
  EXPECT_EQ(registry.DownAfter(*registry.ById("slow")), absl::Seconds(182));
  DepotRegistry patient(absl::Seconds(40));
  patient.Put(patient.RecordOf(Registration("fast", "n", "a:1", 1), kStart));
  EXPECT_EQ(patient.DownAfter(*patient.ById("fast")), absl::Seconds(40));
}

TEST(DepotRegistryTest, ReRegistrationFromANewAddressReplacesIt) {
  DepotRegistry registry;
  EXPECT_EQ(registry.Put(registry.RecordOf(Registration("d1", "n1", "h:7000"), kStart)), "");
  EXPECT_EQ(registry.Put(registry.RecordOf(Registration("d1", "n1", "h:7000"), kStart)), "");
  EXPECT_EQ(registry.Put(registry.RecordOf(Registration("d1", "n1", "h:7100"), kStart)), "h:7000");
  EXPECT_EQ(registry.ById("d1")->address(), "h:7100");
  EXPECT_EQ(registry.IdOfAddress("h:7100"), "d1");
  EXPECT_EQ(registry.IdOfAddress("h:7000"), "");
  EXPECT_EQ(registry.List(kStart).size(), 1u);
}

TEST(DepotRegistryTest, FailureDomainAndIdDefaults) {
  DepotRegistry registry;
  v1::RegisterDepotRequest req = Registration("", "n1", "h:1");
  req.set_failure_domain("rack7");
  registry.Put(registry.RecordOf(req, kStart));
  const v1::DepotRecord* depot = registry.ById("h:1");  // no id: known by its address
  ASSERT_NE(depot, nullptr);
  EXPECT_EQ(depot->failure_domain(), "rack7");
}

TEST(DepotRegistryTest, LegacyPiecesAreNormalizedAndAnsweredWithTheCurrentAddress) {
  DepotRegistry registry(absl::Seconds(15));
  registry.Put(registry.RecordOf(Registration("d1", "n1", "h:7000"), kStart));
  v1::PieceRecord legacy = testing_util::Piece(0, 1, "h:7000");
  v1::PieceRecord stored = registry.NormalizePiece(legacy);
  ASSERT_EQ(stored.copies_size(), 1);
  EXPECT_EQ(stored.copies(0).depot_id(), "d1");
  EXPECT_EQ(stored.depot_id(), "d1");
  EXPECT_EQ(stored.copies(0).manage_cap(), legacy.manage_cap());
  EXPECT_TRUE(stored.copies(0).state().empty());

  // The depot comes back on another port: answers carry the new address, mirrored.
  registry.Put(registry.RecordOf(Registration("d1", "n1", "h:7100"), kStart + absl::Seconds(3)));
  v1::PieceRecord answer = registry.PresentPiece(stored, kStart + absl::Seconds(4), true);
  EXPECT_EQ(answer.copies(0).depot_address(), "h:7100");
  EXPECT_EQ(answer.depot_address(), "h:7100");
  EXPECT_EQ(answer.copies(0).state(), "ok");
  EXPECT_EQ(answer.copies(0).failure_domain(), "n1");
  EXPECT_TRUE(answer.copies(0).manage_cap().empty());
  EXPECT_TRUE(answer.manage_cap().empty());
  EXPECT_EQ(answer.read_cap(), legacy.read_cap());

  v1::PieceRecord later = registry.PresentPiece(stored, kStart + absl::Minutes(5), false);
  EXPECT_EQ(later.copies(0).state(), "depot_down");
  EXPECT_EQ(later.copies(0).depot_last_seen_unix_ms(),
            absl::ToUnixMillis(kStart + absl::Seconds(3)));
  EXPECT_EQ(later.manage_cap(), legacy.manage_cap());

  v1::PieceRecord stranger = registry.NormalizePiece(testing_util::Piece(1, 1, "other:1"));
  EXPECT_EQ(stranger.copies(0).depot_id(), "");
  v1::PieceRecord unknown = registry.PresentPiece(stranger, kStart, true);
  EXPECT_EQ(unknown.copies(0).state(), "depot_unknown");
  EXPECT_EQ(unknown.copies(0).depot_address(), "other:1");
}

TEST(DepotRegistryTest, ClientsDoNotGetToSayACopyIsHealthy) {
  DepotRegistry registry;
  v1::PieceRecord reported = testing_util::Piece(0, 1, "h:1");
  v1::PieceCopy* copy = reported.add_copies();
  copy->set_depot_id("d9");
  copy->set_depot_address("h:1");
  copy->set_state("ok");
  copy->set_failure_domain("x");
  copy->set_depot_last_seen_unix_ms(5);
  v1::PieceRecord stored = registry.NormalizePiece(reported);
  EXPECT_TRUE(stored.copies(0).state().empty());
  EXPECT_TRUE(stored.copies(0).failure_domain().empty());
  EXPECT_EQ(stored.copies(0).depot_last_seen_unix_ms(), 0);
  EXPECT_EQ(stored.depot_id(), "d9");
}

class RssDepotIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RssStateOptions options;
    options.clock = [this] { return now_; };
    options.depot_down_timeout = absl::Seconds(15);
    auto state = RssState::Open(dir_.path() + "/rss.db", &janitor_, options);
    ASSERT_TRUE(state.ok()) << state.status();
    state_ = std::move(*state);
  }

  void Heartbeat(const std::string& id, const std::string& host, const std::string& address) {
    ASSERT_TRUE(state_->RegisterDepot(Registration(id, host, address, 1)).ok());
  }

  // A stopped run of `job` (2 ranks on node0/node1, depot=auto) with one committed checkpoint,
  // its pieces reported the old way (depot address only). Returns the owner secret.
  std::string CheckpointedJob(const std::string& job) {
    auto run = state_->RegisterRun(testing_util::RunRequest(job, 2, "auto"), false);
    EXPECT_TRUE(run.ok()) << run.status();
    auto epoch = state_->BeginCheckpoint(
        run->run_id(), testing_util::BeginRequest(run->run_token(), 2, v1::REASON_STOP));
    EXPECT_TRUE(epoch.ok()) << epoch.status();
    v1::ReportPiecesRequest report;
    report.set_run_token(run->run_token());
    report.set_epoch(*epoch);
    for (int r = 0; r < 2; ++r) {
      *report.add_pieces() = testing_util::Piece(r, *epoch, run->rank_depots(r));
    }
    EXPECT_TRUE(state_->ReportPieces(run->run_id(), report).ok());
    // The same report again (a retry after a lost answer) is still accepted.
    EXPECT_TRUE(state_->ReportPieces(run->run_id(), report).ok());
    v1::CommitCheckpointRequest commit;
    commit.set_epoch(*epoch);
    EXPECT_TRUE(state_->CommitCheckpoint(run->run_id(), commit).ok());
    return run->owner_secret();
  }

  testing_util::TempDir dir_;
  testing_util::FakeJanitor janitor_;
  absl::Time now_ = kStart;
  std::unique_ptr<RssState> state_;
};

TEST_F(RssDepotIdentityTest, ListDepotsAnswersStateAndFailureDomain) {
  Heartbeat("d0", "node0", "127.0.0.1:7000");
  now_ += absl::Seconds(4);
  Heartbeat("d1", "node1", "127.0.0.1:7001");
  now_ += absl::Seconds(12);  // d0 silent for 16 s > 15 s; d1 for 12 s
  std::vector<v1::DepotRecord> depots = state_->ListDepots();
  ASSERT_EQ(depots.size(), 2u);
  EXPECT_EQ(depots[0].state(), "down");
  EXPECT_EQ(depots[1].state(), "up");
  EXPECT_EQ(depots[1].failure_domain(), "node1");
  EXPECT_EQ(depots[1].heartbeat_seconds(), 1);
}

TEST_F(RssDepotIdentityTest, AutoSkipsADownDepotAndNamesTheHost) {
  Heartbeat("d0", "node0", "127.0.0.1:7000");
  Heartbeat("d1", "node1", "127.0.0.1:7001");
  now_ += absl::Seconds(20);
  Heartbeat("d1", "node1", "127.0.0.1:7001");
  auto refused = state_->RegisterRun(testing_util::RunRequest("heat", 2, "auto"), false);
  ASSERT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("'node0'"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("d0"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("is down"));
  // A second depot on node0 that is up is chosen over the down one.
  Heartbeat("d0b", "node0", "127.0.0.1:7002");
  auto run = state_->RegisterRun(testing_util::RunRequest("heat", 2, "auto"), false);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(run->rank_depots(), ::testing::ElementsAre("127.0.0.1:7002", "127.0.0.1:7001"));
}

TEST_F(RssDepotIdentityTest, AMovedDepotServesItsPiecesAtItsNewAddress) {
  Heartbeat("d0", "node0", "127.0.0.1:7000");
  Heartbeat("d1", "node1", "127.0.0.1:7001");
  std::string owner = CheckpointedJob("heat");
  // d1 restarts on another port (same directory, same id).
  now_ += absl::Seconds(2);
  Heartbeat("d1", "node1", "127.0.0.1:7999");
  Heartbeat("d0", "node0", "127.0.0.1:7000");
  v1::RegisterRunRequest again = testing_util::RunRequest("heat", 2, "auto");
  again.set_owner_secret(owner);
  auto resumed = state_->RegisterRun(again, false);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE(resumed->restart());
  const v1::Manifest& manifest = resumed->manifest();
  ASSERT_EQ(manifest.pieces_size(), 2);
  const v1::PieceRecord& moved = manifest.pieces(1);
  EXPECT_EQ(moved.depot_address(), "127.0.0.1:7999");
  EXPECT_EQ(moved.depot_id(), "d1");
  ASSERT_EQ(moved.copies_size(), 1);
  EXPECT_EQ(moved.copies(0).depot_address(), "127.0.0.1:7999");
  EXPECT_EQ(moved.copies(0).state(), "ok");
  EXPECT_TRUE(moved.manage_cap().empty());
  EXPECT_TRUE(moved.copies(0).manage_cap().empty());
  // GetJob says the same, and marks the copies of a depot that went silent.
  now_ += absl::Seconds(30);
  Heartbeat("d1", "node1", "127.0.0.1:7999");
  auto job = state_->GetJob("heat");
  ASSERT_TRUE(job.ok());
  const v1::CheckpointSummary& ckpt = job->checkpoints(0);
  ASSERT_EQ(ckpt.pieces_size(), 2);
  EXPECT_EQ(ckpt.pieces(0).copies(0).state(), "depot_down");
  EXPECT_EQ(ckpt.pieces(1).copies(0).state(), "ok");
  EXPECT_EQ(ckpt.pieces(1).copies(0).depot_address(), "127.0.0.1:7999");
}

TEST_F(RssDepotIdentityTest, DeletionsFollowTheDepotToItsNewAddressAndWaitWhileItIsDown) {
  Heartbeat("d0", "node0", "127.0.0.1:7000");
  Heartbeat("d1", "node1", "127.0.0.1:7001");
  CheckpointedJob("heat");
  auto job = state_->GetJob("heat");
  ASSERT_TRUE(job.ok());
  // Both depots go silent; the checkpoint is dropped through a fresh run that finishes.
  now_ += absl::Seconds(60);
  Heartbeat("d9", "node0", "127.0.0.1:7100");  // a live depot for the new run's node0 rank
  Heartbeat("d8", "node1", "127.0.0.1:7101");
  v1::RegisterRunRequest fresh = testing_util::RunRequest("heat", 2, "auto", v1::REGISTER_FRESH);
  auto run = state_->RegisterRun(fresh, /*admin=*/true);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE(state_->FinishRun(run->run_id()).ok());
  EXPECT_EQ(state_->ProcessDeleteQueue(), 2);  // both depots down: nothing is tried
  EXPECT_EQ(janitor_.delete_calls(), 0);
  // d1 comes back on a new port: its deletion goes there once its backoff passed.
  Heartbeat("d1", "node1", "127.0.0.1:7555");
  now_ += absl::Minutes(2);
  Heartbeat("d1", "node1", "127.0.0.1:7555");
  EXPECT_EQ(state_->ProcessDeleteQueue(), 1);
  EXPECT_EQ(janitor_.delete_calls(), 1);
  EXPECT_EQ(janitor_.deleted_at().at("e1r1.manage"), "127.0.0.1:7555");
}

}  // namespace
}  // namespace srs
