// The same-host put over the depot's data channel (data_wire.h kOpBeginLocalPut,
// kOpCommitLocalPut; depot/local_put_calls.h) and a piece written before its put begins
// (depot/client/early_local_write.h), against a real in-process depot:
//  - a raw peer with the public protos gets, for every refused call, the code the gRPC call of
//    the same name gives, and the connection goes on serving;
//  - a piece written early is adopted by its put (the put does not write it again), one not
//    adopted is removed, and one whose write failed fails its put and leaves nothing;
//  - nothing is left in the spool in any of these cases.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "depot/client/data_wire.h"
#include "depot/client/depot_client.h"
#include "depot/client/socket_io.h"
#include "depot/data_channel.h"
#include "depot/depot_server.h"
#include "tests/depot/conformance.h"
#include "tests/depot/raw_data_peer.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace testing {
namespace {

namespace v1 = ::srs::depot::v1;

class LocalPutChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-local-put-channel.XXXXXX";
    tmp_ = mkdtemp(tmpl);
    depot::DepotServerOptions options;
    options.dir = tmp_ + "/depot";
    options.grant_key = key_;
    options.capacity_bytes = 64 << 20;
    server_ = std::move(depot::DepotServer::Start(options)).value();
    client_ = std::move(DepotClient::Connect(server_->address(), absl::Seconds(20))).value();
    stub_ = v1::Depot::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    auto info = client_->Info();
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_GT(info->data_port(), 0);
    port_ = info->data_port();
  }
  void TearDown() override {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
    server_.reset();
    std::system(("rm -rf " + tmp_).c_str());
  }

  // One request of `op` on `fd`; the answer's code, and its DATA payload in *data.
  absl::StatusCode Ask(int fd, uint32_t op, const std::string& body, std::string* data) {
    EXPECT_TRUE(sockets::SendAll(fd, RequestFrame(op, body), "test").ok());
    for (;;) {
      Frame frame = ReadFrame(fd);
      if (frame.type == data_wire::kFrameData) {
        *data = std::move(frame.data);
        continue;
      }
      EXPECT_EQ(frame.type, data_wire::kFrameEnd) << "the connection ended";
      return frame.type == data_wire::kFrameEnd ? frame.code : absl::StatusCode::kUnknown;
    }
  }

  v1::BeginLocalPutRequest Begin(const v1::PieceKey& key) {
    v1::BeginLocalPutRequest request;
    *request.mutable_header()->mutable_key() = key;
    *request.mutable_header()->mutable_grant() = GrantFor(key_, key);
    request.mutable_header()->set_size_hint(1 << 20);
    return request;
  }

  // Files in the depot's spool.
  size_t Spooled() {
    size_t n = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(tmp_ + "/depot/spool", error)) {
      (void)entry;
      ++n;
    }
    return n;
  }

  // Writes a one-dataset piece of `key` at `path`, hashed as it goes.
  absl::StatusOr<FileDigest> WritePiece(const v1::PieceKey& key, const std::string& path) {
    piece::DatasetWrite ds{"v",
                           ElementType::kDouble,
                           values_.data(),
                           static_cast<int64_t>(values_.size()),
                           static_cast<int64_t>(values_.size()),
                           "none",
                           {}};
    return piece::WritePieceFileHashed(path, {key.job(), key.epoch(), key.rank(), 1, ""}, {ds});
  }

  absl::StatusOr<v1::PutResponse> PutHashed(const v1::PieceKey& key,
                                            EarlyLocalWrite* early = nullptr,
                                            std::atomic<int>* writes = nullptr) {
    return client_->PutLocalHashed(
        key, 1 << 20, 0,
        [&](const std::string& path) {
          if (writes != nullptr) ++*writes;
          return WritePiece(key, path);
        },
        GrantFor(key_, key), early);
  }

  GrantKey key_ = GrantKey::Generate();
  std::string tmp_;
  int port_ = 0;
  std::unique_ptr<depot::DepotServer> server_;
  std::unique_ptr<DepotClient> client_;
  std::unique_ptr<v1::Depot::Stub> stub_;
  std::vector<double> values_ = std::vector<double>(4096, 2.5);
};

