// The authorization matrix of srs.rss.v1: every RPC of the service (taken from its protobuf
// ServiceDescriptor, so a new RPC without a row fails this test) x every kind of credential
//   none      the credential field empty
//   garbage   a random string where the credential goes
//   other     another job's credential (its run token, its owner secret)
//   ended     the credential of a run that has finished
//   right     the credential that call needs
// -> the expected status, through a real in-process RssServer over gRPC. Every call aims at the
// victim job (its name, its pending epoch); after each call with a wrong credential the
// victim's whole record (runs, checkpoints, pieces, caps) must be exactly as before.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/random.h"
#include "rss/rss_server.h"
#include "srs/rss/v1/rss.grpc.pb.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using testing_util::BeginRequest;
using testing_util::FakeJanitor;
using testing_util::Report;
using testing_util::RunRequest;
using testing_util::TempDir;
using Code = grpc::StatusCode;

enum Cred { kNone, kGarbage, kOther, kEnded, kRight, kCredCount };
const char* const kCredNames[] = {"none", "garbage", "other", "ended", "right"};
constexpr char kDepot[] = "127.0.0.1:9";
constexpr int kRanks = 2;

using Row = std::array<Code, kCredCount>;
constexpr Code OK = Code::OK, UNAUTH = Code::UNAUTHENTICATED, DENIED = Code::PERMISSION_DENIED,
               PRECOND = Code::FAILED_PRECONDITION, NOTFOUND = Code::NOT_FOUND;

// What each call answers. Run calls act on the run whose token they carry: with another job's
// token a call either reaches only that job (OK) or names the victim's epoch, which that run
// does not have (NOT_FOUND / FAILED_PRECONDITION). A finished run can do nothing more (FinishRun
// again is a no-op). RegisterDepot needs an enrollment secret (the admin token or the site
// secret): none is UNAUTHENTICATED, anything else (another job's owner secret) PERMISSION_DENIED.
const std::map<std::string, Row>& Expected() {
  static const std::map<std::string, Row> table = {
      //                          none    garbage other     ended     right
      {"RegisterRun", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"WatchRun", {UNAUTH, DENIED, OK, PRECOND, OK}},
      {"BeginCheckpoint", {UNAUTH, DENIED, OK, PRECOND, OK}},
      {"ReportPieces", {UNAUTH, DENIED, NOTFOUND, NOTFOUND, OK}},
      {"ReportProgress", {UNAUTH, DENIED, NOTFOUND, NOTFOUND, OK}},
      {"CommitCheckpoint", {UNAUTH, DENIED, NOTFOUND, NOTFOUND, OK}},
      {"AbortCheckpoint", {UNAUTH, DENIED, NOTFOUND, NOTFOUND, OK}},
      {"ReportRestart", {UNAUTH, DENIED, OK, PRECOND, OK}},
      {"FinishRun", {UNAUTH, DENIED, OK, OK, OK}},
      {"RegisterDepot", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"RequestStop", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"RequestCheckpoint", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"ListJobs", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"GetJob", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"ListDepots", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"ReportFailure", {UNAUTH, DENIED, OK, OK, OK}},
      {"EndRun", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"RepairJob", {UNAUTH, DENIED, DENIED, DENIED, OK}},
      {"DropCheckpoint", {UNAUTH, DENIED, DENIED, DENIED, OK}},
  };
  return table;
}

// One job's credentials.
struct JobCreds {
  std::string job, owner_secret, run_token;
  int64_t pending_epoch = 0;
};

class RssAuthMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    RssServerOptions options;
    options.state_dir = dir_.path() + "/rss";
    options.janitor = &janitor_;
    auto server = RssServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::Rss::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    victim_ = Register("victim", true);
    other_ = Register("other", true);
    ended_ = Register("ended", false);
    parked_ = Register("parked", false);  // RegisterRun's target: not running, so "right" works
  }

  // Registers a job (its first registration: we become its owner); `pending`: and begins a
  // checkpoint whose epoch the calls aim at.
  JobCreds Register(const std::string& job, bool pending) {
    JobCreds creds;
    creds.job = job;
    v1::RegisterRunResponse resp;
    grpc::Status status =
        Unary(&v1::Rss::Stub::RegisterRun, RunRequest(job, kRanks, kDepot), &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    creds.owner_secret = resp.owner_secret();
    creds.run_token = resp.run_token();
    // Epochs count per job: the victim's pending epoch (4) is one the other job's run never
    // reaches here (its own 1, and 2 from the matrix's BeginCheckpoint with its token).
    for (int i = 0; pending && i < (job == "victim" ? 4 : 1); ++i) {
      creds.pending_epoch = Begin(creds.run_token);
    }
    if (!pending) {  // ended and parked: finished, no checkpoint kept
      v1::FinishRunRequest finish;
      finish.set_run_token(creds.run_token);
      EXPECT_TRUE(Unary(&v1::Rss::Stub::FinishRun, finish).ok());
    }
    return creds;
  }

  int64_t Begin(const std::string& token) {
    v1::BeginCheckpointResponse resp;
    grpc::Status status = Unary(&v1::Rss::Stub::BeginCheckpoint,
                                BeginRequest(token, kRanks, v1::REASON_REQUESTED), &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp.epoch();
  }

  // The credential of kind `cred` for a call whose right credential is `right` (run token, owner
  // secret or admin token) and whose "other"/"ended" ones are taken from those jobs' `field`.
  std::string Pick(Cred cred, const std::string& right,
                   std::string JobCreds::*field = &JobCreds::run_token) {
    switch (cred) {
      case kNone:
        return "";
      case kGarbage:
        return RandomHex(16);
      case kOther:
        return other_.*field;
      case kEnded:
        return ended_.*field;
      default:
        return right;
    }
  }

  // The victim's whole record, as the admin sees it.
  std::string Snapshot() {
    v1::GetJobRequest req;
    req.set_admin_token(server_->admin_token());
    req.set_job("victim");
    v1::GetJobResponse resp;
    grpc::Status status = Unary(&v1::Rss::Stub::GetJob, req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp.SerializeAsString();
  }

  // A unary call with a deadline; the answer goes to `resp` (or is dropped).
  template <typename Req, typename Resp>
  grpc::Status Unary(grpc::Status (v1::Rss::Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                     const Req& req, Resp* resp = nullptr) {
    Resp dropped;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return (stub_.get()->*rpc)(&context, req, resp != nullptr ? resp : &dropped);
  }

  // Calls `method` aimed at the victim with a credential of kind `cred`.
  grpc::Status Invoke(const std::string& method, Cred cred);
  grpc::Status InvokeRunCall(const std::string& method, Cred cred);
  grpc::Status InvokeToolCall(const std::string& method, Cred cred);
  grpc::Status InvokeWatch(Cred cred);

  TempDir dir_;
  FakeJanitor janitor_;
  std::unique_ptr<RssServer> server_;
  std::unique_ptr<v1::Rss::Stub> stub_;
  JobCreds victim_, other_, ended_, parked_;
};

grpc::Status RssAuthMatrix::InvokeWatch(Cred cred) {
  v1::WatchRunRequest req;
  req.set_run_token(Pick(cred, victim_.run_token));
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::RunEvent>> reader = stub_->WatchRun(&context, req);
  v1::RunEvent event;
  if (reader->Read(&event)) {  // the stream is open: that is the answer
    context.TryCancel();
    reader->Finish().IgnoreError();
    return grpc::Status::OK;
  }
  return reader->Finish();
}

// The calls a run makes with its token; the right token is the victim's.
grpc::Status RssAuthMatrix::InvokeRunCall(const std::string& method, Cred cred) {
  std::string token = Pick(cred, victim_.run_token);
  if (method == "WatchRun") return InvokeWatch(cred);
  if (method == "BeginCheckpoint") {
    v1::BeginCheckpointResponse resp;
    grpc::Status status = Unary(&v1::Rss::Stub::BeginCheckpoint,
                                BeginRequest(token, kRanks, v1::REASON_REQUESTED), &resp);
    if (cred == kRight && status.ok()) victim_.pending_epoch = resp.epoch();
    return status;
  }
  if (method == "ReportPieces") {
    return Unary(&v1::Rss::Stub::ReportPieces,
                 Report(token, victim_.pending_epoch, 0, kRanks, kDepot));
  }
  if (method == "ReportProgress") {
    v1::ReportProgressRequest req;
    req.set_run_token(token);
    req.set_epoch(victim_.pending_epoch);
    req.set_done_bytes(1);
    req.set_total_bytes(2);
    return Unary(&v1::Rss::Stub::ReportProgress, req);
  }
  if (method == "CommitCheckpoint") {
    v1::CommitCheckpointRequest req;
    req.set_run_token(token);
    req.set_epoch(victim_.pending_epoch);
    return Unary(&v1::Rss::Stub::CommitCheckpoint, req);
  }
  if (method == "AbortCheckpoint") {
    v1::AbortCheckpointRequest req;
    req.set_run_token(token);
    req.set_epoch(cred == kRight ? Begin(token) : victim_.pending_epoch);
    req.set_reason("matrix");
    return Unary(&v1::Rss::Stub::AbortCheckpoint, req);
  }
  if (method == "ReportRestart") {
    v1::ReportRestartRequest req;
    req.set_run_token(token);
    req.set_bytes(1);
    return Unary(&v1::Rss::Stub::ReportRestart, req);
  }
  if (method == "ReportFailure") {  // acts only on the token's own run
    v1::ReportFailureRequest req;
    req.set_run_token(token);
    req.mutable_failure()->set_rank(0);
    req.mutable_failure()->set_code("INTERNAL");
    req.mutable_failure()->set_message("matrix");
    return Unary(&v1::Rss::Stub::ReportFailure, req);
  }
  v1::FinishRunRequest req;
  req.set_run_token(token);
  return Unary(&v1::Rss::Stub::FinishRun, req);
}

// The tools' calls. Per job: the right credential is the victim's owner secret. Admin-only:
// "other" and "ended" put those jobs' owner secrets where the admin token goes.
grpc::Status RssAuthMatrix::InvokeToolCall(const std::string& method, Cred cred) {
  std::string secret = Pick(cred, victim_.owner_secret, &JobCreds::owner_secret);
  std::string token = Pick(cred, server_->admin_token(), &JobCreds::owner_secret);
  if (method == "RequestStop") {
    v1::RequestStopRequest req;
    req.set_job("victim");
    req.set_owner_secret(secret);
    return Unary(&v1::Rss::Stub::RequestStop, req);
  }
  if (method == "RequestCheckpoint") {
    v1::RequestCheckpointRequest req;
    req.set_job("victim");
    req.set_owner_secret(secret);
    return Unary(&v1::Rss::Stub::RequestCheckpoint, req);
  }
  if (method == "GetJob") {
    v1::GetJobRequest req;
    req.set_job("victim");
    req.set_owner_secret(secret);
    return Unary(&v1::Rss::Stub::GetJob, req);
  }
  if (method == "RepairJob") {  // the victim's pieces sit on no registered depot: problems, OK
    v1::RepairJobRequest req;
    req.set_job("victim");
    req.set_owner_secret(secret);
    return Unary(&v1::Rss::Stub::RepairJob, req);
  }
  if (method == "DropCheckpoint") {  // by then (right credential) the victim's epoch is committed
    v1::DropCheckpointRequest req;
    req.set_job("victim");
    req.set_epoch(victim_.pending_epoch);
    req.set_owner_secret(secret);
    return Unary(&v1::Rss::Stub::DropCheckpoint, req);
  }
  if (method == "ListJobs") {
    v1::ListJobsRequest req;
    req.set_admin_token(token);
    return Unary(&v1::Rss::Stub::ListJobs, req);
  }
  if (method == "EndRun") {  // the launcher of the victim's newest run saw it die (owner or admin)
    v1::GetJobRequest get;
    get.set_job("victim");
    get.set_admin_token(server_->admin_token());
    v1::GetJobResponse job;
    grpc::Status got = Unary(&v1::Rss::Stub::GetJob, get, &job);
    if (!got.ok()) return got;
    v1::EndRunRequest req;
    req.set_owner_secret(secret);
    req.set_job("victim");
    req.set_run_id(job.runs().empty() ? "" : job.runs(job.runs_size() - 1).run_id());
    req.set_reason("matrix");
    return Unary(&v1::Rss::Stub::EndRun, req);
  }
  v1::ListDepotsRequest req;
  req.set_admin_token(token);
  return Unary(&v1::Rss::Stub::ListDepots, req);
}

grpc::Status RssAuthMatrix::Invoke(const std::string& method, Cred cred) {
  static const std::set<std::string> run_calls = {
      "WatchRun",        "BeginCheckpoint", "ReportPieces", "ReportProgress", "CommitCheckpoint",
      "AbortCheckpoint", "ReportRestart",   "FinishRun",    "ReportFailure"};
  static const std::set<std::string> tool_calls = {"RequestStop", "RequestCheckpoint", "GetJob",
                                                   "ListJobs",    "ListDepots",        "EndRun",
                                                   "RepairJob",   "DropCheckpoint"};
  if (run_calls.count(method) != 0) return InvokeRunCall(method, cred);
  if (tool_calls.count(method) != 0) return InvokeToolCall(method, cred);
  if (method == "RegisterRun") {
    v1::RegisterRunRequest req = RunRequest("parked", kRanks, kDepot);
    req.set_owner_secret(Pick(cred, parked_.owner_secret, &JobCreds::owner_secret));
    return Unary(&v1::Rss::Stub::RegisterRun, req);
  }
  if (method == "RegisterDepot") {
    v1::RegisterDepotRequest req;
    req.set_depot_id(absl::StrCat("matrix-", kCredNames[cred]));
    req.set_host("matrix-host");
    req.set_address("127.0.0.1:1");
    // The enrollment secret: the admin token (no site secret file here); other jobs' owner
    // secrets are no enrollment secrets.
    req.set_enroll_secret(Pick(cred, server_->admin_token(), &JobCreds::owner_secret));
    return Unary(&v1::Rss::Stub::RegisterDepot, req);
  }
  return grpc::Status(Code::UNIMPLEMENTED, "the matrix test has no call for " + method);
}

TEST_F(RssAuthMatrix, EveryRpcTimesEveryCredential) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("srs.rss.v1.Rss");
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(static_cast<size_t>(service->method_count()), Expected().size())
      << "the table and the service disagree on the RPCs";
  std::vector<std::string> methods;
  for (int m = 0; m < service->method_count(); ++m) {
    const std::string& name = service->method(m)->name();
    ASSERT_EQ(Expected().count(name), 1u) << "RPC " << name << " has no row in the matrix";
    methods.push_back(name);
  }
  int cells = 0;
  // Wrong credentials first: each must leave the victim exactly as it was.
  for (const std::string& method : methods) {
    for (Cred cred : {kNone, kGarbage, kOther, kEnded}) {
      std::string before = Snapshot();
      grpc::Status status = Invoke(method, cred);
      EXPECT_EQ(status.error_code(), Expected().at(method)[cred])
          << method << " with " << kCredNames[cred] << " credential: " << status.error_message();
      EXPECT_EQ(Snapshot(), before)
          << method << " with " << kCredNames[cred] << " credential changed the victim";
      ++cells;
    }
  }
  // Then the right ones, in an order that keeps the victim's run alive until FinishRun.
  std::vector<std::string> order = {
      "RegisterRun",    "WatchRun",          "BeginCheckpoint", "ReportPieces",
      "ReportProgress", "CommitCheckpoint",  "AbortCheckpoint", "ReportRestart",
      "RegisterDepot",  "RequestCheckpoint", "GetJob",          "RepairJob",
      "DropCheckpoint", "ListJobs",          "ListDepots",      "RequestStop",
      "ReportFailure",  "FinishRun",         "EndRun"};
  ASSERT_EQ(order.size(), methods.size());
  for (const std::string& method : order) {
    grpc::Status status = Invoke(method, kRight);
    EXPECT_EQ(status.error_code(), Expected().at(method)[kRight])
        << method << " with the right credential: " << status.error_message();
    ++cells;
  }
  EXPECT_EQ(cells, service->method_count() * kCredCount);
  std::printf("authorization matrix: %d RPCs x %d credentials = %d cells\n",
              service->method_count(), kCredCount, cells);
}

}  // namespace
}  // namespace srs
