// Attacks on the depots through the real daemons (srs-rss and srs-depot as processes, enrolled
// with the admin token), as a hostile user on the same network would try them with nothing but
// a gRPC client and the public protos. Each must be refused with a clear status and leave the
// victim's job untouched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/checksum.h"
#include "common/grant.h"
#include "depot/client/depot_client.h"
#include "rss/client/rss_client.h"
#include "tests/depot/conformance.h"
#include "tests/depot/depot_process.h"

namespace srs {
namespace {

using testing::DepotProcess;
using ::testing::HasSubstr;
using testing::Key;
using testing::MakePieceImage;
namespace rv1 = ::srs::rss::v1;
namespace dv1 = ::srs::depot::v1;

constexpr char kHost[] = "node-victim";
constexpr int64_t kCapacity = 10 << 20;

class DepotAttacksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-depot-attacks.XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto rss = DepotProcess::Start(SRS_RSS_BIN, {"--state", dir_ + "/rss"}, dir_ + "/rss.log",
                                   "srs-rss listening on ");
    ASSERT_TRUE(rss.ok()) << rss.status();
    rss_ = std::move(*rss);
    auto depot = DepotProcess::Start(
        SRS_DEPOT_BIN,
        {"--dir", dir_ + "/depot", "--rss", rss_->address(), "--host", kHost, "--capacity",
         std::to_string(kCapacity), "--enroll-secret-file", dir_ + "/rss/admin.token"},
        dir_ + "/depot.log");
    ASSERT_TRUE(depot.ok()) << depot.status();
    depot_ = std::move(*depot);
    rss_client_ = std::move(RssClient::Connect(rss_->address(), absl::Seconds(10))).value();
    depot_client_ = std::move(DepotClient::Connect(depot_->address(), absl::Seconds(10))).value();
    admin_ = ReadAdminToken(dir_ + "/rss/admin.token").value();
    // The depot enrolls asynchronously: wait until the RSS lists it.
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (DepotsOf(kHost).empty() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_EQ(DepotsOf(kHost), std::vector<std::string>{depot_->address()}) << depot_->ReadLog();
  }
  void TearDown() override {
    depot_.reset();
    rss_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  std::vector<std::string> DepotsOf(const std::string& host) {
    rv1::ListDepotsRequest req;
    req.set_admin_token(admin_);
    auto listed = rss_client_->ListDepots(req);
    std::vector<std::string> out;
    if (!listed.ok()) return out;
    for (const rv1::DepotRecord& d : listed->depots()) {
      if (d.host() == host) out.push_back(d.address());
    }
    return out;
  }
  rv1::RegisterRunResponse RegisterVictim(const std::string& job, int nprocs) {
    rv1::RegisterRunRequest req;
    req.set_job(job);
    req.set_nprocs(nprocs);
    req.set_keep(1);
    for (int r = 0; r < nprocs; ++r) {
      rv1::RankPlacement* rank = req.add_ranks();
      rank->set_rank(r);
      rank->set_host(kHost);
      rank->set_depot("auto");
    }
    auto run = rss_client_->RegisterRun(req);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : rv1::RegisterRunResponse();
  }
  rv1::BeginCheckpointRequest Begin(const std::string& token, int nprocs,
                                    rv1::CheckpointReason reason) {
    rv1::BeginCheckpointRequest req;
    req.set_run_token(token);
    req.set_reason(reason);
    rv1::ArraySpec* array = req.add_arrays();
    array->set_name("u");
    array->set_srs_type("double");
    array->set_global_count(64 * nprocs);
    array->mutable_distribution()->set_kind("block");
    for (int r = 0; r < nprocs; ++r) array->add_local_counts(64);
    return req;
  }

  std::string dir_;
  std::unique_ptr<DepotProcess> rss_, depot_;
  std::unique_ptr<RssClient> rss_client_;
  std::unique_ptr<DepotClient> depot_client_;
  std::string admin_;
};

TEST_F(DepotAttacksTest, SquattingTheNextEpochsIsRefusedAndTheStopStillCommits) {
  const int nprocs = 2;
  rv1::RegisterRunResponse run = RegisterVictim("victim", nprocs);
  // The attacker squats epochs 1..4 of every rank: no grant, a forged grant, and a grant
  // signed with a key of their own.
  GrantKey own = GrantKey::Generate();
  for (int64_t epoch = 1; epoch <= 4; ++epoch) {
    for (int rank = 0; rank < nprocs; ++rank) {
      dv1::PieceKey key = Key("victim", epoch, rank);
      std::string image = MakePieceImage(key, 16);
      auto bare = depot_client_->PutBytes(key, image, 0);
      EXPECT_EQ(bare.status().code(), absl::StatusCode::kUnauthenticated);
      EXPECT_THAT(std::string(bare.status().message()), HasSubstr("write grant missing"));
      dv1::WriteGrant forged = own.Mint({"victim", epoch, rank, "", absl::Now() + absl::Hours(1)});
      EXPECT_EQ(depot_client_->PutBytes(key, image, 0, forged).status().code(),
                absl::StatusCode::kPermissionDenied);
      EXPECT_EQ(
          depot_client_
              ->PutLocal(
                  key, 1 << 20, 0, [](const std::string&) { return absl::OkStatus(); }, forged)
              .status()
              .code(),
          absl::StatusCode::kPermissionDenied);
    }
  }
  // Nor can the attacker list the job's pieces (ids, sizes, checksums).
  EXPECT_EQ(depot_client_->ListJob("victim").status().code(), absl::StatusCode::kUnauthenticated);

  // The victim is asked to stop and checkpoints: every put succeeds and the stop commits.
  rv1::RequestStopRequest stop;
  stop.set_admin_token(admin_);
  stop.set_job("victim");
  ASSERT_TRUE(rss_client_->RequestStop(stop).ok());
  auto begun = rss_client_->BeginCheckpoint(Begin(run.run_token(), nprocs, rv1::REASON_STOP));
  ASSERT_TRUE(begun.ok()) << begun.status();
  ASSERT_EQ(begun->write_grants_size(), nprocs);
  rv1::ReportPiecesRequest report;
  report.set_run_token(run.run_token());
  report.set_epoch(begun->epoch());
  for (int rank = 0; rank < nprocs; ++rank) {
    dv1::PieceKey key = Key("victim", begun->epoch(), rank);
    ASSERT_EQ(run.rank_depots(rank), depot_->address());
    auto put = depot_client_->PutBytes(key, MakePieceImage(key, 16), 0, begun->write_grants(rank));
    ASSERT_TRUE(put.ok()) << put.status();
    rv1::PieceRecord* piece = report.add_pieces();
    piece->set_rank(rank);
    piece->set_depot_address(depot_->address());
    piece->set_read_cap(put->caps().read());
    piece->set_manage_cap(put->caps().manage());
    piece->set_size_bytes(put->info().size_bytes());
    piece->set_xxh3_64(put->info().xxh3_64());
  }
  ASSERT_TRUE(rss_client_->ReportPieces(report).ok());
  rv1::CommitCheckpointRequest commit;
  commit.set_run_token(run.run_token());
  commit.set_epoch(begun->epoch());
  absl::Status committed = rss_client_->CommitCheckpoint(commit).status();
  ASSERT_TRUE(committed.ok()) << committed;
  rv1::GetJobRequest get;
  get.set_admin_token(admin_);
  get.set_job("victim");
  auto job = rss_client_->GetJob(get);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->summary().last_epoch(), begun->epoch());
  EXPECT_EQ(job->summary().state(), "stopped");
  // The depot holds exactly the victim's own pieces (a grant of the job lists them).
  auto listed = depot_client_->ListJob("victim", begun->write_grants(0));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), static_cast<size_t>(nprocs));
}