// Refused local-put calls on the channel: the gRPC call's code each time, and the connection
// still serves a whole local put afterwards.
TEST_F(LocalPutChannelTest, RefusedCallsGiveTheGrpcCodesAndKeepTheConnection) {
  const v1::PieceKey key = Key("lpc", 1, 0);
  struct Case {
    std::string name;
    uint32_t op;
    std::string body;
    absl::StatusCode code;
  };
  std::vector<Case> cases;
  v1::BeginLocalPutRequest no_grant = Begin(key);
  no_grant.mutable_header()->clear_grant();
  cases.push_back({"begin without grant", data_wire::kOpBeginLocalPut, no_grant.SerializeAsString(),
                   absl::StatusCode::kUnauthenticated});
  v1::BeginLocalPutRequest other_rank = Begin(key);
  *other_rank.mutable_header()->mutable_grant() = GrantFor(key_, Key("lpc", 1, 1));
  cases.push_back({"begin with another rank's grant", data_wire::kOpBeginLocalPut,
                   other_rank.SerializeAsString(), absl::StatusCode::kPermissionDenied});
  v1::BeginLocalPutRequest huge = Begin(key);
  huge.mutable_header()->set_size_hint(int64_t{1} << 62);
  cases.push_back({"begin beyond the capacity", data_wire::kOpBeginLocalPut,
                   huge.SerializeAsString(), absl::StatusCode::kResourceExhausted});
  v1::CommitLocalPutRequest unknown;
  unknown.set_put_id("0123456789abcdef0123456789abcdef");
  *unknown.mutable_grant() = GrantFor(key_, key);
  cases.push_back({"commit of an unknown put", data_wire::kOpCommitLocalPut,
                   unknown.SerializeAsString(), absl::StatusCode::kNotFound});
  v1::CommitLocalPutRequest guessed = unknown;
  guessed.set_xxh3_64(42);
  guessed.set_size_bytes(4096);
  *guessed.mutable_grant() = GrantFor(GrantKey::Generate(), key);
  cases.push_back({"hashed commit with a forged grant", data_wire::kOpCommitLocalPut,
                   guessed.SerializeAsString(), absl::StatusCode::kPermissionDenied});
  const int fd = std::move(sockets::Connect("127.0.0.1", port_, absl::Seconds(20))).value();
  for (const Case& c : cases) {
    std::string data;
    EXPECT_EQ(Ask(fd, c.op, c.body, &data), c.code) << c.name;
    EXPECT_TRUE(data.empty()) << c.name << ": a refusal carries no answer";
    // The same request over gRPC.
    grpc::ClientContext context;
    grpc::Status grpc;
    if (c.op == data_wire::kOpBeginLocalPut) {
      v1::BeginLocalPutRequest request;
      v1::BeginLocalPutResponse response;
      ASSERT_TRUE(request.ParseFromString(c.body));
      grpc = stub_->BeginLocalPut(&context, request, &response);
    } else {
      v1::CommitLocalPutRequest request;
      v1::PutResponse response;
      ASSERT_TRUE(request.ParseFromString(c.body));
      grpc = stub_->CommitLocalPut(&context, request, &response);
    }
    EXPECT_EQ(static_cast<int>(grpc.error_code()), static_cast<int>(c.code)) << c.name;
  }
  std::string data;
  EXPECT_EQ(Ask(fd, data_wire::kOpBeginLocalPut, "not a protobuf \xff\xff", &data),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ask(fd, data_wire::kOpCommitLocalPut, "\xff\xff\xff", &data),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Spooled(), 0u);

  // A whole local put by hand on the same connection: ticket, file, commit, answer.
  v1::BeginLocalPutResponse ticket;
  ASSERT_EQ(Ask(fd, data_wire::kOpBeginLocalPut, Begin(key).SerializeAsString(), &data),
            absl::StatusCode::kOk);
  ASSERT_TRUE(ticket.ParseFromString(data));
  absl::StatusOr<FileDigest> digest = WritePiece(key, ticket.spool_path());
  ASSERT_TRUE(digest.ok()) << digest.status();
  v1::CommitLocalPutRequest commit;
  commit.set_put_id(ticket.put_id());
  *commit.mutable_grant() = GrantFor(key_, key);
  commit.set_xxh3_64(digest->xxh3);
  commit.set_size_bytes(digest->size);
  data.clear();
  ASSERT_EQ(Ask(fd, data_wire::kOpCommitLocalPut, commit.SerializeAsString(), &data),
            absl::StatusCode::kOk);
  v1::PutResponse put;
  ASSERT_TRUE(put.ParseFromString(data));
  EXPECT_EQ(put.info().xxh3_64(), digest->xxh3);
  auto stat = client_->Stat(put.caps().read());
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->size_bytes(), digest->size);
  EXPECT_EQ(Spooled(), 0u);
  close(fd);
}

