// Unit tests of `srs repair` and `srs drop` in RssState (rss/rss_repair.cc): a real SQLite file,
// a fake janitor, a fake copier (depot Stat/Replicate) and a hand-moved clock that makes depots
// go silent (down after 15 s without a registration).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>

#include "rss/client/piece_copies.h"
#include "rss/rss_server.h"
#include "rss/rss_state.h"
#include "srs/rss/v1/rss.grpc.pb.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::BeginRequest;
using testing_util::FakeJanitor;
using testing_util::RunRequest;

constexpr int64_t kSize = 8000;
uint64_t Hash(int64_t epoch, int rank) { return static_cast<uint64_t>(epoch * 1000 + rank); }

// Depots as a copier sees them: which (address, read cap) hold which piece, and the copies made.
class FakeCopier : public ReplicaCopier {
 public:
  absl::StatusOr<StoredPiece> Stat(const std::string& address, const std::string& read_cap,
                                   int64_t /*size_bytes*/) override {
    ++stats;
    ++stats_by_address[address];
    if (unavailable.count(address) != 0) return absl::UnavailableError("connection refused");
    auto it = stored.find({address, read_cap});
    if (it == stored.end()) return absl::NotFoundError("no such piece");
    return it->second;
  }
  absl::StatusOr<CopyMade> Copy(const CopyOrder& order) override {
    orders.push_back(order);
    if (during_copy) during_copy();
    auto refusal = refuse.find(order.target_depot_id);
    if (refusal != refuse.end()) return refusal->second;
    CopyMade made{absl::StrCat("r.", order.target_depot_id, ".e", order.epoch, "r", order.rank),
                  absl::StrCat("m.", order.target_depot_id, ".e", order.epoch, "r", order.rank)};
    stored[{order.target_address, made.read_cap}] = {kSize, Hash(order.epoch, order.rank)};
    return made;
  }

  std::map<std::pair<std::string, std::string>, StoredPiece> stored;
  std::map<std::string, absl::Status> refuse;  // by target depot id
  std::vector<CopyOrder> orders;
  int stats = 0;
  std::map<std::string, int> stats_by_address;
  std::set<std::string> unavailable;  // addresses whose depot does not answer
  std::function<void()> during_copy;  // runs inside Copy (another caller acting meanwhile)
};

class RssRepairTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    state_.reset();
    RssStateOptions options;
    options.clock = [this] { return now_; };
    auto state = RssState::Open(dir_.path() + "/rss.db", &janitor_, options);
    ASSERT_TRUE(state.ok()) << state.status();
    state_ = std::move(*state);
  }

  // Registers (or heartbeats) depot `id` on `host` at "addr-ID", `used` bytes of 1 GB used
  // (-1: as at its last registration, else 0).
  void Depot(const std::string& id, const std::string& host, int64_t used = -1) {
    if (used < 0) used = used_[id];
    used_[id] = used;
    v1::RegisterDepotRequest req;
    req.set_depot_id(id);
    req.set_host(host);
    req.set_address("addr-" + id);
    req.set_capacity_bytes(1'000'000'000);
    req.set_free_bytes(1'000'000'000 - used);
    ASSERT_TRUE(state_->RegisterDepot(req).ok());
  }

  // A piece of (epoch, rank) with a copy on each of `depots`, each present on its depot.
  v1::PieceRecord PieceOn(int64_t epoch, int rank, const std::vector<std::string>& depots) {
    v1::PieceRecord piece;
    piece.set_rank(rank);
    piece.set_size_bytes(kSize);
    piece.set_xxh3_64(Hash(epoch, rank));
    for (const std::string& id : depots) {
      v1::PieceCopy* copy = piece.add_copies();
      copy->set_depot_id(id);
      copy->set_depot_address("addr-" + id);
      copy->set_read_cap(absl::StrCat("r.", id, ".e", epoch, "r", rank));
      copy->set_manage_cap(absl::StrCat("m.", id, ".e", epoch, "r", rank));
      copier_.stored[{copy->depot_address(), copy->read_cap()}] = {kSize, Hash(epoch, rank)};
    }
    return WithLegacyMirror(piece);
  }

  // Registers a run of `nprocs` ranks (keep 2) and commits one checkpoint whose rank r has copies
  // on depots[r], with `copies_required` copies per piece; returns its epoch.
  int64_t Commit(const std::vector<std::vector<std::string>>& depots, int copies_required) {
    const int nprocs = static_cast<int>(depots.size());
    if (run_.run_id().empty()) {
      auto resp = state_->RegisterRun(RunRequest("heat", nprocs, "auto-none", v1::REGISTER_AUTO,
                                                 /*keep=*/2),
                                      false);
      EXPECT_TRUE(resp.ok()) << resp.status();
      run_ = *resp;
    }
    auto epoch = state_->BeginCheckpoint(
        run_.run_id(), BeginRequest(run_.run_token(), nprocs, v1::REASON_PERIODIC));
    EXPECT_TRUE(epoch.ok()) << epoch.status();
    v1::ReportPiecesRequest report;
    report.set_epoch(*epoch);
    for (int r = 0; r < nprocs; ++r) *report.add_pieces() = PieceOn(*epoch, r, depots[r]);
    EXPECT_TRUE(state_->ReportPieces(run_.run_id(), report).ok());
    v1::CommitCheckpointRequest commit;
    commit.set_epoch(*epoch);
    EXPECT_TRUE(state_->CommitCheckpoint(run_.run_id(), commit).ok());
    SetCopiesRequired(*epoch, copies_required);
    return *epoch;
  }

  // The redundancy a checkpoint committed with, written into the store as the commit of a run
  // with `redundancy` records it (that part is not this test's subject).
  void SetCopiesRequired(int64_t epoch, int copies) {
    state_.reset();
    {
      auto store = SqliteStore::Open(dir_.path() + "/rss.db");
      ASSERT_TRUE(store.ok()) << store.status();
      auto snap = (*store)->LoadAll();
      ASSERT_TRUE(snap.ok());
      for (CheckpointRow& row : snap->checkpoints) {
        if (row.summary.epoch() != epoch) continue;
        row.summary.set_copies_required(copies);
        ASSERT_TRUE((*store)->Begin().ok());
        ASSERT_TRUE((*store)->PutCheckpoint(row).ok());
        ASSERT_TRUE((*store)->Commit().ok());
      }
    }
    Reopen();
  }

  // The depot ids of the copies of (epoch, rank), in order.
  std::vector<std::string> CopyDepots(int64_t epoch, int rank) {
    std::vector<std::string> out;
    auto job = state_->GetJob("heat");
    EXPECT_TRUE(job.ok());
    for (const auto& ckpt : job->checkpoints()) {
      if (ckpt.epoch() != epoch) continue;
      for (const auto& piece : ckpt.pieces()) {
        if (piece.rank() != rank) continue;
        for (const auto& copy : CopiesOf(piece)) out.push_back(copy.depot_id());
      }
    }
    return out;
  }

  // 20 s pass; only the depots in `alive` heartbeat meanwhile.
  void Silence(const std::vector<std::pair<std::string, std::string>>& alive) {
    now_ += absl::Seconds(20);
    for (const auto& [id, host] : alive) Depot(id, host);
  }

  testing_util::TempDir dir_;
  FakeJanitor janitor_;
  FakeCopier copier_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::unique_ptr<RssState> state_;
  v1::RegisterRunResponse run_;
  std::map<std::string, int64_t> used_;  // by depot id
};

TEST_F(RssRepairTest, CopyOnDownDepotIsReplacedOnLiveDepotOfAnotherDomain) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("a2", "hostA");  // same failure domain as a: never a target
  Depot("c", "hostC", /*used=*/500);
  Depot("d", "hostD", /*used=*/100);  // least used of the candidates: chosen first
  int64_t epoch = Commit({{"a", "b"}}, 2);
  Silence({{"a", "hostA"}, {"a2", "hostA"}, {"c", "hostC"}, {"d", "hostD"}});  // b is down

  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_TRUE(repaired->problems().empty()) << repaired->problems(0);
  ASSERT_EQ(repaired->made_size(), 1);
  EXPECT_EQ(repaired->made(0).epoch(), epoch);
  EXPECT_EQ(repaired->made(0).rank(), 0);
  EXPECT_EQ(repaired->made(0).from_depot_id(), "a");
  EXPECT_EQ(repaired->made(0).to_depot_id(), "d");
  ASSERT_EQ(copier_.orders.size(), 1u);
  EXPECT_EQ(copier_.orders[0].source_address, "addr-a");
  EXPECT_EQ(copier_.orders[0].target_address, "addr-d");
  EXPECT_EQ(copier_.orders[0].job, "heat");
  EXPECT_EQ(copier_.orders[0].epoch, epoch);
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "d"));
  EXPECT_EQ(janitor_.pinned().count(absl::StrCat("m.d.e", epoch, "r0")), 1u);
  // The answer lists the checkpoints without any manage capability.
  ASSERT_EQ(repaired->checkpoints_size(), 1);
  for (const auto& piece : repaired->checkpoints(0).pieces()) {
    EXPECT_TRUE(piece.manage_cap().empty());
    for (const auto& copy : piece.copies()) EXPECT_TRUE(copy.manage_cap().empty());
  }

  // The down depot's copy left the record; its deletion is queued, waits while the depot is
  // down, and is done once it is back (a heartbeat).
  state_->ProcessDeleteQueue();
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("m.b.e", epoch, "r0")), 0u);
  now_ += absl::Minutes(10);  // past the retry backoff
  Depot("b", "hostB");
  state_->ProcessDeleteQueue();
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("m.b.e", epoch, "r0")), 1u);

  // Durable: a restarted RSS has the new record.
  Reopen();
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "d"));
}