TEST_F(DepotAttacksTest, RedirectingAHostsDepotWithoutTheEnrollmentSecretIsRefused) {
  rv1::RegisterDepotRequest evil;
  evil.set_depot_id("depot-evil");
  evil.set_host(kHost);
  evil.set_address("127.0.0.1:1");
  evil.set_capacity_bytes(1 << 30);
  evil.set_free_bytes(1 << 30);
  auto bare = rss_client_->RegisterDepot(evil);
  EXPECT_EQ(bare.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(bare.status().message()), HasSubstr("enrollment secret"));
  evil.set_enroll_secret("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(rss_client_->RegisterDepot(evil).status().code(), absl::StatusCode::kPermissionDenied);
  // Nothing changed: the host's depot is still the real one, and `depot = auto` resolves to it.
  EXPECT_EQ(DepotsOf(kHost), std::vector<std::string>{depot_->address()});
  rv1::RegisterRunResponse run = RegisterVictim("redirected", 1);
  ASSERT_EQ(run.rank_depots_size(), 1);
  EXPECT_EQ(run.rank_depots(0), depot_->address());
  // And the refused registrant got no grant key.
  EXPECT_FALSE(bare.ok());
}

TEST_F(DepotAttacksTest, CapacityOverflowIsRefused) {
  rv1::RegisterRunResponse run = RegisterVictim("overflow", 3);
  auto begun = rss_client_->BeginCheckpoint(Begin(run.run_token(), 3, rv1::REASON_PERIODIC));
  ASSERT_TRUE(begun.ok()) << begun.status();
  // Put A holds a 4 MiB reservation (stream open, nothing sent yet).
  auto stub = dv1::Depot::NewStub(
      grpc::CreateChannel(depot_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext hold_context;
  dv1::PutResponse hold_response;
  auto holder = stub->Put(&hold_context, &hold_response);
  dv1::PutRequest header;
  *header.mutable_header()->mutable_key() = Key("overflow", begun->epoch(), 0);
  header.mutable_header()->set_size_hint(4 << 20);
  *header.mutable_header()->mutable_grant() = begun->write_grants(0);
  ASSERT_TRUE(holder->Write(header));
  // Put B: a size_hint near INT64_MAX beside it must not wrap the capacity sum.
  for (int64_t hint :
       {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max() - (4 << 20) + 1}) {
    grpc::ClientContext context;
    dv1::PutResponse response;
    auto writer = stub->Put(&context, &response);
    dv1::PutRequest request;
    *request.mutable_header()->mutable_key() = Key("overflow", begun->epoch(), 1);
    request.mutable_header()->set_size_hint(hint);
    *request.mutable_header()->mutable_grant() = begun->write_grants(1);
    writer->Write(request);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << hint;
    EXPECT_THAT(status.error_message(), HasSubstr("capacity"));
  }
  // Put C: declares 1 MiB, then streams 12 MiB: stopped once it passes its reservation.
  {
    grpc::ClientContext context;
    dv1::PutResponse response;
    auto writer = stub->Put(&context, &response);
    dv1::PutRequest request;
    *request.mutable_header()->mutable_key() = Key("overflow", begun->epoch(), 2);
    request.mutable_header()->set_size_hint(1 << 20);
    *request.mutable_header()->mutable_grant() = begun->write_grants(2);
    writer->Write(request);
    std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 12; ++i) {
      request.set_chunk(chunk);
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  auto info = depot_client_->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_LE(info->used_bytes(), kCapacity);
  hold_context.TryCancel();
  (void)holder->Finish();
  // Once the holder is gone, its reservation is released.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (depot_client_->Info()->used_bytes() != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(depot_client_->Info()->used_bytes(), 0);
}

}  // namespace
}  // namespace srs
