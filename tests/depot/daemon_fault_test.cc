// Faults against the real srs-depot: kill -9 in the middle of a put, corrupted and truncated
// files in its directory, wrong capabilities (and what the log says about them), malformed put
// streams, health and graceful shutdown.
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_split.h"
#include "common/checksum.h"
#include "depot/client/depot_client.h"
#include "tests/depot/conformance.h"
#include "tests/depot/depot_process.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DaemonFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-depot-fault.XXXXXX";
    dir_ = mkdtemp(tmpl);
    key_ = MakeGrantKeyFile(dir_ + "/grant.key");
    StartDepot();
  }
  void TearDown() override {
    client_.reset();
    process_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  void StartDepot() {
    auto process = DepotProcess::Start(SRS_DEPOT_BIN,
                                       {"--dir", depot_dir(), "--grant-key", dir_ + "/grant.key"},
                                       dir_ + "/depot.log");
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(*process);
    client_ = std::move(DepotClient::Connect(process_->address(), absl::Seconds(20))).value();
  }
  std::string depot_dir() const { return dir_ + "/depot"; }
  GrantKey key_ = GrantKey::Generate();
  bool SpoolEmpty() const {
    return std::system(("test -z \"$(ls -A " + depot_dir() + "/spool)\"").c_str()) == 0;
  }
  std::string PiecePath(const v1::PutResponse& put) const {
    return depot_dir() + "/pieces/" + put.info().piece_id() + ".h5";
  }
  v1::PutResponse Put(const v1::PieceKey& key, int64_t elements) {
    auto put = client_->PutBytes(key, MakePieceImage(key, elements), 0, GrantFor(key_, key));
    EXPECT_TRUE(put.ok()) << put.status();
    return put.ok() ? *put : v1::PutResponse();
  }
  // The health service's answer for the whole server ("" service), via a generic call so the
  // test needs no generated health stub. Returns the HealthCheckResponse.status enum value.
  int HealthStatus() {
    auto channel = grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::CompletionQueue cq;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), response;
    auto call = stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request, &cq);
    call->StartCall();
    grpc::Status status;
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag;
    bool ok;
    cq.Next(&tag, &ok);
    if (!status.ok()) return -1;
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    std::string bytes;
    for (const grpc::Slice& s : slices)
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    // HealthCheckResponse{status = 1 (SERVING)} encodes as 08 01.
    return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : 0;
  }
  std::string dir_;
  std::unique_ptr<DepotProcess> process_;
  std::unique_ptr<DepotClient> client_;
};