TEST_F(RssRepairTest, SecondRunMakesNothing) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("c", "hostC");
  int64_t epoch = Commit({{"a", "b"}, {"b", "a"}}, 2);
  Silence({{"a", "hostA"}, {"c", "hostC"}});
  auto first = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->made_size(), 2);
  EXPECT_THAT(CopyDepots(epoch, 1), ElementsAre("a", "c"));
  const size_t orders = copier_.orders.size();
  const std::string before = state_->GetJob("heat")->SerializeAsString();

  auto second = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->made_size(), 0);
  EXPECT_TRUE(second->problems().empty());
  EXPECT_EQ(copier_.orders.size(), orders);
  EXPECT_EQ(state_->GetJob("heat")->SerializeAsString(), before);
}

TEST_F(RssRepairTest, NoLiveDepotInAnotherDomainIsAProblemNotAnError) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("a2", "hostA");
  int64_t epoch = Commit({{"a", "b"}}, 2);
  Silence({{"a", "hostA"}, {"a2", "hostA"}});
  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->made_size(), 0);
  ASSERT_EQ(repaired->problems_size(), 1);
  EXPECT_THAT(
      repaired->problems(0),
      HasSubstr(absl::StrCat("epoch ", epoch, " rank 0: no live depot in another failure domain")));
  EXPECT_TRUE(copier_.orders.empty());
  // Nothing replaced the copy on the down depot: it stays in the record (and on its depot), so
  // the piece has two copies again as soon as hostB is back; a repair never lowers redundancy.
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "b"));
  auto again = state_->RepairJob("heat", &copier_);  // still down: the same problem, no change
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->problems_size(), 1);
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "b"));
  now_ += absl::Minutes(10);  // past any retry backoff
  Depot("b", "hostB");        // back: nothing of it was queued for deletion
  state_->ProcessDeleteQueue();
  EXPECT_TRUE(janitor_.deleted().empty());
}

TEST_F(RssRepairTest, FailedCopyTriesTheNextCandidate) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("c", "hostC", 10);
  Depot("d", "hostD", 20);
  int64_t epoch = Commit({{"a", "b"}}, 2);
  Silence({{"a", "hostA"}, {"c", "hostC"}, {"d", "hostD"}});
  copier_.refuse["c"] = absl::UnavailableError("c unreachable");
  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE(repaired->problems().empty());
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "d"));
}

// Every copy on a depot that is only down (a private depot between runs, a rebooting node): the
// piece is not known to be lost, and the problem says so (the tool then does not suggest
// dropping the checkpoint).
TEST_F(RssRepairTest, CopiesOnlyOutOfReachAreNotCalledLost) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("c", "hostC");
  int64_t epoch = Commit({{"a", "b"}}, 2);
  Silence({{"c", "hostC"}});  // a and b down
  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok());
  ASSERT_EQ(repaired->problems_size(), 1);
  EXPECT_THAT(repaired->problems(0), HasSubstr("rank 0: no copy reachable now, none known lost"));
  EXPECT_THAT(repaired->problems(0), HasSubstr("a: depot down"));
  EXPECT_THAT(repaired->problems(0), HasSubstr("b: depot down"));
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "b"));
}

TEST_F(RssRepairTest, NoHealthyCopyLeavesTheRecordAndSaysWhy) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("c", "hostC");
  int64_t epoch = Commit({{"a", "b"}}, 2);
  copier_.stored.erase({"addr-a", absl::StrCat("r.a.e", epoch, "r0")});  // gone from a
  Silence({{"a", "hostA"}, {"c", "hostC"}});                             // b down
  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok());
  ASSERT_EQ(repaired->problems_size(), 1);
  EXPECT_THAT(repaired->problems(0), HasSubstr("rank 0: no healthy copy left"));
  EXPECT_THAT(repaired->problems(0), HasSubstr("a: piece missing"));
  EXPECT_THAT(repaired->problems(0), HasSubstr("b: depot down"));
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "b"));
  EXPECT_TRUE(copier_.orders.empty());
}

