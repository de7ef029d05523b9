// The authorization matrix of srs.depot.v1: every RPC of the service, read from its protobuf
// ServiceDescriptor (a new RPC without a row here fails the test), called with each kind of
// credential against a real in-process depot server over gRPC, and the status it must get.
//
// Credentials, per kind of RPC:
//   writes and ListJob (a write grant):  none = no grant; garbage = a grant with a random MAC;
//     another job's = a valid grant of another job; expired = a correctly signed grant whose
//     expiry has passed; right = the grant the RSS would issue for the piece.
//   capability RPCs (Get, ReadRange, OpenLocal, Stat, Delete, Renew): none = ""; garbage = a
//     malformed string; another job's = the victim's piece id with another job's secret;
//     expired = the capability of a piece that was deleted; right = the piece's capability.
//   AbortLocalPut (the put id is a bearer secret): none = ""; garbage = random; another job's =
//     the id of another job's put with one character changed; expired = an aborted put's id.
//   Info: public (identity and usage only).
//   Replicate: the capability kinds above for the manage capability, with a right grant and a
//     real second depot as the target (the grant and target checks: tests/depot/replicate_test).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/checksum.h"
#include "common/piece_format.h"
#include "depot/depot_server.h"
#include "tests/depot/conformance.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace {

namespace v1 = ::srs::depot::v1;
using testing::Key;
using testing::MakePieceImage;

enum Cred { kNone, kGarbage, kOtherJob, kExpired, kRight, kCredCount };
const char* const kCredNames[] = {"none", "garbage", "another job's", "expired", "right"};
using Codes = std::array<grpc::StatusCode, kCredCount>;

constexpr grpc::StatusCode OK = grpc::StatusCode::OK;
constexpr grpc::StatusCode UNAUTH = grpc::StatusCode::UNAUTHENTICATED;
constexpr grpc::StatusCode DENIED = grpc::StatusCode::PERMISSION_DENIED;
constexpr grpc::StatusCode NOT_FOUND = grpc::StatusCode::NOT_FOUND;