TEST_F(DaemonFaultTest, KillDuringPutLeavesNoPartialPieceAndKeepsEarlierOnes) {
  v1::PieceKey a = Key("fault-kill", 1, 0), b = Key("fault-kill", 1, 1);
  std::string image_a = MakePieceImage(a, 200000);
  auto put_a = client_->PutBytes(a, image_a, 0, GrantFor(key_, a));
  ASSERT_TRUE(put_a.ok()) << put_a.status();
  // Half of a put of b, then kill -9 while the stream is open.
  auto stub = v1::Depot::NewStub(
      grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::PutResponse response;
  auto writer = stub->Put(&context, &response);
  v1::PutRequest request;
  *request.mutable_header()->mutable_key() = b;
  *request.mutable_header()->mutable_grant() = GrantFor(key_, b);
  ASSERT_TRUE(writer->Write(request));
  std::string image_b = MakePieceImage(b, 200000);
  request.set_chunk(image_b.substr(0, image_b.size() / 2));
  ASSERT_TRUE(writer->Write(request));
  // The put really is half-way: its bytes reach the depot's spool.
  for (int i = 0; i < 100 && SpoolEmpty(); ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_FALSE(SpoolEmpty());
  auto killed = process_->Stop(SIGKILL, absl::Seconds(5));
  ASSERT_TRUE(killed.ok() && WIFSIGNALED(*killed)) << "srs-depot did not die of SIGKILL";
  writer->WritesDone();
  EXPECT_FALSE(writer->Finish().ok());

  StartDepot();
  auto listed = client_->ListJob("fault-kill", JobGrant(key_, "fault-kill"));
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key().rank(), 0);
  auto bytes = client_->GetAll(put_a->caps().read());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(*bytes == image_a) << "piece a changed across the crash";
  EXPECT_TRUE(piece::VerifyPiece(PiecePath(*put_a)).ok());
  EXPECT_TRUE(SpoolEmpty()) << "spool not emptied at restart";
  EXPECT_TRUE(client_->PutBytes(b, image_b, 0, GrantFor(key_, b)).ok());  // the key is free
}

TEST_F(DaemonFaultTest, PinsSurviveKillNineAndOutliveTheirPutLease) {
  // Two pieces with a 2 s lease; one is pinned (what the RSS does at commit), then kill -9: the
  // pin lives only in the depot's lease journal, which the restarted depot must honour.
  v1::PieceKey a = Key("fault-pin", 1, 0), b = Key("fault-pin", 1, 1);
  auto put_a = client_->PutBytes(a, MakePieceImage(a, 1000), 2, GrantFor(key_, a));
  auto put_b = client_->PutBytes(b, MakePieceImage(b, 1000), 2, GrantFor(key_, b));
  ASSERT_TRUE(put_a.ok() && put_b.ok());
  ASSERT_TRUE(client_->Renew({put_a->caps().manage()}, 0).ok());
  std::ifstream journal(depot_dir() + "/leases.journal");
  std::string line;
  ASSERT_TRUE(std::getline(journal, line)) << "the pin is not in the lease journal";
  EXPECT_EQ(line.substr(0, line.find(' ')), put_a->info().piece_id());
  auto killed = process_->Stop(SIGKILL, absl::Seconds(5));
  ASSERT_TRUE(killed.ok() && WIFSIGNALED(*killed));
  StartDepot();
  absl::SleepFor(absl::Seconds(3.5));  // past the put lease, with the depot's 1 s sweeps
  auto stat = client_->Stat(put_a->caps().read());
  ASSERT_TRUE(stat.ok()) << "the pinned piece was reclaimed after a crash: " << stat.status();
  EXPECT_EQ(stat->lease_expires_unix_ms(), 0);
  EXPECT_EQ(client_->Stat(put_b->caps().read()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DaemonFaultTest, FlippedByteAndTruncationAreDetectedNamingThePiece) {
  v1::PutResponse flipped = Put(Key("fault-corrupt", 1, 0), 50000);
  v1::PutResponse truncated = Put(Key("fault-corrupt", 1, 1), 50000);
  double out[4];
  // A first read succeeds (and caches the verification) ...
  ASSERT_TRUE(
      client_->ReadRange(flipped.caps().read(), "u", ElementType::kDouble, {{0, 1, 4, 1}}, out, 32)
          .ok());
  {  // ... then one byte in the middle of the file changes.
    std::fstream f(PiecePath(flipped), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(flipped.info().size_bytes() / 2);
    char c = static_cast<char>(f.get());
    f.seekp(flipped.info().size_bytes() / 2);
    f.put(static_cast<char>(c ^ 0x10));
  }
  ASSERT_EQ(truncate(PiecePath(truncated).c_str(), truncated.info().size_bytes() - 100), 0);
  for (const v1::PutResponse* put : {&flipped, &truncated}) {
    const std::string& id = put->info().piece_id();
    absl::Status range =
        client_->ReadRange(put->caps().read(), "u", ElementType::kDouble, {{0, 1, 4, 1}}, out, 32);
    EXPECT_EQ(range.code(), absl::StatusCode::kDataLoss) << range;
    EXPECT_THAT(std::string(range.message()), HasSubstr(id));
    absl::Status get = client_->GetAll(put->caps().read()).status();
    EXPECT_EQ(get.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(get.message()), HasSubstr(id));
    EXPECT_EQ(client_->OpenLocal(put->caps().read()).status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_TRUE(client_->Info().ok());
}

TEST_F(DaemonFaultTest, WrongCapabilitiesAreRefusedAndNeverLogged) {
  v1::PutResponse put = Put(Key("fault-cap", 1, 0), 100);
  const std::string id = put.info().piece_id();
  const std::string forged = id + ".0123456789abcdef0123456789abcdef";
  double out[1];
  EXPECT_EQ(client_->ReadRange(forged, "u", ElementType::kDouble, {{0, 1, 1, 1}}, out, 8).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_->Delete(put.caps().read()).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_->GetAll("").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_->Renew({forged}, 0).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(client_->Delete(put.caps().manage()).ok());
  process_.reset();  // SIGTERM: the log is complete
  std::ifstream in(dir_ + "/depot.log");
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(log, HasSubstr("piece=" + id));
  EXPECT_THAT(log, HasSubstr("refused"));
  for (const std::string& cap : {forged, put.caps().read(), put.caps().manage()}) {
    std::string secret = std::vector<std::string>(absl::StrSplit(cap, '.'))[1];
    EXPECT_THAT(log, Not(HasSubstr(secret)));
  }
}

TEST_F(DaemonFaultTest, MalformedPutStreamsAreRefusedAndTheDepotStaysHealthy) {
  auto stub = v1::Depot::NewStub(
      grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials()));
  v1::PieceKey key = Key("fault-stream", 1, 0);
  std::string image = MakePieceImage(key, 1000);
  auto run = [&](bool header, bool trailer, uint64_t digest) {
    grpc::ClientContext context;
    v1::PutResponse response;
    auto writer = stub->Put(&context, &response);
    v1::PutRequest request;
    if (header) {
      *request.mutable_header()->mutable_key() = key;
      *request.mutable_header()->mutable_grant() = GrantFor(key_, key);
      writer->Write(request);
    }
    request.set_chunk(image);
    writer->Write(request);
    if (trailer) {
      request.mutable_trailer()->set_xxh3_64(digest);
      request.mutable_trailer()->set_total_bytes(image.size());
      writer->Write(request);
    }
    writer->WritesDone();
    return writer->Finish().error_code();
  };
  const uint64_t good = Xxh3(image.data(), image.size());
  EXPECT_EQ(run(false, true, good), grpc::StatusCode::INVALID_ARGUMENT);  // header missing
  EXPECT_EQ(run(true, false, good), grpc::StatusCode::INVALID_ARGUMENT);  // no trailer
  EXPECT_EQ(run(true, true, good ^ 1), grpc::StatusCode::DATA_LOSS);      // bytes damaged
  EXPECT_EQ(client_->ListJob("fault-stream", JobGrant(key_, "fault-stream"))->size(), 0u);
  EXPECT_TRUE(SpoolEmpty());
  EXPECT_EQ(HealthStatus(), 1);
  EXPECT_EQ(run(true, true, good), grpc::StatusCode::OK);  // and a good put still works
  EXPECT_EQ(client_->ListJob("fault-stream", JobGrant(key_, "fault-stream"))->size(), 1u);
}

TEST_F(DaemonFaultTest, SigtermDrainsAPutInFlight) {
  auto stub = v1::Depot::NewStub(
      grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials()));
  v1::PieceKey key = Key("fault-drain", 1, 0);
  std::string image = MakePieceImage(key, 100000);
  grpc::ClientContext context;
  v1::PutResponse response;
  auto writer = stub->Put(&context, &response);
  v1::PutRequest request;
  *request.mutable_header()->mutable_key() = key;
  *request.mutable_header()->mutable_grant() = GrantFor(key_, key);
  ASSERT_TRUE(writer->Write(request));
  request.set_chunk(image.substr(0, 1000));
  ASSERT_TRUE(writer->Write(request));
  // Wait until the depot is really inside the put (its bytes reach the spool): a call whose
  // handler has not started yet when SIGTERM arrives is refused, not drained.
  for (int i = 0; i < 100 && SpoolEmpty(); ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_FALSE(SpoolEmpty());
  kill(process_->pid(), SIGTERM);  // the put is running: it must be allowed to finish
  // New calls are refused once the shutdown began: poll with one raw attempt each (DepotClient
  // would retry within its rpc_timeout), under a deadline, never a fixed sleep.
  grpc::StatusCode info = grpc::StatusCode::OK;
  for (absl::Time end = absl::Now() + absl::Seconds(30); absl::Now() < end;) {
    grpc::ClientContext info_context;
    info_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::DepotInfo reply;
    info = stub->Info(&info_context, v1::InfoRequest(), &reply).error_code();
    if (info == grpc::StatusCode::UNAVAILABLE) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(info, grpc::StatusCode::UNAVAILABLE);  // new calls: no
  request.set_chunk(image.substr(1000));
  ASSERT_TRUE(writer->Write(request));
  request.mutable_trailer()->set_xxh3_64(Xxh3(image.data(), image.size()));
  request.mutable_trailer()->set_total_bytes(image.size());
  ASSERT_TRUE(writer->Write(request));
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  auto exit = process_->Stop(SIGTERM, absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0);
  StartDepot();
  auto back = client_->GetAll(response.caps().read());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == image) << "the drained put came back different";
}

TEST_F(DaemonFaultTest, SigtermExitsZeroAndPiecesSurviveRestart) {
  v1::PutResponse put = Put(Key("fault-restart", 1, 0), 1000);
  ASSERT_TRUE(client_->Renew({put.caps().manage()}, 0).ok());
  EXPECT_EQ(HealthStatus(), 1);
  auto status = process_->Stop(SIGTERM, absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  StartDepot();
  auto info = client_->Stat(put.caps().read());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->lease_expires_unix_ms(), 0);  // the pin was durable
  EXPECT_TRUE(client_->GetAll(put.caps().read()).ok());
  auto depot = client_->Info();
  ASSERT_TRUE(depot.ok());
  EXPECT_EQ(depot->used_bytes(), put.info().size_bytes());
  EXPECT_EQ(depot->capacity_bytes(), 0);
}

}  // namespace
}  // namespace testing
}  // namespace srs
