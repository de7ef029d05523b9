// `srs repair` against the real srs-rss and three real srs-depot processes on three hosts: a
// piece with partner copies on depots A and T (the RSS's replica target), T killed with SIGKILL,
// RepairJob has A replicate the piece to the third depot C (depot to depot, verified), pinned
// there (no lease left), recorded as [A, C]; a second repair makes nothing.
//
// Needs the RSS's redundancy (replica targets at BeginCheckpoint) and the depots' Replicate:
// without them it skips, which fails under CI=true.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <map>

#include "common/piece_format.h"
#include "depot/client/depot_client.h"
#include "rss/client/piece_copies.h"
#include "rss/client/rss_client.h"
#include "rss/testing/rss_process.h"
#include "srs/rss/v1/rss.grpc.pb.h"
#include "tests/depot/depot_process.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using testing_util::BeginRequest;

class RssRepairRealDepotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RssProcess::Options options;
    options.binary = SRS_RSS_BINARY;
    options.state_dir = dir_.path() + "/rss";
    auto rss = RssProcess::Start(options);
    ASSERT_TRUE(rss.ok()) << rss.status();
    rss_ = std::move(*rss);
    admin_ = ReadAdminToken(options.state_dir + "/admin.token").value();
    stub_ =
        v1::Rss::NewStub(grpc::CreateChannel(rss_->address(), grpc::InsecureChannelCredentials()));
    for (const char* host : {"h1", "h2", "h3"}) {
      auto depot = testing::DepotProcess::Start(
          SRS_DEPOT_BIN,
          {"--dir", dir_.path() + "/depot-" + host, "--rss", rss_->address(), "--host", host,
           "--enroll-secret-file", options.state_dir + "/admin.token"},
          dir_.path() + "/depot-" + host + ".log");
      ASSERT_TRUE(depot.ok()) << depot.status();
      auto client = DepotClient::Connect((*depot)->address(), absl::Seconds(10));
      ASSERT_TRUE(client.ok()) << client.status();
      auto info = (*client)->Info();
      ASSERT_TRUE(info.ok()) << info.status();
      ids_[host] = info->depot_id();
      by_id_[info->depot_id()] = host;
      clients_[host] = std::move(*client);
      depots_[host] = std::move(*depot);
    }
    // The depots register asynchronously.
    for (absl::Time deadline = absl::Now() + absl::Seconds(15); absl::Now() < deadline;
         absl::SleepFor(absl::Milliseconds(100))) {
      v1::ListDepotsRequest list;
      list.set_admin_token(admin_);
      v1::ListDepotsResponse depots;
      if (Call(&v1::Rss::Stub::ListDepots, list, &depots).ok() && depots.depots_size() == 3) return;
    }
    FAIL() << "the 3 depots did not register";
  }

  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (v1::Rss::Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, Resp* resp) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return (stub_.get()->*rpc)(&context, req, resp);
  }

  v1::RepairJobResponse Repair() {
    v1::RepairJobRequest req;
    req.set_admin_token(admin_);
    req.set_job("heat");
    v1::RepairJobResponse resp;
    grpc::Status status = Call(&v1::Rss::Stub::RepairJob, req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp;
  }

  std::vector<v1::PieceCopy> CopiesOfRank0() {
    v1::GetJobRequest req;
    req.set_admin_token(admin_);
    req.set_job("heat");
    v1::GetJobResponse job;
    grpc::Status status = Call(&v1::Rss::Stub::GetJob, req, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const auto& ckpt : job.checkpoints()) {
      if (ckpt.state() == "committed" && ckpt.pieces_size() > 0) return CopiesOf(ckpt.pieces(0));
    }
    return {};
  }

  testing_util::TempDir dir_;
  std::unique_ptr<RssProcess> rss_;
  std::unique_ptr<v1::Rss::Stub> stub_;
  std::string admin_;
  std::map<std::string, std::unique_ptr<testing::DepotProcess>> depots_;  // by host
  std::map<std::string, std::unique_ptr<DepotClient>> clients_;           // by host
  std::map<std::string, std::string> ids_;                                // host -> depot id
  std::map<std::string, std::string> by_id_;                              // depot id -> host
};