// A BeginLocalPut whose answer never reached its writer (here: a raw peer that closes without
// reading it) leaves a ticket that holds the key; the writer's next BeginLocalPut replaces it
// instead of being refused as ALREADY_EXISTS until the ticket's lease ends, and the old ticket
// can no longer be committed.
TEST_F(LocalPutChannelTest, ALostTicketIsReplacedByTheWritersRetry) {
  const v1::PieceKey key = Key("lost", 1, 0);
  const int fd = std::move(sockets::Connect("127.0.0.1", port_, absl::Seconds(20))).value();
  std::string data;
  ASSERT_EQ(Ask(fd, data_wire::kOpBeginLocalPut, Begin(key).SerializeAsString(), &data),
            absl::StatusCode::kOk);
  v1::BeginLocalPutResponse first;
  ASSERT_TRUE(first.ParseFromString(data));
  ASSERT_TRUE(WritePiece(key, first.spool_path()).ok());
  // Asked again and gone before the answer.
  const int lost = std::move(sockets::Connect("127.0.0.1", port_, absl::Seconds(20))).value();
  ASSERT_TRUE(
      sockets::SendAll(
          lost, RequestFrame(data_wire::kOpBeginLocalPut, Begin(key).SerializeAsString()), "test")
          .ok());
  close(lost);
  absl::SleepFor(absl::Milliseconds(200));  // the depot answers into the closed connection
  auto put = PutHashed(key);
  ASSERT_TRUE(put.ok()) << put.status();
  v1::CommitLocalPutRequest stale;
  stale.set_put_id(first.put_id());
  *stale.mutable_grant() = GrantFor(key_, key);
  data.clear();
  EXPECT_EQ(Ask(fd, data_wire::kOpCommitLocalPut, stale.SerializeAsString(), &data),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->ListJob("lost", JobGrant(key_, "lost"))->size(), 1u);
  EXPECT_EQ(Spooled(), 0u);
  EXPECT_EQ(client_->Info()->used_bytes(), put->info().size_bytes()) << "a reservation leaked";
  close(fd);
}

// A depot whose data channel is full (every connection past kMaxConnections is closed at
// once, after the client may already have sent its request): the local put's calls go over
// gRPC instead and the put succeeds.
TEST_F(LocalPutChannelTest, AFullChannelSendsTheCallsOverGrpc) {
  std::vector<int> crowd;
  for (int i = 0; i < depot::DataChannelServer::kMaxConnections + 4; ++i) {
    crowd.push_back(std::move(sockets::Connect("127.0.0.1", port_, absl::Seconds(20))).value());
  }
  absl::SleepFor(absl::Milliseconds(200));
  // A client of its own: the fixture's has learnt the channel already, through Info only.
  auto fresh = std::move(DepotClient::Connect(server_->address(), absl::Seconds(20))).value();
  const v1::PieceKey key = Key("crowd", 1, 0);
  absl::Time start = absl::Now();
  auto put = fresh->PutLocalHashed(
      key, 1 << 20, 0, [&](const std::string& path) { return WritePiece(key, path); },
      GrantFor(key_, key));
  EXPECT_TRUE(put.ok()) << put.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "the put waited for retries";
  for (int fd : crowd) close(fd);
  EXPECT_EQ(Spooled(), 0u);
}

// A commit answer larger than the channel's old 1 MiB bound (a piece of many long-named
// datasets): the same answer as over gRPC, not DATA_LOSS with the piece committed anyway.
TEST_F(LocalPutChannelTest, ALargeCommitAnswerComesBack) {
  const v1::PieceKey key = Key("wide", 1, 0);
  std::vector<piece::DatasetWrite> datasets;
  std::vector<std::string> names;
  for (int i = 0; i < 4200; ++i) names.push_back(absl::StrCat(std::string(240, 'a'), i));
  for (const std::string& name : names) {
    datasets.push_back({name, ElementType::kDouble, values_.data(), 1, 1, "none", {}});
  }
  auto put = client_->PutLocalHashed(
      key, 64 << 20, 0,
      [&](const std::string& path) {
        return piece::WritePieceFileHashed(path, {"wide", 1, 0, 1, ""}, datasets);
      },
      GrantFor(key_, key));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_GT(put->ByteSizeLong(), size_t{1} << 20);
  EXPECT_EQ(put->info().datasets_size(), 4200);
  EXPECT_EQ(Spooled(), 0u);
}

