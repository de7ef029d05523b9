// The depot's input limits: capacity arithmetic that cannot overflow, a put that cannot stream
// more than it reserved, bounded leases and names, the gRPC receive limit, private files.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>

#include "depot/client/depot_client.h"
#include "depot/depot_server.h"
#include "depot/memory/memory_backend.h"
#include "depot/piece_store.h"
#include "tests/depot/conformance.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace {

using ::testing::HasSubstr;
using testing::Key;
namespace v1 = ::srs::depot::v1;

constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::unique_ptr<depot::PieceStore> Store(int64_t capacity) {
  depot::StoreOptions options;
  options.capacity_bytes = capacity;
  return std::move(depot::PieceStore::Open(std::make_unique<depot::MemoryBackend>(), options))
      .value();
}

v1::PutHeader Header(const std::string& job, int64_t epoch, int64_t size_hint, int64_t lease = 0) {
  v1::PutHeader header;
  *header.mutable_key() = Key(job, epoch, 0);
  header.set_size_hint(size_hint);
  header.set_lease_seconds(lease);
  return header;
}

TEST(DepotLimitsTest, HugeSizeHintBesideAReservationDoesNotOverflow) {
  auto store = Store(10 * kMiB);
  auto holder = store->BeginPut(Header("victim", 1, 4 * kMiB));  // holds 4 MiB
  ASSERT_TRUE(holder.ok()) << holder.status();
  for (int64_t hint : {kMax, kMax - 1, kMax - 4 * kMiB, kMax - 4 * kMiB + 1, 7 * kMiB}) {
    auto put = store->BeginPut(Header("attacker", hint % 1000 + 1, hint));
    EXPECT_EQ(put.status().code(), absl::StatusCode::kResourceExhausted) << hint;
  }
  EXPECT_EQ(store->GetUsage().used_bytes, 4 * kMiB);  // nothing leaked into the counters
  EXPECT_TRUE(store->BeginPut(Header("fits", 1, 6 * kMiB)).ok());
}

TEST(DepotLimitsTest, UnlimitedDepotStillRefusesReservationsItCannotCount) {
  auto store = Store(0);
  auto first = store->BeginPut(Header("a", 1, kMax - 10));
  ASSERT_TRUE(first.ok());  // unlimited: the file system will say no as bytes arrive
  auto second = store->BeginPut(Header("b", 1, 100));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  first->reset();
  EXPECT_EQ(store->GetUsage().used_bytes, 0);
  EXPECT_TRUE(store->BeginPut(Header("b", 1, 100)).ok());
}

TEST(DepotLimitsTest, AStreamCannotSendMoreThanItsSizeHint) {
  auto store = Store(10 * kMiB);
  auto put = store->BeginPut(Header("greedy", 1, kMiB));
  ASSERT_TRUE(put.ok());
  std::string chunk(kMiB / 2, 'x');
  EXPECT_TRUE((*put)->Append(chunk).ok());
  EXPECT_TRUE((*put)->Append(chunk).ok());
  absl::Status over = (*put)->Append("y");
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(over.message()), HasSubstr("size_hint"));
  put->reset();
  EXPECT_EQ(store->GetUsage().used_bytes, 0);
}

TEST(DepotLimitsTest, AStreamWithoutHintStopsAtTheCapacity) {
  auto store = Store(10 * kMiB);
  auto put = store->BeginPut(Header("nohint", 1, 0));
  ASSERT_TRUE(put.ok());
  std::string chunk(kMiB, 'x');
  absl::Status status;
  int64_t sent = 0;
  while (status.ok() && sent < 40 * kMiB) {
    status = (*put)->Append(chunk);
    if (status.ok()) sent += kMiB;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LE(sent, 10 * kMiB);
  EXPECT_LE(store->GetUsage().used_bytes, 10 * kMiB);
}

TEST(DepotLimitsTest, LeasesAreBounded) {
  auto store = Store(0);
  for (int64_t lease : {int64_t{1} << 62, kMax, depot::kMaxLeaseSeconds + 1, int64_t{-1}}) {
    EXPECT_EQ(store->BeginPut(Header("lease", 1, 10, lease)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << lease;
    EXPECT_EQ(store->Renew({}, lease).code(), absl::StatusCode::kInvalidArgument) << lease;
  }
  EXPECT_TRUE(store->BeginPut(Header("lease", 1, 10, depot::kMaxLeaseSeconds)).ok());
}

TEST(DepotLimitsTest, NamesAreBounded) {
  auto store = Store(0);
  const std::string long_job(depot::kMaxJobNameBytes + 1, 'j');
  EXPECT_EQ(store->BeginPut(Header(long_job, 1, 10)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ListJob(long_job).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store->BeginPut(Header(std::string(depot::kMaxJobNameBytes, 'j'), 1, 10)).ok());
}

class DepotServerLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-depot-limits.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(DepotServerLimitsTest, DepotIdIsPrivateAndMessagesAreBounded) {
  depot::DepotServerOptions options;
  options.dir = dir_ + "/depot";
  options.grant_key = GrantKey::Generate();
  auto server = depot::DepotServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  struct stat st;
  ASSERT_EQ(stat((options.dir + "/depot.id").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  // A message over the receive limit is refused by gRPC before the depot sees it.
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  auto stub = v1::Depot::NewStub(
      grpc::CreateCustomChannel((*server)->address(), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  v1::ListJobRequest big;
  big.set_job(std::string(options.max_receive_bytes + 1, 'j'));
  v1::ListJobResponse response;
  EXPECT_EQ(stub->ListJob(&context, big, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  (*server)->Shutdown(absl::Seconds(1));
  (*server)->Wait();

  // A depot.id that someone loosened is tightened at the next start.
  chmod((options.dir + "/depot.id").c_str(), 0644);
  auto again = depot::DepotServer::Start(options);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(stat((options.dir + "/depot.id").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(DepotServerLimitsTest, StartRefusesPlainTextOffLoopbackAndBadTlsFilesCleanly) {
  depot::DepotServerOptions options;
  options.dir = dir_ + "/depot";
  options.listen = "0.0.0.0:0";  // refused before anything binds
  auto refused = depot::DepotServer::Start(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--insecure"));
  options.listen = "127.0.0.1:0";
  options.tls = {"", dir_ + "/missing.pem", dir_ + "/missing.key"};
  auto unreadable = depot::DepotServer::Start(options);
  EXPECT_EQ(unreadable.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(unreadable.status().message()), HasSubstr("missing"));
}

}  // namespace
}  // namespace srs