TEST_F(RssRepairRealDepotTest, LostPartnerCopyIsReplicatedToTheThirdHost) {
  v1::RegisterRunRequest reg;
  reg.set_job("heat");
  reg.set_nprocs(1);
  reg.set_redundancy("partner");
  reg.set_admin_token(admin_);
  v1::RankPlacement* rank = reg.add_ranks();
  rank->set_rank(0);
  rank->set_host("h1");
  rank->set_depot("auto");
  v1::RegisterRunResponse run;
  grpc::Status status = Call(&v1::Rss::Stub::RegisterRun, reg, &run);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::BeginCheckpointResponse begun;
  status = Call(&v1::Rss::Stub::BeginCheckpoint, BeginRequest(run.run_token(), 1, v1::REASON_STOP),
                &begun);
  ASSERT_TRUE(status.ok()) << status.error_message();
  if (begun.replica_targets_size() == 0 || begun.replica_targets(0).targets_size() == 0) {
    if (std::getenv("CI") != nullptr && std::string(std::getenv("CI")) == "true") {
      FAIL() << "this RSS places no replica targets (redundancy not in this build)";
    }
    GTEST_SKIP() << "this RSS places no replica targets (redundancy not in this build)";
  }
  const std::string target = by_id_[begun.replica_targets(0).targets(0).depot_id()];
  ASSERT_TRUE(target == "h2" || target == "h3") << "target " << target;
  const std::string third = target == "h2" ? "h3" : "h2";

  // The rank writes its piece to its own depot and its partner copy to the target.
  std::vector<double> values(1000, 2.5);
  piece::DatasetWrite dataset{"u", ElementType::kDouble, values.data(), 1000, 1000, "block", {}};
  auto image =
      piece::WritePieceImage(piece::PieceHeader{"heat", begun.epoch(), 0, 1, ""}, {dataset});
  ASSERT_TRUE(image.ok()) << image.status();
  depot::v1::PieceKey key;
  key.set_job("heat");
  key.set_epoch(begun.epoch());
  key.set_rank(0);
  v1::PieceRecord record;
  record.set_rank(0);
  for (const std::string& host : {std::string("h1"), target}) {
    auto put = clients_[host]->PutBytes(key, *image, 600, begun.write_grants(0));
    ASSERT_TRUE(put.ok()) << host << ": " << put.status();
    v1::PieceCopy* copy = record.add_copies();
    copy->set_depot_id(ids_[host]);
    copy->set_depot_address(depots_[host]->address());
    copy->set_read_cap(put->caps().read());
    copy->set_manage_cap(put->caps().manage());
    record.set_size_bytes(put->info().size_bytes());
    record.set_xxh3_64(put->info().xxh3_64());
  }
  v1::ReportPiecesRequest report;
  report.set_run_token(run.run_token());
  report.set_epoch(begun.epoch());
  *report.add_pieces() = WithLegacyMirror(record);
  v1::ReportPiecesResponse reported;
  status = Call(&v1::Rss::Stub::ReportPieces, report, &reported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::CommitCheckpointRequest commit;
  commit.set_run_token(run.run_token());
  commit.set_epoch(begun.epoch());
  v1::CommitCheckpointResponse committed;
  status = Call(&v1::Rss::Stub::CommitCheckpoint, commit, &committed);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::RepairJobResponse whole = Repair();
  EXPECT_EQ(whole.made_size(), 0);
  EXPECT_EQ(whole.problems_size(), 0) << whole.problems(0);

  // The target's node is lost.
  ASSERT_TRUE(depots_[target]->Stop(SIGKILL, absl::Seconds(10)).ok());
  v1::RepairJobResponse repaired = Repair();
  ASSERT_EQ(repaired.problems_size(), 0) << repaired.problems(0);
  ASSERT_EQ(repaired.made_size(), 1);
  EXPECT_EQ(repaired.made(0).from_depot_id(), ids_["h1"]);
  EXPECT_EQ(repaired.made(0).to_depot_id(), ids_[third]);
  std::vector<v1::PieceCopy> copies = CopiesOfRank0();
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(copies[0].depot_id(), ids_["h1"]);
  EXPECT_EQ(copies[1].depot_id(), ids_[third]);
  // The new copy is the same bytes, and pinned: no lease left to run out.
  auto info = clients_[third]->Stat(copies[1].read_cap());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->xxh3_64(), record.xxh3_64());
  EXPECT_EQ(info->size_bytes(), record.size_bytes());
  EXPECT_EQ(info->lease_expires_unix_ms(), 0);
  auto bytes = clients_[third]->GetAll(copies[1].read_cap());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, *image);

  v1::RepairJobResponse again = Repair();
  EXPECT_EQ(again.made_size(), 0);
  EXPECT_EQ(again.problems_size(), 0) << again.problems(0);
}

}  // namespace
}  // namespace srs
