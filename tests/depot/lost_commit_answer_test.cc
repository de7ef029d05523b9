// A local put whose commit went through but whose answer was lost (the connection broke, the
// writer's call timed out) is not refused by its own retry: the client asks again with the same
// commit and the depot answers it from the committed piece (same capabilities, one piece), while
// a commit that names other bytes, another key's grant or no digest is still refused.
//
// The lost answer is made by a forwarding proxy in front of a real in-process depot: it passes
// the first CommitLocalPut on, lets the depot commit, and answers UNAVAILABLE.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "common/checksum.h"
#include "depot/client/depot_client.h"
#include "depot/depot_server.h"
#include "tests/depot/conformance.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace {

namespace v1 = ::srs::depot::v1;
using testing::GrantFor;
using testing::Key;
using testing::MakePieceImage;

// Forwards the calls of a local put to the real depot; the first commit's answer is "lost".
class LosingProxy final : public v1::Depot::Service {
 public:
  explicit LosingProxy(const std::string& depot)
      : stub_(v1::Depot::NewStub(grpc::CreateChannel(depot, grpc::InsecureChannelCredentials()))) {}

  // The proxy forwards gRPC only: it does not advertise the depot's data channel, whose local
  // put calls would bypass it (the client then uses gRPC for them, as with any depot without one).
  grpc::Status Info(grpc::ServerContext*, const v1::InfoRequest* in, v1::DepotInfo* out) override {
    grpc::ClientContext context;
    grpc::Status status = stub_->Info(&context, *in, out);
    out->set_data_port(0);
    return status;
  }
  grpc::Status BeginLocalPut(grpc::ServerContext*, const v1::BeginLocalPutRequest* in,
                             v1::BeginLocalPutResponse* out) override {
    ++begins;
    grpc::ClientContext context;
    return stub_->BeginLocalPut(&context, *in, out);
  }
  grpc::Status CommitLocalPut(grpc::ServerContext*, const v1::CommitLocalPutRequest* in,
                              v1::PutResponse* out) override {
    grpc::ClientContext context;
    grpc::Status status = stub_->CommitLocalPut(&context, *in, out);
    if (commits++ == 0 && status.ok()) {
      first_answer = *out;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection reset (test)");
    }
    return status;
  }
  grpc::Status AbortLocalPut(grpc::ServerContext*, const v1::AbortLocalPutRequest* in,
                             v1::AbortLocalPutResponse* out) override {
    ++aborts;
    grpc::ClientContext context;
    return stub_->AbortLocalPut(&context, *in, out);
  }

  std::atomic<int> begins{0}, commits{0}, aborts{0};
  v1::PutResponse first_answer;

 private:
  std::unique_ptr<v1::Depot::Stub> stub_;
};

class LostCommitAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-lost-commit.XXXXXX";
    dir_ = mkdtemp(tmpl);
    depot::DepotServerOptions options;
    options.dir = dir_ + "/depot";
    options.grant_key = key_;
    auto server = depot::DepotServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    depot_ = std::move(*server);
    proxy_ = std::make_unique<LosingProxy>(depot_->address());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(proxy_.get());
    proxy_server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    auto client = DepotClient::Connect("127.0.0.1:" + std::to_string(port), absl::Seconds(20));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    auto direct = DepotClient::Connect(depot_->address(), absl::Seconds(20));
    ASSERT_TRUE(direct.ok()) << direct.status();
    direct_ = std::move(*direct);
  }
  void TearDown() override {
    client_.reset();
    direct_.reset();
    if (proxy_server_ != nullptr) proxy_server_->Shutdown();
    depot_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  // Writes the piece image into the spool file and returns its digest, as a rank does.
  absl::StatusOr<FileDigest> WriteImage(const std::string& path) {
    std::ofstream out(path, std::ios::binary);
    out.write(image_.data(), static_cast<std::streamsize>(image_.size()));
    out.close();
    if (!out) return absl::InternalError("cannot write " + path);
    return FileDigest{static_cast<int64_t>(image_.size()), Xxh3(image_.data(), image_.size())};
  }

  std::string dir_;
  GrantKey key_ = GrantKey::Generate();
  std::unique_ptr<depot::DepotServer> depot_;
  std::unique_ptr<LosingProxy> proxy_;
  std::unique_ptr<grpc::Server> proxy_server_;
  std::unique_ptr<DepotClient> client_, direct_;
  std::string image_;
};

