// Depot.Replicate (depot/replicator.h): two real depot servers in-process over gRPC (file
// backends), a piece copied from one to the other, and the refusals: wrong capability, missing or
// foreign grant, wrong key, a target that is not the depot it is claimed to be, the depot itself,
// a corrupt source piece, a target that answers a wrong checksum (its copy must be deleted).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/checksum.h"
#include "depot/client/depot_client.h"
#include "depot/depot_server.h"
#include "tests/depot/conformance.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace {

namespace v1 = ::srs::depot::v1;
using testing::GrantFor;
using ::testing::HasSubstr;
using testing::Key;
using testing::MakePieceImage;

// A target that lies: it claims an id, swallows puts and answers a wrong checksum, and records
// the deletes it is asked for.
class LyingDepot final : public v1::Depot::Service {
 public:
  grpc::Status Info(grpc::ServerContext*, const v1::InfoRequest*, v1::DepotInfo* out) override {
    out->set_depot_id("liar");
    return grpc::Status::OK;
  }
  grpc::Status Put(grpc::ServerContext*, grpc::ServerReader<v1::PutRequest>* reader,
                   v1::PutResponse* out) override {
    v1::PutRequest request;
    int64_t bytes = 0;
    while (reader->Read(&request)) bytes += static_cast<int64_t>(request.chunk().size());
    out->mutable_caps()->set_read("liar-piece.read");
    out->mutable_caps()->set_manage("liar-piece.manage");
    out->mutable_info()->set_size_bytes(bytes);
    out->mutable_info()->set_xxh3_64(12345);  // not the piece's
    return grpc::Status::OK;
  }
  grpc::Status Delete(grpc::ServerContext*, const v1::DeleteRequest* request,
                      v1::DeleteResponse*) override {
    absl::MutexLock lock(&mu_);
    deleted_.insert(request->manage_cap());
    return grpc::Status::OK;
  }
  std::set<std::string> deleted() {
    absl::MutexLock lock(&mu_);
    return deleted_;
  }

 private:
  absl::Mutex mu_;
  std::set<std::string> deleted_;
};

class ReplicateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-replicate.XXXXXX";
    dir_ = mkdtemp(tmpl);
    for (const char* name : {"a", "b"}) {
      depot::DepotServerOptions options;
      options.dir = dir_ + "/" + name;
      options.grant_key = key_;
      options.host = std::string("host-") + name;
      auto server = depot::DepotServer::Start(options);
      ASSERT_TRUE(server.ok()) << server.status();
      servers_.push_back(std::move(*server));
    }
    for (auto& server : servers_) {
      clients_.push_back(
          std::move(DepotClient::Connect(server->address(), absl::Seconds(10))).value());
      ids_.push_back(clients_.back()->Info()->depot_id());
    }
  }
  void TearDown() override {
    clients_.clear();
    servers_.clear();
    std::system(("rm -rf " + dir_).c_str());
  }

  // Stores a piece of `elements` doubles (and ints) on depot A.
  v1::PutResponse PutOnA(const v1::PieceKey& key, int64_t elements = 1000) {
    image_ = MakePieceImage(key, elements);
    auto put = clients_[0]->PutBytes(key, image_, 0, GrantFor(key_, key));
    EXPECT_TRUE(put.ok()) << put.status();
    return put.ok() ? *put : v1::PutResponse();
  }
  v1::ReplicateRequest Request(const v1::PieceKey& key, const v1::PutResponse& put) {
    v1::ReplicateRequest request;
    *request.mutable_key() = key;
    request.set_manage_cap(put.caps().manage());
    request.set_target_address(servers_[1]->address());
    request.set_target_depot_id(ids_[1]);
    *request.mutable_grant() = GrantFor(key_, key);
    return request;
  }
  absl::StatusOr<v1::PutResponse> Replicate(const v1::ReplicateRequest& request) {
    return clients_[0]->Replicate(request, 1 << 20);
  }
  size_t PiecesOnB(const std::string& job) {
    auto pieces = clients_[1]->ListJob(job, testing::JobGrant(key_, job));
    EXPECT_TRUE(pieces.ok()) << pieces.status();
    return pieces.ok() ? pieces->size() : 99;
  }

  std::string dir_;
  GrantKey key_ = GrantKey::Generate();
  std::vector<std::unique_ptr<depot::DepotServer>> servers_;
  std::vector<std::unique_ptr<DepotClient>> clients_;
  std::vector<std::string> ids_;
  std::string image_;
};

