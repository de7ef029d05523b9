// The RSS against the real srs-depot (not the fake): the depot registers, `depot = auto`
// resolves to it, a commit really pins the pieces there (their lease is gone), retention and
// FinishRun really delete them.
#include <gtest/gtest.h>

#include "common/piece_format.h"
#include "depot/client/depot_client.h"
#include "rss/client/rss_client.h"
#include "rss/testing/rss_process.h"
#include "srs/depot/v1/depot.pb.h"
#include "tests/depot/depot_process.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using testing_util::BeginRequest;
using testing_util::RunRequest;

constexpr char kHost[] = "node-real";

// A valid one-dataset HDF5 piece, as a rank would write it.
std::string PieceImage(const std::string& job, int64_t epoch, int rank) {
  std::vector<double> values(16, rank + 0.5);
  piece::DatasetWrite dataset{"u", ElementType::kDouble, values.data(), 16, 32, "block", {}};
  auto image = piece::WritePieceImage(piece::PieceHeader{job, epoch, rank, 2, ""}, {dataset});
  EXPECT_TRUE(image.ok()) << image.status();
  return image.ok() ? *image : "";
}

class RssRealDepotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RssProcess::Options options;
    options.binary = SRS_RSS_BINARY;
    options.state_dir = dir_.path() + "/rss";
    options.lease_seconds = 5;
    auto rss = RssProcess::Start(options);
    ASSERT_TRUE(rss.ok()) << rss.status();
    rss_ = std::move(*rss);
    auto depot = testing::DepotProcess::Start(
        SRS_DEPOT_BIN,
        {"--dir", dir_.path() + "/depot", "--rss", rss_->address(), "--host", kHost,
         "--enroll-secret-file", options.state_dir + "/admin.token"},
        dir_.path() + "/depot.log");
    ASSERT_TRUE(depot.ok()) << depot.status();
    depot_ = std::move(*depot);
    client_ = std::move(RssClient::Connect(rss_->address(), absl::Seconds(10))).value();
    depot_client_ = std::move(DepotClient::Connect(depot_->address(), absl::Seconds(10))).value();
    admin_ = ReadAdminToken(options.state_dir + "/admin.token").value();
  }

  // Puts rank `rank`'s piece of `epoch` on the depot and returns its record for the RSS.
  v1::PieceRecord PutPiece(const std::string& job, int64_t epoch, int rank,
                           const depot::v1::WriteGrant& grant) {
    depot::v1::PieceKey key;
    key.set_job(job);
    key.set_epoch(epoch);
    key.set_rank(rank);
    auto put = depot_client_->PutBytes(key, PieceImage(job, epoch, rank), 60, grant);
    EXPECT_TRUE(put.ok()) << put.status();
    v1::PieceRecord record;
    record.set_rank(rank);
    record.set_depot_address(depot_->address());
    record.set_read_cap(put->caps().read());
    record.set_manage_cap(put->caps().manage());
    record.set_size_bytes(put->info().size_bytes());
    record.set_xxh3_64(put->info().xxh3_64());
    return record;
  }

  // Checkpoints both ranks; returns the manage caps.
  std::vector<std::string> Checkpoint(const std::string& token, const std::string& job) {
    auto epoch = client_->BeginCheckpoint(BeginRequest(token, 2, v1::REASON_PERIODIC));
    EXPECT_TRUE(epoch.ok()) << epoch.status();
    v1::ReportPiecesRequest report;
    report.set_run_token(token);
    report.set_epoch(epoch->epoch());
    std::vector<std::string> caps;
    for (int rank = 0; rank < 2; ++rank) {
      // The grant BeginCheckpoint issued for the rank: the depot refuses the put without it.
      *report.add_pieces() = PutPiece(job, epoch->epoch(), rank, epoch->write_grants(rank));
      caps.push_back(report.pieces(rank).manage_cap());
    }
    EXPECT_TRUE(client_->ReportPieces(report).ok());
    v1::CommitCheckpointRequest commit;
    commit.set_run_token(token);
    commit.set_epoch(epoch->epoch());
    absl::Status status = client_->CommitCheckpoint(commit).status();
    EXPECT_TRUE(status.ok()) << status;
    return caps;
  }

  // Waits until the depot no longer knows any of `caps`.
  bool AllGone(const std::vector<std::string>& caps) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      bool gone = true;
      for (const std::string& cap : caps) gone = gone && !depot_client_->Stat(cap).ok();
      if (gone) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  testing_util::TempDir dir_;
  std::unique_ptr<RssProcess> rss_;
  std::unique_ptr<testing::DepotProcess> depot_;
  std::unique_ptr<RssClient> client_;
  std::unique_ptr<DepotClient> depot_client_;
  std::string admin_;
};

TEST_F(RssRealDepotTest, CommitPinsAndRetentionAndFinishDeleteOnTheRealDepot) {
  bool registered = false;  // the depot registers itself asynchronously
  for (absl::Time deadline = absl::Now() + absl::Seconds(10); !registered && absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(100))) {
    v1::ListDepotsRequest list;
    list.set_admin_token(admin_);
    auto depots = client_->ListDepots(list);
    registered = depots.ok() && depots->depots_size() == 1 &&
                 depots->depots(0).address() == depot_->address() &&
                 depots->depots(0).host() == kHost;
  }
  ASSERT_TRUE(registered);
  auto elsewhere = client_->RegisterRun(RunRequest("real", 2, "auto"));  // hosts node0, node1
  EXPECT_EQ(elsewhere.status().code(), absl::StatusCode::kFailedPrecondition);
  auto req = RunRequest("real", 2, "auto");
  for (auto& rank : *req.mutable_ranks()) rank.set_host(kHost);
  auto run = client_->RegisterRun(req);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->rank_depots(0), depot_->address());
  EXPECT_EQ(run->rank_depots(1), depot_->address());

  std::vector<std::string> first = Checkpoint(run->run_token(), "real");
  for (const std::string& cap : first) {
    auto info = depot_client_->Stat(cap);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->lease_expires_unix_ms(), 0) << "committed pieces must be pinned";
  }
  std::vector<std::string> second = Checkpoint(run->run_token(), "real");  // keep = 1
  EXPECT_TRUE(AllGone(first)) << "retention must delete the older checkpoint's pieces";
  EXPECT_TRUE(depot_client_->Stat(second[0]).ok());
  v1::FinishRunRequest finish;
  finish.set_run_token(run->run_token());
  ASSERT_TRUE(client_->FinishRun(finish).ok());
  EXPECT_TRUE(AllGone(second)) << "FinishRun must delete every piece";
}

}  // namespace
}  // namespace srs