TEST_F(LostCommitAnswerTest, TheRetryGetsTheCommittedPieceNotAlreadyExists) {
  const v1::PieceKey key = Key("lost", 3, 1);
  image_ = MakePieceImage(key, 50000);
  auto put = client_->PutLocalHashed(
      key, static_cast<int64_t>(image_.size()), 0,
      [this](const std::string& path) { return WriteImage(path); }, GrantFor(key_, key));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(proxy_->commits.load(), 2);  // the lost one and the one asked again
  EXPECT_EQ(proxy_->begins.load(), 1);   // no second put
  EXPECT_EQ(proxy_->aborts.load(), 0);   // the committed put was not aborted
  EXPECT_EQ(put->caps().read(), proxy_->first_answer.caps().read());
  EXPECT_EQ(put->caps().manage(), proxy_->first_answer.caps().manage());
  EXPECT_EQ(put->info().xxh3_64(), Xxh3(image_.data(), image_.size()));
  auto pieces = direct_->ListJob("lost", testing::JobGrant(key_, "lost"));
  ASSERT_TRUE(pieces.ok()) << pieces.status();
  EXPECT_EQ(pieces->size(), 1u);
  auto bytes = direct_->GetAll(put->caps().read());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(*bytes == image_);
}

TEST_F(LostCommitAnswerTest, AnUnknownCommitIsStillRefusedUnlessItNamesTheSameBytes) {
  const v1::PieceKey key = Key("lost", 4, 0);
  image_ = MakePieceImage(key, 1000);
  auto put = direct_->PutLocalHashed(
      key, static_cast<int64_t>(image_.size()), 0,
      [this](const std::string& path) { return WriteImage(path); }, GrantFor(key_, key));
  ASSERT_TRUE(put.ok()) << put.status();
  auto stub = v1::Depot::NewStub(
      grpc::CreateChannel(depot_->address(), grpc::InsecureChannelCredentials()));
  auto commit = [&](const v1::CommitLocalPutRequest& request) {
    grpc::ClientContext context;
    v1::PutResponse response;
    return stub->CommitLocalPut(&context, request, &response).error_code();
  };
  v1::CommitLocalPutRequest request;
  request.set_put_id("0123456789abcdef");  // unknown
  request.set_size_bytes(static_cast<int64_t>(image_.size()));
  request.set_xxh3_64(Xxh3(image_.data(), image_.size()));
  *request.mutable_grant() = GrantFor(key_, key);
  EXPECT_EQ(commit(request), grpc::StatusCode::OK);
  v1::CommitLocalPutRequest other_bytes = request;
  other_bytes.set_xxh3_64(request.xxh3_64() ^ 1);
  EXPECT_EQ(commit(other_bytes), grpc::StatusCode::ALREADY_EXISTS);
  v1::CommitLocalPutRequest other_key = request;
  *other_key.mutable_grant() = GrantFor(key_, Key("lost", 5, 0));
  EXPECT_EQ(commit(other_key), grpc::StatusCode::NOT_FOUND);  // nothing committed there
  v1::CommitLocalPutRequest forged = request;
  forged.mutable_grant()->set_mac("forged");
  EXPECT_EQ(commit(forged), grpc::StatusCode::PERMISSION_DENIED);
  v1::CommitLocalPutRequest no_grant = request;
  no_grant.clear_grant();
  EXPECT_EQ(commit(no_grant), grpc::StatusCode::UNAUTHENTICATED);
  v1::CommitLocalPutRequest no_digest = request;
  no_digest.clear_xxh3_64();
  EXPECT_EQ(commit(no_digest), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace srs