TEST_F(RssRepairTest, CorruptCopyIsReplacedAndDeleted) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("c", "hostC");
  int64_t epoch = Commit({{"a", "b"}}, 2);
  copier_.stored[{"addr-b", absl::StrCat("r.b.e", epoch, "r0")}].xxh3_64 ^= 1;
  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE(repaired->problems().empty());
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "c"));
  state_->ProcessDeleteQueue();
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("m.b.e", epoch, "r0")), 1u);
}

TEST_F(RssRepairTest, AnUnreachableDepotIsAskedOnceAndItsCopiesReplaced) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("c", "hostC");
  int64_t epoch = Commit({{"a", "b"}, {"a", "b"}, {"b", "a"}}, 2);
  copier_.unavailable.insert("addr-b");  // b's node vanished a moment ago: still "up"
  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE(repaired->problems().empty());
  EXPECT_EQ(repaired->made_size(), 3);
  EXPECT_EQ(copier_.stats_by_address["addr-b"], 1);
  EXPECT_THAT(CopyDepots(epoch, 2), ElementsAre("a", "c"));
}

TEST_F(RssRepairTest, CheckpointDroppedDuringTheRepairGetsNoRecordAndItsNewCopyIsDeleted) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("c", "hostC");
  int64_t epoch = Commit({{"a", "b"}}, 2);
  Silence({{"a", "hostA"}, {"c", "hostC"}});
  copier_.during_copy = [&] { ASSERT_TRUE(state_->DropJobCheckpoint("heat", epoch).ok()); };
  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->made_size(), 0);
  ASSERT_EQ(repaired->problems_size(), 1);
  EXPECT_THAT(repaired->problems(0), HasSubstr("changed during the repair"));
  state_->ProcessDeleteQueue();
  // The copy made for nothing is deleted, like the dropped checkpoint's own copies.
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("m.c.e", epoch, "r0")), 1u);
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("m.a.e", epoch, "r0")), 1u);
}

TEST_F(RssRepairTest, LegacyRecordNeedsOneCopyAndIsLeftAlone) {
  Depot("a", "hostA");
  Commit({{"a"}}, 0);  // predates redundancy: copies_required 0 = one copy
  auto repaired = state_->RepairJob("heat", &copier_);
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->made_size(), 0);
  EXPECT_TRUE(repaired->problems().empty());
  EXPECT_EQ(copier_.stats, 1);
}

TEST_F(RssRepairTest, PatienceLeavesAPieceAloneWhileItsDepotWasSeenRecently) {
  Depot("a", "hostA");
  Depot("b", "hostB");
  Depot("c", "hostC");
  int64_t epoch = Commit({{"a", "b"}}, 2);
  Silence({{"a", "hostA"}, {"c", "hostC"}});  // b silent for 20 s: maybe restarting
  auto patient = state_->RepairJob("heat", &copier_, absl::Minutes(5));
  ASSERT_TRUE(patient.ok());
  EXPECT_EQ(patient->made_size(), 0);
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "b"));
  for (int i = 0; i < 15; ++i) Silence({{"a", "hostA"}, {"c", "hostC"}});  // b gone 5 min+
  auto repaired = state_->RepairJob("heat", &copier_, absl::Minutes(5));
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->made_size(), 1);
  EXPECT_THAT(CopyDepots(epoch, 0), ElementsAre("a", "c"));
}