class DepotAuthMatrixTest : public ::testing::Test {
 public:  // the matrix takes the Call* members' addresses
  void SetUp() override {
    char tmpl[] = "/tmp/srs-depot-matrix.XXXXXX";
    dir_ = mkdtemp(tmpl);
    depot::DepotServerOptions options;
    options.dir = dir_ + "/depot";
    options.grant_key = key_;
    server_ = std::move(depot::DepotServer::Start(options)).value();
    stub_ = v1::Depot::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    options.dir = dir_ + "/target";
    target_ = std::move(depot::DepotServer::Start(options)).value();
  }
  void TearDown() override {
    server_.reset();
    target_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  // A grant of the given kind for `piece`.
  v1::WriteGrant Grant(Cred cred, const v1::PieceKey& piece) {
    switch (cred) {
      case kNone:
        return v1::WriteGrant();
      case kGarbage: {
        v1::WriteGrant g = testing::GrantFor(key_, piece);
        g.set_mac(std::string(32, 'g'));
        return g;
      }
      case kOtherJob:
        return testing::GrantFor(key_, Key("other-job", piece.epoch(), piece.rank()));
      case kExpired:
        return key_.Mint(
            {piece.job(), piece.epoch(), piece.rank(), "", absl::Now() - absl::Seconds(1)});
      default:
        return testing::GrantFor(key_, piece);
    }
  }
  v1::PieceKey Fresh() { return Key("victim", ++epoch_, 0); }

  // Stores a piece of the victim (with a right grant) and returns its capabilities.
  v1::Capabilities Victim() {
    v1::PieceKey key = Fresh();
    std::string image = MakePieceImage(key, 64);
    grpc::ClientContext context;
    v1::PutResponse response;
    auto writer = stub_->Put(&context, &response);
    v1::PutRequest request;
    *request.mutable_header()->mutable_key() = key;
    *request.mutable_header()->mutable_grant() = Grant(kRight, key);
    writer->Write(request);
    request.set_chunk(image);
    writer->Write(request);
    request.mutable_trailer()->set_xxh3_64(Xxh3(image.data(), image.size()));
    request.mutable_trailer()->set_total_bytes(static_cast<int64_t>(image.size()));
    writer->Write(request);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.caps();
  }

  // A capability of the given kind; `manage` picks which of the victim's it is.
  std::string Cap(Cred cred, bool manage) {
    switch (cred) {
      case kNone:
        return "";
      case kGarbage:
        return "not-a-capability";
      case kOtherJob: {
        v1::Capabilities mine = Victim(), theirs = Other();
        std::string id = (manage ? mine.manage() : mine.read()).substr(0, 16);
        std::string secret = (manage ? theirs.manage() : theirs.read()).substr(16);
        return id + secret;
      }
      case kExpired: {
        v1::Capabilities gone = Victim();
        grpc::ClientContext context;
        v1::DeleteRequest del;
        del.set_manage_cap(gone.manage());
        v1::DeleteResponse out;
        EXPECT_TRUE(stub_->Delete(&context, del, &out).ok());
        return manage ? gone.manage() : gone.read();
      }
      default: {
        v1::Capabilities caps = Victim();
        return manage ? caps.manage() : caps.read();
      }
    }
  }
  v1::Capabilities Other() {
    v1::PieceKey key = Key("other-job", ++epoch_, 0);
    std::string image = MakePieceImage(key, 64);
    grpc::ClientContext context;
    v1::PutResponse response;
    auto writer = stub_->Put(&context, &response);
    v1::PutRequest request;
    *request.mutable_header()->mutable_key() = key;
    *request.mutable_header()->mutable_grant() = Grant(kRight, key);
    writer->Write(request);
    request.set_chunk(image);
    writer->Write(request);
    request.mutable_trailer()->set_xxh3_64(Xxh3(image.data(), image.size()));
    request.mutable_trailer()->set_total_bytes(static_cast<int64_t>(image.size()));
    writer->Write(request);
    writer->WritesDone();
    EXPECT_TRUE(writer->Finish().ok());
    return response.caps();
  }

  // A local put begun with a right grant; returns its response.
  v1::BeginLocalPutResponse BeginLocal(const v1::PieceKey& key) {
    grpc::ClientContext context;
    v1::BeginLocalPutRequest request;
    *request.mutable_header()->mutable_key() = key;
    request.mutable_header()->set_size_hint(1 << 20);
    *request.mutable_header()->mutable_grant() = Grant(kRight, key);
    v1::BeginLocalPutResponse response;
    grpc::Status status = stub_->BeginLocalPut(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::StatusCode CallPut(Cred cred) {
    v1::PieceKey key = Fresh();
    std::string image = MakePieceImage(key, 64);
    grpc::ClientContext context;
    v1::PutResponse response;
    auto writer = stub_->Put(&context, &response);
    v1::PutRequest request;
    *request.mutable_header()->mutable_key() = key;
    *request.mutable_header()->mutable_grant() = Grant(cred, key);
    writer->Write(request);
    request.set_chunk(image);
    writer->Write(request);
    request.mutable_trailer()->set_xxh3_64(Xxh3(image.data(), image.size()));
    request.mutable_trailer()->set_total_bytes(static_cast<int64_t>(image.size()));
    writer->Write(request);
    writer->WritesDone();
    return writer->Finish().error_code();
  }
  grpc::StatusCode CallBeginLocalPut(Cred cred) {
    v1::PieceKey key = Fresh();
    grpc::ClientContext context;
    v1::BeginLocalPutRequest request;
    *request.mutable_header()->mutable_key() = key;
    *request.mutable_header()->mutable_grant() = Grant(cred, key);
    v1::BeginLocalPutResponse response;
    grpc::StatusCode code = stub_->BeginLocalPut(&context, request, &response).error_code();
    // Refused: no spool file was handed out.
    if (code != OK) {
      EXPECT_TRUE(response.spool_path().empty());
    }
    return code;
  }
  grpc::StatusCode CallCommitLocalPut(Cred cred) {
    v1::PieceKey key = Fresh();
    v1::BeginLocalPutResponse begun = BeginLocal(key);
    piece::PieceHeader header{key.job(), key.epoch(), key.rank(), 1, ""};
    std::vector<double> u(8, 1.5);
    EXPECT_TRUE(piece::WritePieceFile(begun.spool_path(), header,
                                      {{"u", ElementType::kDouble, u.data(), 8, 8, "none", {}}})
                    .ok());
    grpc::ClientContext context;
    v1::CommitLocalPutRequest request;
    request.set_put_id(begun.put_id());
    *request.mutable_grant() = Grant(cred, key);
    v1::PutResponse response;
    return stub_->CommitLocalPut(&context, request, &response).error_code();
  }
  grpc::StatusCode CallAbortLocalPut(Cred cred) {
    v1::BeginLocalPutResponse begun = BeginLocal(Fresh());
    std::string id = begun.put_id();
    if (cred == kNone) id = "";
    if (cred == kGarbage) id = "0123456789abcdef0123456789abcdef";
    if (cred == kOtherJob) {
      id = BeginLocal(Key("other-job", ++epoch_, 0)).put_id();
      id[0] = id[0] == '0' ? '1' : '0';
    }
    if (cred == kExpired) {
      grpc::ClientContext context;
      v1::AbortLocalPutRequest abort;
      abort.set_put_id(id);
      v1::AbortLocalPutResponse out;
      EXPECT_TRUE(stub_->AbortLocalPut(&context, abort, &out).ok());
    }
    grpc::ClientContext context;
    v1::AbortLocalPutRequest request;
    request.set_put_id(id);
    v1::AbortLocalPutResponse response;
    return stub_->AbortLocalPut(&context, request, &response).error_code();
  }
  grpc::StatusCode CallGet(Cred cred) {
    grpc::ClientContext context;
    v1::GetRequest request;
    request.set_read_cap(Cap(cred, false));
    auto reader = stub_->Get(&context, request);
    v1::DataChunk chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish().error_code();
  }
  grpc::StatusCode CallReadRange(Cred cred) {
    grpc::ClientContext context;
    v1::ReadRangeRequest request;
    request.set_read_cap(Cap(cred, false));
    request.set_dataset("u");
    request.set_wire_type("double");
    *request.add_selections() = [] {
      v1::Hyperslab s;
      s.set_start(0), s.set_stride(1), s.set_count(1), s.set_block(4);
      return s;
    }();
    auto reader = stub_->ReadRange(&context, request);
    v1::DataChunk chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish().error_code();
  }
  grpc::StatusCode CallOpenLocal(Cred cred) {
    grpc::ClientContext context;
    v1::OpenLocalRequest request;
    request.set_read_cap(Cap(cred, false));
    v1::OpenLocalResponse response;
    return stub_->OpenLocal(&context, request, &response).error_code();
  }
  grpc::StatusCode CallStat(Cred cred) {
    grpc::ClientContext context;
    v1::StatRequest request;
    request.set_cap(Cap(cred, false));
    v1::PieceInfo response;
    return stub_->Stat(&context, request, &response).error_code();
  }
  grpc::StatusCode CallDelete(Cred cred) {
    grpc::ClientContext context;
    v1::DeleteRequest request;
    request.set_manage_cap(Cap(cred, true));
    v1::DeleteResponse response;
    return stub_->Delete(&context, request, &response).error_code();
  }
  grpc::StatusCode CallRenew(Cred cred) {
    grpc::ClientContext context;
    v1::RenewRequest request;
    request.add_manage_caps(Cap(cred, true));
    request.set_lease_seconds(60);
    v1::RenewResponse response;
    return stub_->Renew(&context, request, &response).error_code();
  }
  grpc::StatusCode CallListJob(Cred cred) {
    Victim();
    grpc::ClientContext context;
    v1::ListJobRequest request;
    request.set_job("victim");
    *request.mutable_grant() = Grant(cred, Key("victim", 0, 0));
    v1::ListJobResponse response;
    grpc::StatusCode code = stub_->ListJob(&context, request, &response).error_code();
    if (code != OK) {
      EXPECT_EQ(response.pieces_size(), 0);  // nothing leaks with a refusal
    }
    return code;
  }
  grpc::StatusCode CallReplicate(Cred cred) {
    std::string cap = Cap(cred, true);  // the victim's key is the newest epoch's
    v1::ReplicateRequest request;
    *request.mutable_key() = Key("victim", epoch_, 0);
    request.set_manage_cap(cap);
    request.set_target_address(target_->address());
    v1::DepotInfo target;
    {
      grpc::ClientContext context;
      v1::Depot::NewStub(
          grpc::CreateChannel(target_->address(), grpc::InsecureChannelCredentials()))
          ->Info(&context, v1::InfoRequest(), &target);
    }
    request.set_target_depot_id(target.depot_id());
    *request.mutable_grant() = Grant(kRight, request.key());
    grpc::ClientContext context;
    v1::PutResponse response;
    return stub_->Replicate(&context, request, &response).error_code();
  }
  grpc::StatusCode CallInfo(Cred) {
    grpc::ClientContext context;
    v1::DepotInfo response;
    return stub_->Info(&context, v1::InfoRequest(), &response).error_code();
  }

  std::string dir_;
  GrantKey key_ = GrantKey::Generate();
  std::unique_ptr<depot::DepotServer> server_;
  std::unique_ptr<depot::DepotServer> target_;  // Replicate's target
  std::unique_ptr<v1::Depot::Stub> stub_;
  int64_t epoch_ = 0;
};

TEST_F(DepotAuthMatrixTest, EveryRpcTimesEveryCredential) {
  using Call = grpc::StatusCode (DepotAuthMatrixTest::*)(Cred);
  struct Row {
    Call call;
    Codes expected;  // none, garbage, another job's, expired, right
  };
  const Codes kGranted = {UNAUTH, DENIED, DENIED, DENIED, OK};
  const Codes kCapability = {DENIED, DENIED, DENIED, NOT_FOUND, OK};
  const std::map<std::string, Row> matrix = {
      {"Put", {&DepotAuthMatrixTest::CallPut, kGranted}},
      {"BeginLocalPut", {&DepotAuthMatrixTest::CallBeginLocalPut, kGranted}},
      {"CommitLocalPut", {&DepotAuthMatrixTest::CallCommitLocalPut, kGranted}},
      {"AbortLocalPut",
       {&DepotAuthMatrixTest::CallAbortLocalPut, {NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK}}},
      {"Get", {&DepotAuthMatrixTest::CallGet, kCapability}},
      {"ReadRange", {&DepotAuthMatrixTest::CallReadRange, kCapability}},
      {"OpenLocal", {&DepotAuthMatrixTest::CallOpenLocal, kCapability}},
      {"Stat", {&DepotAuthMatrixTest::CallStat, kCapability}},
      {"Delete", {&DepotAuthMatrixTest::CallDelete, kCapability}},
      {"Renew", {&DepotAuthMatrixTest::CallRenew, kCapability}},
      {"ListJob", {&DepotAuthMatrixTest::CallListJob, kGranted}},
      {"Info", {&DepotAuthMatrixTest::CallInfo, {OK, OK, OK, OK, OK}}},
      {"Replicate", {&DepotAuthMatrixTest::CallReplicate, kCapability}},
  };
  const google::protobuf::ServiceDescriptor* service =
      v1::DepotInfo::descriptor()->file()->FindServiceByName("Depot");
  ASSERT_NE(service, nullptr);
  std::set<std::string> seen;
  int cells = 0;
  for (int m = 0; m < service->method_count(); ++m) {
    const std::string name = service->method(m)->name();
    seen.insert(name);
    auto row = matrix.find(name);
    if (row == matrix.end()) {
      ADD_FAILURE() << "srs.depot.v1.Depot/" << name
                    << " has no row in the authorization matrix: decide who may call it";
      continue;
    }
    for (int c = 0; c < kCredCount; ++c) {
      grpc::StatusCode got = (this->*row->second.call)(static_cast<Cred>(c));
      EXPECT_EQ(got, row->second.expected[c]) << name << " with " << kCredNames[c] << " credential";
      ++cells;
    }
  }
  for (const auto& [name, row] : matrix) {
    EXPECT_TRUE(seen.count(name)) << name << " is in the matrix but not in the service";
  }
  EXPECT_EQ(cells, service->method_count() * kCredCount);
  std::printf("depot authorization matrix: %d RPCs x %d credentials = %d cells\n",
              service->method_count(), static_cast<int>(kCredCount), cells);
}

}  // namespace
}  // namespace srs
