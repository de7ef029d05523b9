// GrpcReplicaCopier against an in-process srs.depot.v1 server that answers Stat and Replicate:
// what goes on the wire (the piece key, the source's manage capability, the target, a
// short-lived grant for the key that verifies with the RSS's key) and how answers come back.
#include "rss/replica_copier.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>

#include "absl/synchronization/mutex.h"
#include "srs/depot/v1/depot.grpc.pb.h"

namespace srs {
namespace {

namespace dv1 = depot::v1;

class SourceDepot final : public dv1::Depot::Service {
 public:
  grpc::Status Stat(grpc::ServerContext*, const dv1::StatRequest* req,
                    dv1::PieceInfo* info) override {
    if (req->cap() != "read-1") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such piece");
    info->set_size_bytes(4096);
    info->set_xxh3_64(0xfeedULL);
    return grpc::Status::OK;
  }
  grpc::Status Replicate(grpc::ServerContext*, const dv1::ReplicateRequest* req,
                         dv1::PutResponse* resp) override {
    absl::MutexLock lock(&mu);
    last = *req;
    if (!answer.ok()) return answer;
    resp->mutable_caps()->set_read(read_cap);
    resp->mutable_caps()->set_manage("manage-new");
    return grpc::Status::OK;
  }

  absl::Mutex mu;
  dv1::ReplicateRequest last ABSL_GUARDED_BY(mu);
  grpc::Status answer ABSL_GUARDED_BY(mu);
  std::string read_cap ABSL_GUARDED_BY(mu) = "read-new";
};

class ReplicaCopierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&depot_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override { server_->Shutdown(); }

  CopyOrder Order() const {
    return CopyOrder{"heat", 7, 3, address_, "manage-1", "depot-b", "10.0.0.2:7000"};
  }

  GrantKey key_ = GrantKey::Generate();
  SourceDepot depot_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  GrpcReplicaCopier copier_{&key_, absl::Seconds(5), absl::Seconds(5)};
};

TEST_F(ReplicaCopierTest, StatAnswersSizeAndChecksumOrNotFound) {
  absl::StatusOr<StoredPiece> piece = copier_.Stat(address_, "read-1", 1000);
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(piece->size_bytes, 4096);
  EXPECT_EQ(piece->xxh3_64, 0xfeedULL);
  absl::StatusOr<StoredPiece> gone = copier_.Stat(address_, "read-2", 1000);
  EXPECT_TRUE(absl::IsNotFound(gone.status())) << gone.status();
  absl::StatusOr<StoredPiece> down = copier_.Stat("127.0.0.1:1", "read-1", 1000);
  EXPECT_FALSE(down.ok());
  EXPECT_NE(std::string(down.status().message()).find("127.0.0.1:1"), std::string::npos)
      << down.status();
}

TEST_F(ReplicaCopierTest, CopySendsTheKeyTheTargetAndAShortLivedGrantForTheKey) {
  absl::StatusOr<CopyMade> made = copier_.Copy(Order());
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->read_cap, "read-new");
  EXPECT_EQ(made->manage_cap, "manage-new");
  absl::MutexLock lock(&depot_.mu);
  const dv1::ReplicateRequest& req = depot_.last;
  EXPECT_EQ(req.key().job(), "heat");
  EXPECT_EQ(req.key().epoch(), 7);
  EXPECT_EQ(req.key().rank(), 3);
  EXPECT_EQ(req.manage_cap(), "manage-1");
  EXPECT_EQ(req.target_address(), "10.0.0.2:7000");
  EXPECT_EQ(req.target_depot_id(), "depot-b");
  EXPECT_EQ(req.grant().job(), "heat");
  EXPECT_EQ(req.grant().epoch(), 7);
  EXPECT_EQ(req.grant().rank(), 3);
  // Any depot of the RSS: the source checks it as its own write grant, then the target.
  EXPECT_EQ(req.grant().depot_id(), "");
  EXPECT_TRUE(key_.Verify(req.grant(), absl::Now()).ok());
  EXPECT_FALSE(GrantKey::Generate().Verify(req.grant(), absl::Now()).ok());
  // Short-lived: the copy's time and a minute, not the hours of a checkpoint's grants.
  EXPECT_LT(req.grant().expires_unix_ms(), absl::ToUnixMillis(absl::Now() + absl::Minutes(2)));
}

TEST_F(ReplicaCopierTest, CopyErrorsKeepTheirCodeAndNameTheDepots) {
  {
    absl::MutexLock lock(&depot_.mu);
    depot_.answer = grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "target holds the key");
  }
  absl::StatusOr<CopyMade> made = copier_.Copy(Order());
  EXPECT_TRUE(absl::IsAlreadyExists(made.status())) << made.status();
  EXPECT_NE(std::string(made.status().message()).find("depot-b"), std::string::npos);
  {
    absl::MutexLock lock(&depot_.mu);
    depot_.answer = grpc::Status::OK;
    depot_.read_cap = "";
  }
  made = copier_.Copy(Order());
  EXPECT_TRUE(absl::IsInternal(made.status())) << made.status();
}

}  // namespace
}  // namespace srs