// The RSS's --auto-repair thread, in a real in-process server: a copy on a depot nobody knows
// leaves the record by itself (the one healthy copy is all a checkpoint without redundancy needs).
TEST(RssAutoRepair, ServerRepairsByItself) {
  testing_util::TempDir dir;
  FakeJanitor janitor;
  FakeCopier copier;
  RssServerOptions options;
  options.state_dir = dir.path() + "/rss";
  options.janitor = &janitor;
  options.copier = &copier;
  options.auto_repair_interval = absl::Milliseconds(50);
  options.auto_repair_patience = absl::Milliseconds(1);
  auto server = RssServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::Rss::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  auto call = [&](auto rpc, const auto& req, auto* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status = ((*stub).*rpc)(&ctx, req, resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
  };
  v1::RegisterDepotRequest depot;
  depot.set_depot_id("a");
  depot.set_host("hostA");
  depot.set_address("addr-a");
  depot.set_enroll_secret((*server)->admin_token());
  v1::RegisterDepotResponse enrolled;
  call(&v1::Rss::Stub::RegisterDepot, depot, &enrolled);
  v1::RegisterRunRequest run_req = RunRequest("heat", 1, "addr-a");
  v1::RegisterRunResponse run;
  call(&v1::Rss::Stub::RegisterRun, run_req, &run);
  v1::BeginCheckpointResponse begun;
  call(&v1::Rss::Stub::BeginCheckpoint, BeginRequest(run.run_token(), 1, v1::REASON_PERIODIC),
       &begun);
  v1::PieceRecord piece;
  piece.set_rank(0);
  piece.set_size_bytes(kSize);
  piece.set_xxh3_64(Hash(begun.epoch(), 0));
  for (const char* id : {"a", "ghost"}) {
    v1::PieceCopy* copy = piece.add_copies();
    copy->set_depot_id(id);
    copy->set_depot_address(absl::StrCat("addr-", id));
    copy->set_read_cap(absl::StrCat("r.", id));
    copy->set_manage_cap(absl::StrCat("m.", id));
  }
  copier.stored[{"addr-a", "r.a"}] = {kSize, Hash(begun.epoch(), 0)};
  v1::ReportPiecesRequest report;
  report.set_run_token(run.run_token());
  report.set_epoch(begun.epoch());
  *report.add_pieces() = WithLegacyMirror(piece);
  v1::ReportPiecesResponse reported;
  call(&v1::Rss::Stub::ReportPieces, report, &reported);
  v1::CommitCheckpointRequest commit;
  commit.set_run_token(run.run_token());
  commit.set_epoch(begun.epoch());
  v1::CommitCheckpointResponse committed;
  call(&v1::Rss::Stub::CommitCheckpoint, commit, &committed);

  int copies = 2;
  for (absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
    v1::GetJobRequest get;
    get.set_job("heat");
    get.set_admin_token((*server)->admin_token());
    v1::GetJobResponse job;
    call(&v1::Rss::Stub::GetJob, get, &job);
    copies = job.checkpoints(0).pieces(0).copies_size();
    if (copies == 1) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(copies, 1) << "the automatic repair did not drop the ghost copy";
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       absl::Now() < deadline && janitor.deleted().count("m.ghost") == 0;) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(janitor.deleted().count("m.ghost"), 1u);
  (*server)->Shutdown(absl::Now() + absl::Seconds(2));
  (*server)->Wait();
}

TEST_F(RssRepairTest, UnknownJobIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(state_->RepairJob("nope", &copier_).status()));
  EXPECT_TRUE(absl::IsNotFound(state_->DropJobCheckpoint("nope", 1).status()));
}

TEST_F(RssRepairTest, DropMakesTheOlderCheckpointTheRestartPoint) {
  Depot("a", "hostA");
  int64_t older = Commit({{"a"}, {"a"}}, 1);
  int64_t newer = Commit({{"a"}, {"a"}}, 1);
  // The run stops (its lease runs out): the job is resumable from `newer`.
  now_ += absl::Seconds(30);
  EXPECT_EQ(state_->SweepLostRuns(), 1);

  auto unknown = state_->DropJobCheckpoint("heat", 99);
  EXPECT_TRUE(absl::IsNotFound(unknown.status())) << unknown.status();
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr(absl::StrCat("committed epochs: ", older, ", ", newer)));

  auto dropped = state_->DropJobCheckpoint("heat", newer);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(*dropped, "deleted");
  Depot("a", "hostA");  // a heartbeat: deletions wait while a depot is down
  state_->ProcessDeleteQueue();
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("m.a.e", newer, "r0")), 1u);
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("m.a.e", newer, "r1")), 1u);
  EXPECT_EQ(janitor_.deleted().count(absl::StrCat("m.a.e", older, "r0")), 0u);
  // Idempotent.
  auto again = state_->DropJobCheckpoint("heat", newer);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "deleted");

  v1::RegisterRunRequest resume = RunRequest("heat", 2, "auto-none");
  resume.set_owner_secret(run_.owner_secret());
  auto resumed = state_->RegisterRun(resume, false);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->restart());
  EXPECT_EQ(resumed->manifest().epoch(), older);
}

TEST_F(RssRepairTest, PendingCheckpointOfARunningRunCannotBeDropped) {
  Depot("a", "hostA");
  int64_t committed = Commit({{"a"}}, 1);
  auto pending = state_->BeginCheckpoint(run_.run_id(),
                                         BeginRequest(run_.run_token(), 1, v1::REASON_PERIODIC));
  ASSERT_TRUE(pending.ok());
  auto refused = state_->DropJobCheckpoint("heat", *pending);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("running run"));
  // A committed checkpoint of the running run may go (the run keeps going; its next commit
  // becomes the restart point).
  auto dropped = state_->DropJobCheckpoint("heat", committed);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(state_->ListJobs()[0].last_epoch(), 0);
}

}  // namespace
}  // namespace srs
