// The depot's data channel (depot/data_channel.h, depot/client/data_wire.h): the whole
// conformance suite through DepotClient with the channel on, against an in-process depot over
// both backends (the file backend answers with sendfile where it can, the memory backend
// through PieceStore), plus what only the channel has: the port in Info, malformed requests,
// and byte-for-byte agreement with the gRPC path on selections of every shape.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/time/clock.h"
#include "common/checksum.h"
#include "depot/client/data_channel_client.h"
#include "depot/client/data_wire.h"
#include "depot/client/depot_client.h"
#include "depot/client/socket_io.h"
#include "depot/depot_server.h"
#include "tests/depot/conformance.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace testing {
namespace {

class ChannelUnderTest : public DepotUnderTest {
 public:
  ChannelUnderTest(bool file, int64_t capacity) : file_(file) {
    char tmpl[] = "/tmp/srs-data-channel.XXXXXX";
    dir_ = mkdtemp(tmpl);
    depot::DepotServerOptions options;
    options.dir = file ? dir_ + "/depot" : "";
    options.capacity_bytes = capacity;
    options.grant_key = key_;  // every write carries the grant an RSS would have issued
    server_ = std::move(depot::DepotServer::Start(options)).value();
    client_ = std::move(DepotClient::Connect(server_->address(), absl::Seconds(20))).value();
  }
  ~ChannelUnderTest() override {
    client_.reset();
    server_->Shutdown(absl::Seconds(5));
    server_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  absl::StatusOr<v1::PutResponse> PutBytes(const v1::PieceKey& key, const std::string& bytes,
                                           int64_t lease) override {
    return client_->PutBytes(key, bytes, lease, GrantFor(key_, key));
  }
  absl::StatusOr<v1::PutResponse> PutLocal(
      const v1::PieceKey& key, int64_t size_hint, int64_t lease,
      const std::function<absl::Status(const std::string&)>& write_file) override {
    return client_->PutLocal(key, size_hint, lease, write_file, GrantFor(key_, key));
  }
  absl::Status ReadRange(const std::string& cap, const std::string& dataset, ElementType type,
                         const std::vector<piece::Hyperslab>& sel, void* out,
                         size_t out_bytes) override {
    return client_->ReadRange(cap, dataset, type, sel, out, out_bytes);
  }
  absl::StatusOr<std::string> GetAll(const std::string& cap) override {
    return client_->GetAll(cap);
  }
  absl::StatusOr<std::string> OpenLocal(const std::string& cap) override {
    return client_->OpenLocal(cap);
  }
  absl::StatusOr<v1::PieceInfo> Stat(const std::string& cap) override { return client_->Stat(cap); }
  absl::Status Delete(const std::string& cap) override { return client_->Delete(cap); }
  absl::Status Renew(const std::vector<std::string>& caps, int64_t lease) override {
    return client_->Renew(caps, lease);
  }
  absl::StatusOr<std::vector<v1::PieceInfo>> ListJob(const std::string& job) override {
    return client_->ListJob(job, JobGrant(key_, job));
  }
  void LetTimePass(int seconds) override { absl::SleepFor(absl::Seconds(seconds + 1.5)); }
  bool has_local_paths() const override { return file_; }

  DepotClient& client() { return *client_; }
  depot::v1::WriteGrant Grant(const v1::PieceKey& key) const { return GrantFor(key_, key); }

 private:
  bool file_;
  std::string dir_;
  GrantKey key_ = GrantKey::Generate();
  std::unique_ptr<depot::DepotServer> server_;
  std::unique_ptr<DepotClient> client_;
};

// The file backend only: an in-process DepotServer over memory has no spool directory, so the
// suite's local-put tests do not apply to it (the memory backend's reads through the channel
// are covered by DataChannelTest below).
INSTANTIATE_TEST_SUITE_P(Channel, DepotConformance,
                         ::testing::Values(DepotFactory{"File",
                                                        [](const DepotSetup& s) {
                                                          return std::make_unique<ChannelUnderTest>(
                                                              true, s.capacity_bytes);
                                                        }}),
                         FactoryName);

class DataChannelTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { depot_ = std::make_unique<ChannelUnderTest>(GetParam(), 0); }
  std::unique_ptr<ChannelUnderTest> depot_;
};

TEST_P(DataChannelTest, InfoAdvertisesThePort) {
  auto info = depot_->client().Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GT(info->data_port(), 0);
}

// Every shape of selection (whole, contiguous slabs, big strided blocks that go out as one
// sendfile each, small strided blocks and conversions that go through HDF5) gives exactly the
// bytes the gRPC path gives.
TEST_P(DataChannelTest, SelectionsMatchTheGrpcPathByteForByte) {
  v1::PieceKey key = Key("chan", 1, 0);
  const int64_t n = 200000;
  auto put = depot_->client().PutBytes(key, MakePieceImage(key, n), 0, depot_->Grant(key));
  ASSERT_TRUE(put.ok()) << put.status();
  const std::string cap = put->caps().read();
  struct Case {
    std::string dataset;
    ElementType type;
    std::vector<piece::Hyperslab> selections;
  };
  const std::vector<Case> cases = {
      {"u", ElementType::kDouble, {{0, 1, n, 1}}},
      {"u", ElementType::kDouble, {{n - 10, 1, 10, 1}, {5, 1, 3, 1}, {100, 100, 1, 100}}},
      {"u", ElementType::kDouble, {{7, 20000, 9, 10000}}},  // 80 KB blocks: one sendfile each
      {"u", ElementType::kDouble, {{3, 7, 1000, 2}}},       // small blocks: through HDF5
      {"u", ElementType::kFloat, {{0, 1, 1000, 1}}},        // converted: through HDF5
      {"n", ElementType::kInt32, {{10, 30000, 6, 20000}, {0, 1, 0, 1}}},
      {"n", ElementType::kInt64, {{0, 1, n, 1}}},
  };
  for (const Case& c : cases) {
    int64_t elements = piece::SelectionElements(c.selections).value();
    const size_t bytes = elements * ElementSize(c.type);
    std::string channel(bytes, '\1'), grpc(bytes, '\2');
    depot_->client().UseDataChannel(true);
    absl::Status a =
        depot_->client().ReadRange(cap, c.dataset, c.type, c.selections, channel.data(), bytes);
    depot_->client().UseDataChannel(false);
    absl::Status b =
        depot_->client().ReadRange(cap, c.dataset, c.type, c.selections, grpc.data(), bytes);
    depot_->client().UseDataChannel(true);
    ASSERT_TRUE(a.ok()) << c.dataset << ": " << a;
    ASSERT_TRUE(b.ok()) << c.dataset << ": " << b;
    EXPECT_TRUE(channel == grpc) << "dataset " << c.dataset << " as " << ElementTypeName(c.type);
  }
  // The values themselves: "u" holds i + 0.5 + rank.
  std::vector<double> u(9 * 10000);
  ASSERT_TRUE(
      depot_->client()
          .ReadRange(cap, "u", ElementType::kDouble, {{7, 20000, 9, 10000}}, u.data(), u.size() * 8)
          .ok());
  EXPECT_EQ(u[0], 7.5);
  EXPECT_EQ(u[10000], 20007.5);
  EXPECT_EQ(u.back(), 7 + 8 * 20000 + 9999 + 0.5);
}

// `landed` (a restart's progress count) sees every byte exactly once on either path, in slices
// as they arrive rather than once at the end.
TEST_P(DataChannelTest, LandedCountsEveryByteAsItArrives) {
  v1::PieceKey key = Key("landed", 1, 0);
  const int64_t n = 1500000;  // 12 MB of doubles: several data-channel slices
  auto put = depot_->client().PutBytes(key, MakePieceImage(key, n), 0, depot_->Grant(key));
  ASSERT_TRUE(put.ok()) << put.status();
  const size_t bytes = static_cast<size_t>(n) * sizeof(double);
  for (bool channel : {true, false}) {
    depot_->client().UseDataChannel(channel);
    std::string out(bytes, '\0');
    size_t landed = 0, calls = 0;
    absl::Status read =
        depot_->client().ReadRange(put->caps().read(), "u", ElementType::kDouble, {{0, 1, n, 1}},
                                   out.data(), bytes, [&](size_t got) { landed += got, ++calls; });
    ASSERT_TRUE(read.ok()) << read;
    EXPECT_EQ(landed, bytes) << (channel ? "data channel" : "gRPC");
    EXPECT_GE(calls, 2u) << (channel ? "data channel" : "gRPC");
  }
  depot_->client().UseDataChannel(true);
}

// Errors come back in the depot's words, and the connection stays usable after them.
TEST_P(DataChannelTest, ErrorsKeepTheirCodes) {
  v1::PieceKey key = Key("chan-err", 1, 0);
  auto put = depot_->client().PutBytes(key, MakePieceImage(key, 100), 0, depot_->Grant(key));
  ASSERT_TRUE(put.ok()) << put.status();
  std::vector<double> out(200);
  DepotClient& client = depot_->client();
  EXPECT_EQ(client
                .ReadRange(put->caps().manage(), "u", ElementType::kDouble, {{0, 1, 10, 1}},
                           out.data(), 1600)
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client
                .ReadRange(put->caps().read(), "nope", ElementType::kDouble, {{0, 1, 10, 1}},
                           out.data(), 1600)
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client
                .ReadRange(put->caps().read(), "u", ElementType::kDouble, {{95, 1, 10, 1}},
                           out.data(), 1600)
                .code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(client
                  .ReadRange(put->caps().read(), "u", ElementType::kDouble, {{0, 1, 100, 1}},
                             out.data(), 1600)
                  .ok());
  EXPECT_EQ(out[99], 99.5);
}

// A peer that does not speak the protocol is cut off; the depot goes on serving.
TEST_P(DataChannelTest, MalformedRequestsCloseTheConnectionOnly) {
  auto info = depot_->client().Info();
  ASSERT_TRUE(info.ok()) << info.status();
  for (const std::string& garbage : {std::string("GET / HTTP/1.1\r\n\r\n"), std::string(12, '\xff'),
                                     [] {  // right magic, a body length far over the limit
                                       std::string h;
                                       data_wire::PutU32(&h, data_wire::kMagic);
                                       data_wire::PutU32(&h, data_wire::kOpGet);
                                       data_wire::PutU32(&h, data_wire::kMaxRequestBytes + 1);
                                       return h;
                                     }()}) {
    auto fd = sockets::Connect("127.0.0.1", info->data_port(), absl::Seconds(10));
    ASSERT_TRUE(fd.ok()) << fd.status();
    ASSERT_TRUE(sockets::SendAll(*fd, garbage, "test").ok());
    char byte;
    errno = 0;
    ssize_t got = recv(*fd, &byte, 1, 0);
    // Closed: end of stream, or a reset when our unread bytes were still queued there.
    EXPECT_TRUE(got == 0 || (got < 0 && errno == ECONNRESET))
        << "the depot should close the connection (recv " << got << ", " << strerror(errno) << ")";
    close(*fd);
  }
  v1::PieceKey key = Key("chan-after", 1, 0);
  auto put = depot_->client().PutBytes(key, MakePieceImage(key, 10), 0, depot_->Grant(key));
  ASSERT_TRUE(put.ok()) << put.status();
  auto all = depot_->client().GetAll(put->caps().read());
  EXPECT_TRUE(all.ok()) << all.status();
}

// A put over the channel (data_wire.h kOpPut), driven by the real client class on the depot's
// data port: the same checks and answers as a streamed gRPC Put, refusals before any payload
// leave the connection usable, and a put whose client goes away mid-payload stores nothing.
class DataPutTest : public DataChannelTest {
 protected:
  void SetUp() override {
    DataChannelTest::SetUp();
    auto info = depot_->client().Info();
    ASSERT_TRUE(info.ok()) << info.status();
    channel_ =
        std::make_unique<DataChannelClient>("127.0.0.1", info->data_port(), absl::Seconds(10));
  }
  v1::DataPutRequest Request(const v1::PieceKey& key, int64_t total, bool granted = true) {
    v1::DataPutRequest request;
    *request.mutable_header()->mutable_key() = key;
    if (granted) *request.mutable_header()->mutable_grant() = depot_->Grant(key);
    request.set_total_bytes(total);
    return request;
  }
  // Sends `payload` (all of it, or only `cut` bytes and then fails) and `trailer`.
  DataChannelClient::Result Put(const v1::DataPutRequest& request, const std::string& payload,
                                uint64_t trailer, v1::PutResponse* response,
                                size_t cut = std::string::npos) {
    std::string answer;
    DataChannelClient::Result result = channel_->Put(
        request,
        [&](int fd) -> absl::Status {
          if (cut != std::string::npos) {
            absl::Status half = sockets::SendAll(fd, payload.substr(0, cut), "test");
            return half.ok() ? absl::CancelledError("the source went away") : half;
          }
          std::string t;
          data_wire::PutU64(&t, trailer);
          return sockets::SendAll(fd, payload + t, "test");
        },
        [&](uint64_t n) -> char* {
          answer.resize(n);
          return answer.data();
        });
    if (response != nullptr) response->ParseFromString(answer);
    return result;
  }
  size_t Listed(const std::string& job) {
    auto listed = depot_->ListJob(job);
    return listed.ok() ? listed->size() : 999;
  }
  static uint64_t Xxh3(const std::string& bytes) { return srs::Xxh3(bytes.data(), bytes.size()); }
  std::unique_ptr<DataChannelClient> channel_;
};

TEST_P(DataPutTest, StoresWhatAStreamedPutStores) {
  v1::PieceKey key = Key("dput", 1, 0);
  const std::string image = MakePieceImage(key, 300000);  // 2.4 MB: several slices
  v1::PutResponse response;
  DataChannelClient::Result put = Put(Request(key, image.size()), image, Xxh3(image), &response);
  ASSERT_TRUE(put.status.ok()) << put.status;
  EXPECT_TRUE(put.ready);
  EXPECT_EQ(response.info().size_bytes(), static_cast<int64_t>(image.size()));
  EXPECT_EQ(response.info().xxh3_64(), Xxh3(image));
  auto all = depot_->client().GetAll(response.caps().read());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(*all == image);
  // The same key again: ALREADY_EXISTS before any payload, and the connection goes on serving.
  put = Put(Request(key, image.size()), image, Xxh3(image), nullptr);
  EXPECT_EQ(put.status.code(), absl::StatusCode::kAlreadyExists) << put.status;
  EXPECT_FALSE(put.ready);
  EXPECT_FALSE(put.transport_failed);
}

TEST_P(DataPutTest, RefusalsComeBeforeThePayloadAndLeaveNothing) {
  v1::PieceKey key = Key("dput-bad", 1, 0);
  const std::string image = MakePieceImage(key, 1000);
  DataChannelClient::Result put =
      Put(Request(key, image.size(), false), image, Xxh3(image), nullptr);
  EXPECT_EQ(put.status.code(), absl::StatusCode::kUnauthenticated) << put.status;
  EXPECT_FALSE(put.ready);
  v1::DataPutRequest negative = Request(key, -1);
  EXPECT_EQ(Put(negative, "", 0, nullptr).status.code(), absl::StatusCode::kInvalidArgument);
  v1::DataPutRequest other_hint = Request(key, image.size());
  other_hint.mutable_header()->set_size_hint(10);
  EXPECT_EQ(Put(other_hint, image, Xxh3(image), nullptr).status.code(),
            absl::StatusCode::kInvalidArgument);
  // A wrong trailer, a piece whose data does not match its dataset checksum, not HDF5 at all.
  put = Put(Request(key, image.size()), image, Xxh3(image) ^ 1, nullptr);
  EXPECT_EQ(put.status.code(), absl::StatusCode::kDataLoss) << put.status;
  std::string corrupt = image;
  double needle = 5.5;
  size_t at = corrupt.find(std::string(reinterpret_cast<char*>(&needle), 8));
  ASSERT_NE(at, std::string::npos);
  corrupt[at] ^= 1;
  put = Put(Request(key, corrupt.size()), corrupt, Xxh3(corrupt), nullptr);
  EXPECT_EQ(put.status.code(), absl::StatusCode::kDataLoss) << put.status;
  EXPECT_THAT(std::string(put.status.message()), ::testing::HasSubstr("'u'"));
  const std::string junk(5000, 'x');
  EXPECT_FALSE(Put(Request(key, junk.size()), junk, Xxh3(junk), nullptr).status.ok());
  EXPECT_EQ(Listed("dput-bad"), 0u);
  // Every refusal released the key.
  put = Put(Request(key, image.size()), image, Xxh3(image), nullptr);
  EXPECT_TRUE(put.status.ok()) << put.status;
}

TEST_P(DataPutTest, AClientGoneMidPayloadStoresNothing) {
  v1::PieceKey key = Key("dput-cut", 1, 0);
  const std::string image = MakePieceImage(key, 300000);
  DataChannelClient::Result put =
      Put(Request(key, image.size()), image, Xxh3(image), nullptr, image.size() / 2);
  EXPECT_EQ(put.status.code(), absl::StatusCode::kCancelled) << put.status;
  EXPECT_TRUE(put.ready);
  // The depot notices the closed connection and drops the put: the key is free again.
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    put = Put(Request(key, image.size()), image, Xxh3(image), nullptr);
    if (put.status.code() != absl::StatusCode::kAlreadyExists) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < give_up);
  EXPECT_TRUE(put.status.ok()) << put.status;
  EXPECT_EQ(Listed("dput-cut"), 1u);
}

TEST(DataPutCapacityTest, OverCapacityIsRefusedBeforeThePayload) {
  ChannelUnderTest depot(/*file=*/true, /*capacity=*/1 << 20);
  auto info = depot.client().Info();
  ASSERT_TRUE(info.ok()) << info.status();
  DataChannelClient channel("127.0.0.1", info->data_port(), absl::Seconds(10));
  v1::PieceKey key = Key("dput-full", 1, 0);
  v1::DataPutRequest request;
  *request.mutable_header()->mutable_key() = key;
  *request.mutable_header()->mutable_grant() = depot.Grant(key);
  request.set_total_bytes(int64_t{1} << 40);
  bool uploaded = false;
  DataChannelClient::Result put = channel.Put(
      request,
      [&](int) {
        uploaded = true;
        return absl::OkStatus();
      },
      [](uint64_t) -> char* { return nullptr; });
  EXPECT_EQ(put.status.code(), absl::StatusCode::kResourceExhausted) << put.status;
  EXPECT_FALSE(uploaded);
}

INSTANTIATE_TEST_SUITE_P(Backends, DataPutTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "File" : "Memory");
                         });

INSTANTIATE_TEST_SUITE_P(Backends, DataChannelTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "File" : "Memory");
                         });

}  // namespace
}  // namespace testing
}  // namespace srs