TEST_F(ReplicateTest, CopiesThePieceBitForBitAndVerified) {
  // 3 MiB of doubles + 1.5 MiB of ints: several 1 MiB chunks on the way.
  v1::PieceKey key = Key("heat", 1, 0);
  v1::PutResponse put = PutOnA(key, 400000);
  auto copy = Replicate(Request(key, put));
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(copy->info().xxh3_64(), put.info().xxh3_64());
  EXPECT_EQ(copy->info().size_bytes(), put.info().size_bytes());
  EXPECT_NE(copy->caps().read(), put.caps().read());  // the target's own capabilities
  auto bytes = clients_[1]->GetAll(copy->caps().read());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(*bytes == image_);
  // The copy has the target's default lease until the RSS pins it.
  EXPECT_GT(copy->info().lease_expires_unix_ms(), 0);
  // A second replicate of the same key: the target already holds it.
  auto again = Replicate(Request(key, put));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
}

TEST_F(ReplicateTest, NeedsTheManageCapabilityAndAGrantForThatPiece) {
  v1::PieceKey key = Key("heat", 2, 0);
  v1::PutResponse put = PutOnA(key);
  v1::ReplicateRequest request = Request(key, put);
  request.set_manage_cap(put.caps().read());  // the read capability is not enough
  EXPECT_EQ(Replicate(request).status().code(), absl::StatusCode::kPermissionDenied);
  request = Request(key, put);
  request.set_manage_cap(put.caps().manage().substr(0, 17) + std::string(32, '0'));
  EXPECT_EQ(Replicate(request).status().code(), absl::StatusCode::kPermissionDenied);
  request = Request(key, put);
  request.clear_grant();
  EXPECT_EQ(Replicate(request).status().code(), absl::StatusCode::kUnauthenticated);
  request = Request(key, put);
  *request.mutable_grant() = GrantFor(key_, Key("heat", 3, 0));  // another piece's grant
  EXPECT_EQ(Replicate(request).status().code(), absl::StatusCode::kPermissionDenied);
  request = Request(key, put);
  *request.mutable_key() = Key("heat", 3, 0);  // not this piece's key
  *request.mutable_grant() = GrantFor(key_, Key("heat", 3, 0));
  EXPECT_EQ(Replicate(request).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PiecesOnB("heat"), 0u);
}

TEST_F(ReplicateTest, RefusesATargetThatIsNotTheDepotItClaimsOrIsItself) {
  v1::PieceKey key = Key("heat", 4, 0);
  v1::PutResponse put = PutOnA(key);
  v1::ReplicateRequest request = Request(key, put);
  request.set_target_depot_id("depot-somebody-else");  // B's address, another id: stale
  auto copy = Replicate(request);
  EXPECT_EQ(copy.status().code(), absl::StatusCode::kFailedPrecondition) << copy.status();
  EXPECT_THAT(std::string(copy.status().message()), HasSubstr("depot-somebody-else"));
  request = Request(key, put);
  request.set_target_address(servers_[0]->address());
  request.set_target_depot_id(ids_[0]);
  EXPECT_EQ(Replicate(request).status().code(), absl::StatusCode::kFailedPrecondition);
  request = Request(key, put);
  request.clear_target_address();
  EXPECT_EQ(Replicate(request).status().code(), absl::StatusCode::kInvalidArgument);
  request = Request(key, put);
  request.set_target_depot_id("forged\nlog line");
  EXPECT_EQ(Replicate(request).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PiecesOnB("heat"), 0u);
}

// A target whose depot is gone (its port refuses) is probed for a few seconds, then the copy
// fails with FAILED_PRECONDITION naming it, which the writer does not retry: a checkpoint whose
// partner died fails in seconds instead of after two RPC budgets.
TEST_F(ReplicateTest, ATargetThatDoesNotAnswerFailsTheCopyWithoutRetries) {
  v1::PieceKey key = Key("heat", 5, 0);
  v1::PutResponse put = PutOnA(key);
  int port = 0;
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    socklen_t len = sizeof any;
    getsockname(fd, reinterpret_cast<sockaddr*>(&any), &len);
    port = ntohs(any.sin_port);
    close(fd);  // nothing listens there now: connections are refused
  }
  v1::ReplicateRequest request = Request(key, put);
  request.set_target_address("127.0.0.1:" + std::to_string(port));
  request.set_target_depot_id("depot-gone");
  auto copy = Replicate(request);
  EXPECT_EQ(copy.status().code(), absl::StatusCode::kFailedPrecondition) << copy.status();
  EXPECT_THAT(std::string(copy.status().message()), HasSubstr("depot-gone"));
  EXPECT_THAT(std::string(copy.status().message()), HasSubstr("did not answer"));
  EXPECT_EQ(PiecesOnB("heat"), 0u);
}

