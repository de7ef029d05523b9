// The depot registers with the real srs-rss: it keeps serving while the RSS is down, registers
// once the RSS comes up, and re-registers after the RSS restarts (last_seen moves on).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/time/clock.h"
#include "depot/client/depot_client.h"
#include "srs/rss/v1/rss.grpc.pb.h"
#include "tests/depot/depot_process.h"

namespace srs {
namespace testing {
namespace {

class RssRegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-depot-reg.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    depot_.reset();
    rss_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  void StartRss(const std::string& listen) {
    auto rss = DepotProcess::Start(SRS_RSS_BIN, {"--listen", listen, "--state", dir_ + "/rss"},
                                   dir_ + "/rss.log", "srs-rss listening on ");
    ASSERT_TRUE(rss.ok()) << rss.status();
    rss_ = std::move(*rss);
  }
  // The depot's record at the RSS, if it has one.
  std::optional<rss::v1::DepotRecord> Registered(const std::string& address) {
    std::ifstream token_file(dir_ + "/rss/admin.token");
    std::string token;
    token_file >> token;
    auto stub = rss::v1::Rss::NewStub(
        grpc::CreateChannel(rss_->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    rss::v1::ListDepotsRequest request;
    request.set_admin_token(token);
    rss::v1::ListDepotsResponse response;
    if (!stub->ListDepots(&context, request, &response).ok()) return std::nullopt;
    for (const rss::v1::DepotRecord& d : response.depots()) {
      if (d.address() == address) return d;
    }
    return std::nullopt;
  }
  std::optional<rss::v1::DepotRecord> AwaitRegistered(const std::string& address,
                                                      int64_t seen_after_ms) {
    for (int i = 0; i < 100; ++i) {
      auto record = Registered(address);
      if (record && record->last_seen_unix_ms() > seen_after_ms) return record;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return std::nullopt;
  }
  std::string dir_;
  std::unique_ptr<DepotProcess> rss_, depot_;
};

TEST_F(RssRegistrationTest, RegistersWhenTheRssComesUpAndAgainAfterItRestarts) {
  StartRss("127.0.0.1:0");
  const std::string rss_address = rss_->address();
  rss_.reset();  // the RSS is down when the depot starts
  auto depot = DepotProcess::Start(
      SRS_DEPOT_BIN,
      {"--dir", dir_ + "/depot", "--rss", rss_address, "--host", "node-a", "--capacity", "1000000",
       "--enroll-secret-file", dir_ + "/rss/admin.token"},
      dir_ + "/depot.log");
  ASSERT_TRUE(depot.ok()) << depot.status();
  depot_ = std::move(*depot);
  absl::SleepFor(absl::Milliseconds(1500));
  auto client = std::move(DepotClient::Connect(depot_->address(), absl::Seconds(5))).value();
  ASSERT_TRUE(client->Info().ok()) << "the depot must keep serving without its RSS";

  StartRss(rss_address);
  auto record = AwaitRegistered(depot_->address(), 0);
  ASSERT_TRUE(record.has_value()) << "depot never registered; depot log:\n" << depot_->ReadLog();
  EXPECT_EQ(record->host(), "node-a");
  EXPECT_EQ(record->capacity_bytes(), 1000000);
  EXPECT_EQ(record->free_bytes(), 1000000);
  EXPECT_EQ(record->depot_id(), client->Info()->depot_id());

  // kill -9 of the RSS and a restart on the same address: the depot registers again.
  ASSERT_TRUE(rss_->Stop(SIGKILL, absl::Seconds(5)).ok());
  const int64_t restarted_ms = absl::ToUnixMillis(absl::Now());
  StartRss(rss_address);
  record = AwaitRegistered(depot_->address(), restarted_ms);
  ASSERT_TRUE(record.has_value()) << "depot did not re-register after the RSS restarted";
}

}  // namespace
}  // namespace testing
}  // namespace srs
