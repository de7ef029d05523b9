// Puts over the depot's data channel (data_wire.h kOpPut) under attack and failure: a peer with
// a raw TCP socket and the public protos (refused grants, lying sizes and trailers, garbage,
// stalls, too many connections), many puts racing for the capacity, and a depot shut down with
// a put in flight. Whatever happens, nothing partial is stored, the key and the reserved space
// come back, nothing is left in the spool, and the depot goes on serving.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "common/checksum.h"
#include "depot/client/data_wire.h"
#include "depot/client/depot_client.h"
#include "depot/client/socket_io.h"
#include "depot/depot_server.h"
#include "tests/depot/conformance.h"
#include "tests/depot/raw_data_peer.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace testing {
namespace {

namespace v1 = ::srs::depot::v1;

std::string RequestBytes(const v1::DataPutRequest& request) {
  return RequestFrame(data_wire::kOpPut, request.SerializeAsString());
}

std::string Trailer(const std::string& payload) {
  std::string out;
  data_wire::PutU64(&out, Xxh3(payload.data(), payload.size()));
  return out;
}

class DataPutAttackTest : public ::testing::Test {
 protected:
  void Start(int64_t capacity = 0, const std::string& dir = "") {
    char tmpl[] = "/tmp/srs-dput-attack.XXXXXX";
    tmp_ = mkdtemp(tmpl);
    dir_ = dir.empty() ? tmp_ + "/depot" : dir;
    depot::DepotServerOptions options;
    options.dir = dir_;
    options.capacity_bytes = capacity;
    options.grant_key = key_;
    server_ = std::move(depot::DepotServer::Start(options)).value();
    client_ = std::move(DepotClient::Connect(server_->address(), absl::Seconds(20))).value();
    auto info = client_->Info();
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_GT(info->data_port(), 0);
    port_ = info->data_port();
  }
  void TearDown() override {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
    server_.reset();
    if (!tmp_.empty()) std::system(("rm -rf " + tmp_).c_str());
  }
  int Connect() {
    auto fd = sockets::Connect("127.0.0.1", port_, absl::Seconds(20));
    EXPECT_TRUE(fd.ok()) << fd.status();
    return fd.ok() ? *fd : -1;
  }
  v1::DataPutRequest Request(const v1::PieceKey& key, int64_t total) {
    v1::DataPutRequest request;
    *request.mutable_header()->mutable_key() = key;
    *request.mutable_header()->mutable_grant() = GrantFor(key_, key);
    request.set_total_bytes(total);
    return request;
  }
  // One whole put on `fd`: request, READY, payload and trailer; the END's code.
  absl::StatusCode PutOn(int fd, const v1::DataPutRequest& request, const std::string& payload,
                         const std::string& trailer) {
    EXPECT_TRUE(sockets::SendAll(fd, RequestBytes(request), "test").ok());
    Frame frame = ReadFrame(fd);
    if (frame.type == data_wire::kFrameEnd) return frame.code;
    EXPECT_EQ(frame.type, data_wire::kFrameReady);
    EXPECT_TRUE(sockets::SendAll(fd, payload + trailer, "test").ok());
    frame = ReadFrame(fd);
    if (frame.type == data_wire::kFrameData) frame = ReadFrame(fd);
    EXPECT_EQ(frame.type, data_wire::kFrameEnd) << "the connection ended";
    return frame.code;
  }
  int64_t Used() {
    auto info = client_->Info();
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? info->used_bytes() : -1;
  }
  size_t Listed(const std::string& job) {
    auto listed = client_->ListJob(job, JobGrant(key_, job));
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? listed->size() : 999;
  }
  // Files left in the depot's spool (staged puts); the store's own files excluded.
  size_t Spooled() {
    size_t n = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/spool", error)) {
      (void)entry;
      ++n;
    }
    return n;
  }
  // Waits until the key is free for a put again (the depot dropped the broken one).
  bool WaitUntilUsed(int64_t bytes) {
    for (absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end;) {
      if (Used() == bytes) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return Used() == bytes;
  }

  GrantKey key_ = GrantKey::Generate();
  std::string tmp_, dir_;
  int port_ = 0;
  std::unique_ptr<depot::DepotServer> server_;
  std::unique_ptr<DepotClient> client_;
};

// Every refusal before READY: the same code as the gRPC Put gives for the same header, the
// connection goes on serving, nothing is reserved.
TEST_F(DataPutAttackTest, RefusedHeadersGiveTheGrpcCodesAndKeepTheConnection) {
  Start(/*capacity=*/64 << 20);
  const v1::PieceKey key = Key("atk", 1, 0);
  const std::string image = MakePieceImage(key, 1000);
  struct Case {
    std::string name;
    v1::DataPutRequest request;
    absl::StatusCode code;
  };
  std::vector<Case> cases;
  auto add = [&](std::string name, absl::StatusCode code, auto edit) {
    v1::DataPutRequest request = Request(key, image.size());
    edit(request);
    cases.push_back({std::move(name), request, code});
  };
  add("no grant", absl::StatusCode::kUnauthenticated,
      [](v1::DataPutRequest& r) { r.mutable_header()->clear_grant(); });
  add("grant of another rank", absl::StatusCode::kPermissionDenied, [&](v1::DataPutRequest& r) {
    *r.mutable_header()->mutable_grant() = GrantFor(key_, Key("atk", 1, 1));
  });
  add("grant of another job", absl::StatusCode::kPermissionDenied, [&](v1::DataPutRequest& r) {
    *r.mutable_header()->mutable_grant() = GrantFor(key_, Key("other", 1, 0));
  });
  add("expired grant", absl::StatusCode::kPermissionDenied, [&](v1::DataPutRequest& r) {
    *r.mutable_header()->mutable_grant() = GrantFor(key_, key, absl::Seconds(-5));
  });
  add("grant of another key", absl::StatusCode::kPermissionDenied, [&](v1::DataPutRequest& r) {
    *r.mutable_header()->mutable_grant() = GrantFor(GrantKey::Generate(), key);
  });
  add("tampered grant", absl::StatusCode::kPermissionDenied,
      [&](v1::DataPutRequest& r) { r.mutable_header()->mutable_grant()->set_rank(5); });
  add("over capacity", absl::StatusCode::kResourceExhausted,
      [](v1::DataPutRequest& r) { r.set_total_bytes(int64_t{1} << 40); });
  add("overflowing size", absl::StatusCode::kResourceExhausted,
      [](v1::DataPutRequest& r) { r.set_total_bytes(std::numeric_limits<int64_t>::max()); });
  add("bad job name", absl::StatusCode::kInvalidArgument, [&](v1::DataPutRequest& r) {
    r.mutable_header()->mutable_key()->set_job(std::string(300, 'j'));
    *r.mutable_header()->mutable_grant() = GrantFor(key_, r.header().key());
  });
  add("absurd lease", absl::StatusCode::kInvalidArgument,
      [](v1::DataPutRequest& r) { r.mutable_header()->set_lease_seconds(int64_t{1} << 40); });
  const int fd = Connect();
  for (const Case& c : cases) {
    EXPECT_EQ(PutOn(fd, c.request, image, Trailer(image)), c.code) << c.name;
    // The same header over gRPC.
    client_->UseDataChannel(false);
    auto grpc = client_->PutStream(
        c.request.header().key(), c.request.total_bytes(), c.request.header().lease_seconds(),
        [&](const DepotClient::ChunkSend& send) {
          send(image);
          return absl::OkStatus();
        },
        c.request.header().grant());
    client_->UseDataChannel(true);
    EXPECT_EQ(grpc.status().code(), c.code) << c.name << " over gRPC: " << grpc.status();
  }
  // Sizes the channel refuses on its own (gRPC has no total_bytes).
  v1::DataPutRequest negative = Request(key, -1);
  EXPECT_EQ(PutOn(fd, negative, "", ""), absl::StatusCode::kInvalidArgument);
  v1::DataPutRequest hint = Request(key, image.size());
  hint.mutable_header()->set_size_hint(image.size() + 1);
  EXPECT_EQ(PutOn(fd, hint, image, Trailer(image)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Used(), 0);
  EXPECT_EQ(Spooled(), 0u);
  // Still usable, and the key was never taken.
  EXPECT_EQ(PutOn(fd, Request(key, image.size()), image, Trailer(image)), absl::StatusCode::kOk);
  EXPECT_EQ(Listed("atk"), 1u);
  close(fd);
}

// After READY: a lying trailer, a piece whose dataset checksum lies, bytes that are no HDF5
// file: DATA_LOSS (or the verifier's error), nothing stored, the key and space released, the
// spool empty, the connection usable. Garbage after a trailer closes the connection only.
TEST_F(DataPutAttackTest, LyingPayloadsStoreNothing) {
  Start(/*capacity=*/64 << 20);
  const v1::PieceKey key = Key("lie", 1, 0);
  const std::string image = MakePieceImage(key, 20000);
  const int fd = Connect();
  std::string wrong = Trailer(image);
  wrong[0] ^= 1;
  EXPECT_EQ(PutOn(fd, Request(key, image.size()), image, wrong), absl::StatusCode::kDataLoss);
  std::string corrupt = image;
  const double needle = 5.5;
  const size_t at = corrupt.find(std::string(reinterpret_cast<const char*>(&needle), 8));
  ASSERT_NE(at, std::string::npos);
  corrupt[at] ^= 1;
  EXPECT_EQ(PutOn(fd, Request(key, corrupt.size()), corrupt, Trailer(corrupt)),
            absl::StatusCode::kDataLoss);
  const std::string junk(100000, 'x');
  EXPECT_NE(PutOn(fd, Request(key, junk.size()), junk, Trailer(junk)), absl::StatusCode::kOk);
  EXPECT_NE(PutOn(fd, Request(key, 0), "", Trailer("")), absl::StatusCode::kOk);
  EXPECT_EQ(Used(), 0);
  EXPECT_EQ(Spooled(), 0u);
  EXPECT_EQ(Listed("lie"), 0u);
  // A good put, then garbage where the next request would be.
  EXPECT_EQ(PutOn(fd, Request(key, image.size()), image, Trailer(image)), absl::StatusCode::kOk);
  ASSERT_TRUE(sockets::SendAll(fd, std::string(64, '\xee'), "test").ok());
  EXPECT_EQ(ReadFrame(fd).type, 0u) << "the depot should close the connection";
  close(fd);
  EXPECT_EQ(Listed("lie"), 1u);
  EXPECT_EQ(Used(), static_cast<int64_t>(image.size()));
}

// A peer that closes mid-payload, or in the middle of the trailer: nothing stored, the
// reservation and the key come back, the spool is empty.
TEST_F(DataPutAttackTest, APeerGoneMidPutGivesBackKeyAndSpace) {
  Start(/*capacity=*/64 << 20);
  const v1::PieceKey key = Key("gone", 1, 0);
  const std::string image = MakePieceImage(key, 200000);
  for (size_t cut : {size_t{0}, image.size() / 3, image.size(), image.size() + 4}) {
    const int fd = Connect();
    ASSERT_TRUE(sockets::SendAll(fd, RequestBytes(Request(key, image.size())), "test").ok());
    ASSERT_EQ(ReadFrame(fd).type, data_wire::kFrameReady);
    EXPECT_EQ(Used(), static_cast<int64_t>(image.size())) << "reserved before the payload";
    const std::string all = image + Trailer(image);
    ASSERT_TRUE(sockets::SendAll(fd, all.substr(0, cut), "test").ok());
    close(fd);
    EXPECT_TRUE(WaitUntilUsed(0)) << "cut at " << cut << ": the reservation stayed";
    EXPECT_EQ(Spooled(), 0u) << "cut at " << cut;
  }
  EXPECT_EQ(Listed("gone"), 0u);
  const int fd = Connect();
  EXPECT_EQ(PutOn(fd, Request(key, image.size()), image, Trailer(image)), absl::StatusCode::kOk);
  close(fd);
}

// More connections than the depot serves: the extra ones are closed, DepotClient puts go over
// gRPC meanwhile, and once the crowd leaves the channel serves again.
TEST_F(DataPutAttackTest, ACrowdOfIdleConnectionsOnlyCostsTheFastPath) {
  Start();
  std::vector<int> crowd;
  for (int i = 0; i < depot::DataChannelServer::kMaxConnections + 8; ++i)
    crowd.push_back(Connect());
  absl::SleepFor(absl::Milliseconds(200));
  const v1::PieceKey key = Key("crowd", 1, 0);
  auto put = client_->PutBytes(key, MakePieceImage(key, 1000), 0, GrantFor(key_, key));
  EXPECT_TRUE(put.ok()) << put.status();
  for (int fd : crowd) close(fd);
  absl::SleepFor(absl::Milliseconds(200));
  const int fd = Connect();
  const v1::PieceKey key2 = Key("crowd", 2, 0);
  const std::string image = MakePieceImage(key2, 1000);
  EXPECT_EQ(PutOn(fd, Request(key2, image.size()), image, Trailer(image)), absl::StatusCode::kOk);
  close(fd);
}

// This process's resident memory (VmRSS), in bytes; -1 if /proc does not say.
int64_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return -1;
}

// Headers that announce the largest request body and then send almost nothing: before any
// capability is checked, the depot holds only what arrived (it used to allocate the announced
// 16 MiB per connection at once, 512 MiB for these 32).
TEST_F(DataPutAttackTest, AnnouncedButUnsentRequestBodiesCostNoMemory) {
  Start();
  const int64_t before = ResidentBytes();
  ASSERT_GT(before, 0);
  std::vector<int> liars;
  for (int i = 0; i < 32; ++i) {
    std::string header;
    data_wire::PutU32(&header, data_wire::kMagic);
    data_wire::PutU32(&header, data_wire::kOpPut);
    data_wire::PutU32(&header, data_wire::kMaxRequestBytes);
    liars.push_back(Connect());
    ASSERT_TRUE(sockets::SendAll(liars.back(), header + "x", "test").ok());
  }
  // A whole put on one more connection: the depot has taken every header above by then (it
  // serves connections in the order it accepts them, each on its own thread).
  const v1::PieceKey key = Key("liars", 1, 0);
  const std::string image = MakePieceImage(key, 1000);
  const int fd = Connect();
  EXPECT_EQ(PutOn(fd, Request(key, image.size()), image, Trailer(image)), absl::StatusCode::kOk);
  close(fd);
  int64_t most = before;
  for (int i = 0; i < 20; ++i) {  // the connection threads may still be starting
    most = std::max(most, ResidentBytes());
    absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_LT(most - before, int64_t{64} << 20)
      << "32 connections announcing " << data_wire::kMaxRequestBytes << " bytes each grew the "
      << "depot by " << (most - before) << " bytes";
  for (int liar : liars) close(liar);
}

// Puts racing for the last of the capacity: exactly as many as fit are stored, the others are
// RESOURCE_EXHAUSTED before their payload, and the used bytes are exactly the stored pieces.
TEST_F(DataPutAttackTest, ConcurrentPutsNearCapacityNeverOvercommit) {
  const v1::PieceKey probe = Key("race", 1, 0);
  const int64_t piece = static_cast<int64_t>(MakePieceImage(probe, 50000).size());
  Start(/*capacity=*/piece * 5 + piece / 2);
  std::atomic<int> stored{0}, full{0}, other{0};
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 12; ++rank) {
    threads.emplace_back([&, rank] {
      const v1::PieceKey key = Key("race", 1, rank);
      const std::string image = MakePieceImage(key, 50000);
      const int fd = Connect();
      absl::StatusCode code = PutOn(fd, Request(key, image.size()), image, Trailer(image));
      close(fd);
      (code == absl::StatusCode::kOk                  ? stored
       : code == absl::StatusCode::kResourceExhausted ? full
                                                      : other)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stored.load(), 5);
  EXPECT_EQ(full.load(), 7);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(Used(), 5 * piece);
  EXPECT_EQ(Listed("race"), 5u);
  EXPECT_EQ(Spooled(), 0u);
}

// The depot shut down while a put is stalled mid-payload (a client that stopped sending without
// closing): the shutdown ends within its deadline, nothing is stored, nothing is spooled.
TEST_F(DataPutAttackTest, ShutdownWithAStalledPutEndsAndStoresNothing) {
  Start();
  const v1::PieceKey key = Key("stall", 1, 0);
  const std::string image = MakePieceImage(key, 200000);
  const int fd = Connect();
  ASSERT_TRUE(sockets::SendAll(fd, RequestBytes(Request(key, image.size())), "test").ok());
  ASSERT_EQ(ReadFrame(fd).type, data_wire::kFrameReady);
  ASSERT_TRUE(sockets::SendAll(fd, image.substr(0, image.size() / 2), "test").ok());
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Time begin = absl::Now();
  client_.reset();
  server_->Shutdown(absl::Seconds(2));
  EXPECT_LT(absl::Now() - begin, absl::Seconds(4));
  server_.reset();
  close(fd);
  EXPECT_EQ(Spooled(), 0u);
  std::error_code error;
  size_t pieces = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/pieces", error)) {
    (void)entry;
    ++pieces;
  }
  EXPECT_EQ(pieces, 0u);
}

// A graceful shutdown (SIGTERM) drains a put in flight over the channel as it drains a gRPC Put
// (daemon_fault_test SigtermDrainsAPutInFlight): the put whose payload is still arriving
// finishes and is stored; only new requests are refused.
TEST_F(DataPutAttackTest, ShutdownDrainsAPutInFlight) {
  Start();
  const v1::PieceKey key = Key("drain", 1, 0);
  const std::string image = MakePieceImage(key, 200000);
  const int fd = Connect();
  ASSERT_TRUE(sockets::SendAll(fd, RequestBytes(Request(key, image.size())), "test").ok());
  ASSERT_EQ(ReadFrame(fd).type, data_wire::kFrameReady);
  ASSERT_TRUE(sockets::SendAll(fd, image.substr(0, 1000), "test").ok());
  absl::SleepFor(absl::Milliseconds(100));
  client_.reset();
  std::thread stop([this] { server_->Shutdown(absl::Seconds(20)); });
  absl::SleepFor(absl::Milliseconds(300));  // the shutdown is under way
  EXPECT_TRUE(sockets::SendAll(fd, image.substr(1000) + Trailer(image), "test").ok());
  Frame answer = ReadFrame(fd);
  EXPECT_EQ(answer.type, data_wire::kFrameData) << "the put was cut by the shutdown";
  Frame end = ReadFrame(fd);
  EXPECT_EQ(end.type, data_wire::kFrameEnd);
  EXPECT_EQ(end.code, absl::StatusCode::kOk) << end.data;
  stop.join();
  close(fd);
  server_.reset();
  depot::DepotServerOptions options;
  options.dir = dir_;
  options.grant_key = key_;
  server_ = std::move(depot::DepotServer::Start(options)).value();
  client_ = std::move(DepotClient::Connect(server_->address(), absl::Seconds(20))).value();
  v1::PutResponse response;
  ASSERT_TRUE(response.ParseFromString(answer.data));
  auto bytes = client_->GetAll(response.caps().read());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(*bytes == image);
}

// A write error in the middle of a big put (the file-size limit, EFBIG, stands in for a full
// disk, which would need a file system of our own): the depot stops reading (over 1 GiB was
// still to come) and answers at once. The client must stop sending and report the depot's
// error, as the gRPC Put does, not block in send until its timeout and then retry the whole
// upload as UNAVAILABLE ("the data channel broke").
TEST_F(DataPutAttackTest, AWriteErrorInABigPutIsReportedAtOnce) {
  Start();
  client_ = std::move(DepotClient::Connect(server_->address(), absl::Seconds(5))).value();
  const std::string chunk(1 << 20, 'z');
  const int64_t total = int64_t{2} << 30;
  struct Outcome {
    absl::Status status;
    absl::Duration took;
    int attempts = 0;
  };
  std::vector<Outcome> outcomes;  // gRPC, then the data channel
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 8 << 20;
  sighandler_t old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  for (bool channel : {false, true}) {
    client_->UseDataChannel(channel);
    const v1::PieceKey key = Key("efbig", channel ? 2 : 1, 0);
    Outcome outcome;
    const absl::Time begin = absl::Now();
    outcome.status = client_
                         ->PutStream(
                             key, total, 0,
                             [&](const DepotClient::ChunkSend& send) {
                               ++outcome.attempts;
                               for (int64_t at = 0; at < total; at += chunk.size()) {
                                 if (!send(chunk)) break;
                               }
                               return absl::OkStatus();
                             },
                             GrantFor(key_, key))
                         .status();
    outcome.took = absl::Now() - begin;
    outcomes.push_back(outcome);
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);
  client_->UseDataChannel(true);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].status.code(), absl::StatusCode::kInternal) << outcomes[0].status;
  EXPECT_THAT(std::string(outcomes[0].status.message()), ::testing::HasSubstr("File too large"));
  EXPECT_EQ(outcomes[1].status.code(), outcomes[0].status.code()) << outcomes[1].status;
  EXPECT_THAT(std::string(outcomes[1].status.message()), ::testing::HasSubstr("File too large"));
  EXPECT_EQ(outcomes[1].attempts, 1);
  EXPECT_LT(outcomes[1].took, absl::Seconds(4)) << "the client waited for its send timeout";
  // Released before the answer: no spool file, no reservation, the key free for a retry.
  EXPECT_EQ(Spooled(), 0u);
  EXPECT_EQ(Used(), 0);
  EXPECT_EQ(Listed("efbig"), 0u);
  const v1::PieceKey key = Key("efbig", 2, 0);
  auto put = client_->PutBytes(key, MakePieceImage(key, 1000), 0, GrantFor(key_, key));
  EXPECT_TRUE(put.ok()) << put.status();
}

}  // namespace
}  // namespace testing
}  // namespace srs