TEST_F(ReplicateTest, ACorruptSourcePieceIsDataLossAndNothingReachesTheTarget) {
  v1::PieceKey key = Key("heat", 5, 0);
  v1::PutResponse put = PutOnA(key, 100000);
  const std::string path = dir_ + "/a/pieces/" + put.info().piece_id() + ".h5";
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.good()) << path;
    file.seekp(put.info().size_bytes() - 100);
    file.put('\x5a');
  }
  auto copy = Replicate(Request(key, put));
  EXPECT_EQ(copy.status().code(), absl::StatusCode::kDataLoss) << copy.status();
  EXPECT_EQ(PiecesOnB("heat"), 0u);
}

// The copy goes over the target's data channel: the source's bytes are checked on the way
// (CopyOut) and a mismatch ends the put before its trailer. Wherever the rot is (the superblock,
// the middle, the last byte) and when the file is cut short, the target stores nothing and
// holds no space or spool file.
TEST_F(ReplicateTest, RotAnywhereInTheSourceLeavesNothingOnTheTarget) {
  ASSERT_GT(clients_[1]->Info()->data_port(), 0);
  int epoch = 10;
  for (const char* rot : {"start", "middle", "last", "truncated"}) {
    v1::PieceKey key = Key("rot", ++epoch, 0);
    v1::PutResponse put = PutOnA(key, 300000);
    const std::string path = dir_ + "/a/pieces/" + put.info().piece_id() + ".h5";
    const int64_t size = put.info().size_bytes();
    if (std::string(rot) == "truncated") {
      ASSERT_EQ(truncate(path.c_str(), size - 4096), 0);
    } else {
      std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
      ASSERT_TRUE(file.good()) << path;
      const int64_t at = std::string(rot) == "start"    ? 8
                         : std::string(rot) == "middle" ? size / 2
                                                        : size - 1;
      file.seekg(at);
      const char old = static_cast<char>(file.get());
      file.seekp(at);
      file.put(static_cast<char>(old ^ 0x10));
    }
    auto copy = Replicate(Request(key, put));
    EXPECT_EQ(copy.status().code(), absl::StatusCode::kDataLoss) << rot << ": " << copy.status();
    EXPECT_EQ(PiecesOnB("rot"), 0u) << rot;
    // The target drops the put when it sees the connection close, a moment after.
    absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (clients_[1]->Info()->used_bytes() != 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_EQ(clients_[1]->Info()->used_bytes(), 0) << rot << ": the reservation stayed";
  }
  std::error_code error;
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/b/spool", error)) << error;
}

TEST_F(ReplicateTest, ATargetAnsweringAnotherChecksumIsDataLossAndItsCopyIsDeleted) {
  LyingDepot liar;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&liar);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);
  v1::PieceKey key = Key("heat", 6, 0);
  v1::PutResponse put = PutOnA(key);
  v1::ReplicateRequest request = Request(key, put);
  request.set_target_address("127.0.0.1:" + std::to_string(port));
  request.set_target_depot_id("liar");
  auto copy = Replicate(request);
  EXPECT_EQ(copy.status().code(), absl::StatusCode::kDataLoss) << copy.status();
  EXPECT_THAT(std::string(copy.status().message()), HasSubstr("bad copy was deleted"));
  EXPECT_EQ(liar.deleted(), std::set<std::string>{"liar-piece.manage"});
  server->Shutdown();
}

// The holder of a piece's manage capability and write grant names the target: it must not make
// the depot dial a local socket of its host through a gRPC target URI (unix:, unix-abstract:,
// dns:, ipv4:). A unix socket listens; the depot must refuse before connecting to it.
TEST_F(ReplicateTest, RefusesATargetThatIsNotAPlainNetworkAddress) {
  const std::string path = dir_ + "/local.sock";
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  path.copy(addr.sun_path, path.size());
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  v1::PieceKey key = Key("heat", 7, 0);
  v1::PutResponse put = PutOnA(key);
  for (const std::string& target :
       {"unix:" + path, "unix://" + path, std::string("unix-abstract:srs-test"),
        "dns:" + servers_[1]->address(), "ipv4:" + servers_[1]->address(), std::string("127.0.0.1"),
        std::string("127.0.0.1:0"), std::string("127.0.0.1:99999"), std::string("host/x:80"),
        std::string("[::1:80")}) {
    v1::ReplicateRequest request = Request(key, put);
    request.set_target_address(target);
    auto copy = Replicate(request);
    EXPECT_EQ(copy.status().code(), absl::StatusCode::kInvalidArgument)
        << target << ": " << copy.status();
  }
  pollfd ready{listener, POLLIN, 0};
  EXPECT_EQ(poll(&ready, 1, 200), 0) << "the depot connected to the unix socket " << path;
  close(listener);
  EXPECT_EQ(PiecesOnB("heat"), 0u);
  // Plain addresses still work: "[::1]:port" style is accepted by the check (B listens on IPv4).
  auto copy = Replicate(Request(key, put));
  EXPECT_TRUE(copy.ok()) << copy.status();
}

}  // namespace
}  // namespace srs