// The file at a ticket's path must be the writer's own regular file: a symlink (to a piece
// elsewhere) is refused and nothing is stored.
TEST_F(LocalPutChannelTest, ASymlinkAtTheTicketsPathIsRefused) {
  const v1::PieceKey key = Key("link", 1, 0);
  const std::string outside = tmp_ + "/outside.h5";
  ASSERT_TRUE(WritePiece(key, outside).ok());
  const int fd = std::move(sockets::Connect("127.0.0.1", port_, absl::Seconds(20))).value();
  std::string data;
  ASSERT_EQ(Ask(fd, data_wire::kOpBeginLocalPut, Begin(key).SerializeAsString(), &data),
            absl::StatusCode::kOk);
  v1::BeginLocalPutResponse ticket;
  ASSERT_TRUE(ticket.ParseFromString(data));
  ASSERT_EQ(symlink(outside.c_str(), ticket.spool_path().c_str()), 0);
  v1::CommitLocalPutRequest commit;
  commit.set_put_id(ticket.put_id());
  *commit.mutable_grant() = GrantFor(key_, key);
  data.clear();
  EXPECT_EQ(Ask(fd, data_wire::kOpCommitLocalPut, commit.SerializeAsString(), &data),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client_->ListJob("link", JobGrant(key_, "link"))->size(), 0u);
  EXPECT_EQ(Spooled(), 0u);
  EXPECT_EQ(access(outside.c_str(), F_OK), 0) << "the link's target was touched";
  close(fd);
}

// No early write before the client knows the spool; afterwards one is adopted by its put, which
// does not write the piece again.
TEST_F(LocalPutChannelTest, AnEarlyWriteIsAdoptedByItsPut) {
  const v1::PieceKey first = Key("early", 1, 0), second = Key("early", 2, 0);
  EXPECT_EQ(client_->StartEarlyLocalWrite(
                first, 1 << 20, [&](const std::string& path) { return WritePiece(first, path); }),
            nullptr);
  ASSERT_TRUE(PutHashed(first).ok());  // the client learns the spool directory
  std::unique_ptr<EarlyLocalWrite> early = client_->StartEarlyLocalWrite(
      second, 1 << 20, [&](const std::string& path) { return WritePiece(second, path); });
  ASSERT_NE(early, nullptr);
  EXPECT_EQ(early->path().rfind(tmp_ + "/depot/spool/", 0), 0u) << early->path();
  std::atomic<int> writes{0};
  auto put = PutHashed(second, early.get(), &writes);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(writes.load(), 0) << "the put wrote the piece again";
  EXPECT_FALSE(early->available());
  double got = 0;
  ASSERT_TRUE(client_
                  ->ReadRange(put->caps().read(), "v", ElementType::kDouble, {{7, 1, 1, 1}}, &got,
                              sizeof got)
                  .ok());
  EXPECT_EQ(got, 2.5);
  early.reset();
  EXPECT_TRUE(client_->Stat(put->caps().read()).ok()) << "the adopted piece was removed";
  EXPECT_EQ(Spooled(), 0u);
}

// An early write no put takes (its epoch was not the one begun) is removed; one whose write
// failed fails its put with the writer's error, and the key stays free.
TEST_F(LocalPutChannelTest, EarlyWritesNotAdoptedOrFailedLeaveNothing) {
  const v1::PieceKey first = Key("early", 1, 0), second = Key("early", 2, 0);
  ASSERT_TRUE(PutHashed(first).ok());
  {
    std::unique_ptr<EarlyLocalWrite> unused = client_->StartEarlyLocalWrite(
        second, 1 << 20, [&](const std::string& path) { return WritePiece(second, path); });
    ASSERT_NE(unused, nullptr);
  }
  EXPECT_EQ(Spooled(), 0u);
  std::unique_ptr<EarlyLocalWrite> failing = client_->StartEarlyLocalWrite(
      second, 1 << 20, [](const std::string&) -> absl::StatusOr<FileDigest> {
        return absl::InternalError("the writer crashed (test)");
      });
  ASSERT_NE(failing, nullptr);
  auto put = PutHashed(second, failing.get());
  EXPECT_EQ(put.status().code(), absl::StatusCode::kInternal) << put.status();
  EXPECT_NE(put.status().message().find("the writer crashed"), std::string::npos) << put.status();
  failing.reset();
  EXPECT_EQ(Spooled(), 0u);
  EXPECT_TRUE(PutHashed(second).ok()) << "the key was not given back";
  EXPECT_EQ(client_->ListJob("early", JobGrant(key_, "early"))->size(), 2u);
}

}  // namespace
}  // namespace testing
}  // namespace srs
