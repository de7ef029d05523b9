// Service tests: the real srs-rss binary through a real gRPC channel (RssClient).
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "absl/synchronization/notification.h"
#include "rss/rss_server.h"
#include "tests/rss/rss_daemon_fixture.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using ::testing::HasSubstr;
using testing_util::BeginRequest;
using testing_util::Report;
using testing_util::RunRequest;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// Calls grpc.health.v1.Health/Check for the whole server (empty service name) through a generic
// stub, so the test needs no generated health code. Returns the serialized response.
absl::StatusOr<std::string> HealthCheck(const std::string& address) {
  grpc::GenericStub stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::ByteBuffer request(nullptr, 0), response;  // HealthCheckRequest{} is empty
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::InternalError("unreadable health response");
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

TEST_F(RssDaemonTest, StopReachesTheWatchAndAStopCheckpointEndsTheRun) {
  auto run = RegisterOwned(RunRequest("heat", 4, depot_->address()));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->lease_seconds(), 1);
  Watcher watcher(client_.get(), run->run_token());
  EXPECT_NE(watcher.WaitFor(v1::RunEvent::KEEPALIVE, absl::Seconds(5)), -1);
  auto stop = RequestStop("heat");
  ASSERT_TRUE(stop.ok()) << stop.status();
  // (How fast STOP arrives is srs bench's business, not a timed assertion's.)
  EXPECT_EQ(watcher.WaitFor(v1::RunEvent::STOP, absl::Seconds(30)), *stop);
  auto epoch = client_->BeginCheckpoint(BeginRequest(run->run_token(), 4, v1::REASON_STOP));
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  ASSERT_TRUE(
      client_->ReportPieces(Report(run->run_token(), epoch->epoch(), 0, 4, depot_->address()))
          .ok());
  ASSERT_TRUE(Commit(run->run_token(), epoch->epoch()).ok());
  EXPECT_TRUE(watcher.WaitDone(absl::Seconds(5)).ok());  // the run stopped: stream ends OK
  EXPECT_EQ(depot_->pinned().size(), 4u);
  auto job = Job("heat");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->summary().state(), "stopped");
  EXPECT_FALSE(job->summary().stop_pending());
  EXPECT_TRUE(job->checkpoints(0).pieces(0).manage_cap().empty());
  auto resumed = RegisterOwned(RunRequest("heat", 2, depot_->address()));
  ASSERT_TRUE(resumed.ok());
  EXPECT_TRUE(resumed->restart());
  EXPECT_EQ(resumed->manifest().pieces_size(), 4);
}

TEST_F(RssDaemonTest, TokensAreChecked) {
  v1::ListJobsRequest list;
  EXPECT_EQ(client_->ListJobs(list).status().code(), absl::StatusCode::kUnauthenticated);
  list.set_admin_token("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(client_->ListJobs(list).status().code(), absl::StatusCode::kPermissionDenied);
  list.set_admin_token(admin_);
  EXPECT_TRUE(client_->ListJobs(list).ok());
  v1::BeginCheckpointRequest begin;
  EXPECT_EQ(client_->BeginCheckpoint(begin).status().code(), absl::StatusCode::kUnauthenticated);
  begin.set_run_token("stale");
  auto denied = client_->BeginCheckpoint(begin);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(denied.status()), HasSubstr(rss_->address()));
  EXPECT_THAT(Message(denied.status()), HasSubstr("BeginCheckpoint"));
  v1::RequestStopRequest stop;
  stop.set_job("heat");
  EXPECT_EQ(client_->RequestStop(stop).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(RssDaemonTest, MalformedAndOutOfOrderRequestsGetClearErrors) {
  auto bad = RegisterOwned(RunRequest("heat", 0, depot_->address()));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto run = RegisterOwned(RunRequest("heat", 4, depot_->address()));
  ASSERT_TRUE(run.ok());
  auto second = RegisterOwned(RunRequest("heat", 4, depot_->address()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(second.status()), HasSubstr("job heat is still running as run heat-1"));
  absl::Status unknown = Commit(run->run_token(), 42);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(unknown), HasSubstr("epoch 42"));
  auto epoch = client_->BeginCheckpoint(BeginRequest(run->run_token(), 4, v1::REASON_PERIODIC));
  ASSERT_TRUE(epoch.ok());
  auto alien = client_->ReportPieces(Report(run->run_token(), epoch->epoch(), 7, 8, "x:1"));
  EXPECT_EQ(alien.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(alien.status()), HasSubstr("rank 7 does not exist"));
  absl::Status early = Commit(run->run_token(), epoch->epoch());
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(early), HasSubstr("ranks 0, 1, 2, 3"));
  v1::RegisterDepotRequest depot;
  EXPECT_EQ(client_->RegisterDepot(depot).status().code(), absl::StatusCode::kUnauthenticated);
  depot.set_enroll_secret(admin_);  // enrolled, but no host nor address
  EXPECT_EQ(client_->RegisterDepot(depot).status().code(), absl::StatusCode::kInvalidArgument);
  auto auto_depot = RegisterOwned(RunRequest("other", 1, "auto"));
  EXPECT_EQ(auto_depot.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(auto_depot.status()), HasSubstr("host 'node0'"));
}

TEST_F(RssDaemonTest, WatchReconnectAfterRestartStillSeesThePendingStop) {
  auto run = RegisterOwned(RunRequest("heat", 2, depot_->address()));
  ASSERT_TRUE(run.ok());
  auto stop = RequestStop("heat");
  ASSERT_TRUE(stop.ok());
  {
    Watcher watcher(client_.get(), run->run_token());
    EXPECT_EQ(watcher.WaitFor(v1::RunEvent::STOP, absl::Seconds(5)), *stop);
    EXPECT_EQ(rss_->Terminate(absl::Seconds(10)), 0);  // graceful: exit code 0
    EXPECT_EQ(watcher.WaitDone(absl::Seconds(5)).code(), absl::StatusCode::kUnavailable);
  }
  StartRss();
  {
    Watcher watcher(client_.get(), run->run_token());
    EXPECT_EQ(watcher.WaitFor(v1::RunEvent::STOP, absl::Seconds(5)), *stop);
    rss_->Kill9();  // and after kill -9 too
    // The watch ends before its client goes (CrashAndRestart destroys the client: a watch still
    // finishing on it read freed memory, 1 run in ~15 under load).
    EXPECT_EQ(watcher.WaitDone(absl::Seconds(5)).code(), absl::StatusCode::kUnavailable);
  }
  CrashAndRestart();  // the RSS is dead already: a new client and a restart on the same state
  Watcher again(client_.get(), run->run_token());
  EXPECT_EQ(again.WaitFor(v1::RunEvent::STOP, absl::Seconds(5)), *stop);
}

TEST_F(RssDaemonTest, RequestedCheckpointIsDeliveredAndClearedByItsCommit) {
  auto run = RegisterOwned(RunRequest("heat", 1, depot_->address()));
  ASSERT_TRUE(run.ok());
  Watcher watcher(client_.get(), run->run_token());
  v1::RequestCheckpointRequest req;
  req.set_admin_token(admin_);
  req.set_job("heat");
  auto asked = client_->RequestCheckpoint(req);
  ASSERT_TRUE(asked.ok());
  EXPECT_EQ(watcher.WaitFor(v1::RunEvent::CHECKPOINT, absl::Seconds(5)), asked->request_id());
  auto begin = BeginRequest(run->run_token(), 1, v1::REASON_REQUESTED);
  begin.set_request_id(asked->request_id());
  auto epoch = client_->BeginCheckpoint(begin);
  ASSERT_TRUE(epoch.ok());
  ASSERT_TRUE(
      client_->ReportPieces(Report(run->run_token(), epoch->epoch(), 0, 1, depot_->address()))
          .ok());
  ASSERT_TRUE(Commit(run->run_token(), epoch->epoch()).ok());
  auto again = client_->RequestCheckpoint(req);
  ASSERT_TRUE(again.ok());
  EXPECT_GT(again->request_id(), asked->request_id());   // the first one was cleared
  EXPECT_EQ(Job("heat")->summary().state(), "running");  // a checkpoint does not stop the run
}

TEST_F(RssDaemonTest, RunWithoutWatchIsLostAfterTheLeaseAndItsHalfCheckpointDiscarded) {
  auto run = RegisterOwned(RunRequest("heat", 4, depot_->address()));
  ASSERT_TRUE(run.ok());
  auto epoch = client_->BeginCheckpoint(BeginRequest(run->run_token(), 4, v1::REASON_PERIODIC));
  ASSERT_TRUE(epoch.ok());
  ASSERT_TRUE(
      client_->ReportPieces(Report(run->run_token(), epoch->epoch(), 0, 4, depot_->address()))
          .ok());
  ASSERT_TRUE(Commit(run->run_token(), epoch->epoch()).ok());
  auto half = client_->BeginCheckpoint(BeginRequest(run->run_token(), 4, v1::REASON_PERIODIC));
  ASSERT_TRUE(
      client_->ReportPieces(Report(run->run_token(), half->epoch(), 0, 2, depot_->address())).ok());
  {
    Watcher watcher(client_.get(), run->run_token());
    EXPECT_NE(watcher.WaitFor(v1::RunEvent::KEEPALIVE, absl::Seconds(5)), -1);
    absl::SleepFor(absl::Seconds(1.6));  // longer than the lease: the open stream holds it
    EXPECT_EQ(Job("heat")->summary().state(), "running");
    auto refused = RegisterOwned(RunRequest("heat", 4, depot_->address()));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  }  // the stream breaks, as when rank 0 dies
  // The server notices within a keepalive tick (1 s), then the lease (1 s) runs out.
  absl::Time broke = absl::Now();
  auto job = Job("heat");
  while (job.ok() && job->summary().state() == "running" &&
         absl::Now() - broke < absl::Seconds(8)) {
    absl::SleepFor(absl::Milliseconds(100));
    job = Job("heat");
  }
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->summary().state(), "lost");
  EXPECT_GE(absl::Now() - broke, absl::Seconds(1));  // not before the lease
  EXPECT_EQ(job->summary().last_epoch(), epoch->epoch());
  EXPECT_EQ(CheckpointState("heat", half->epoch()), "discarded");
  while (depot_->deleted().size() < 2 && absl::Now() - broke < absl::Seconds(8)) {
    absl::SleepFor(absl::Milliseconds(100));  // the delete queue runs twice a second
  }
  EXPECT_EQ(depot_->deleted().size(), 2u);
  auto resumed = RegisterOwned(RunRequest("heat", 3, depot_->address()));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->manifest().epoch(), epoch->epoch());
}

TEST_F(RssDaemonTest, ForceTakesOverALiveRunOnlyWithTheAdminToken) {
  auto run = RegisterOwned(RunRequest("heat", 2, depot_->address()));
  ASSERT_TRUE(run.ok());
  Watcher watcher(client_.get(), run->run_token());
  ASSERT_NE(watcher.WaitFor(v1::RunEvent::KEEPALIVE, absl::Seconds(5)), -1);
  auto req = RunRequest("heat", 2, depot_->address());
  req.set_force(true);
  EXPECT_EQ(RegisterOwned(req).status().code(), absl::StatusCode::kUnauthenticated);
  req.set_admin_token(admin_);
  auto forced = RegisterOwned(req);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_TRUE(watcher.WaitDone(absl::Seconds(5)).ok());  // the old run's stream ends
  EXPECT_EQ(Job("heat")->runs(0).state(), "lost");
}

TEST_F(RssDaemonTest, HealthServiceAndFinishDeletesEveryPiece) {
  auto health = HealthCheck(rss_->address());
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, std::string("\x08\x01", 2));  // HealthCheckResponse{status: SERVING}
  auto run = RegisterOwned(RunRequest("heat", 3, depot_->address()));
  ASSERT_TRUE(run.ok());
  auto epoch = client_->BeginCheckpoint(BeginRequest(run->run_token(), 3, v1::REASON_PERIODIC));
  ASSERT_TRUE(
      client_->ReportPieces(Report(run->run_token(), epoch->epoch(), 0, 3, depot_->address()))
          .ok());
  ASSERT_TRUE(Commit(run->run_token(), epoch->epoch()).ok());
  depot_->set_down(true);
  v1::FinishRunRequest finish;
  finish.set_run_token(run->run_token());
  ASSERT_TRUE(client_->FinishRun(finish).ok());
  absl::SleepFor(absl::Seconds(1));
  EXPECT_TRUE(depot_->deleted().empty());
  CrashAndRestart();  // the queue is durable
  depot_->set_down(false);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (depot_->deleted().size() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(depot_->deleted().size(), 3u);
  EXPECT_EQ(Job("heat")->summary().state(), "finished");
}

}  // namespace
}  // namespace srs

namespace srs {
namespace {

// The server object embedded in-process (as `srs run` or another test could), with a fake
// janitor: Start on port 0, the admin token file, Shutdown ending open watches.
TEST(RssServerTest, InProcessStartTokenFileAndShutdownEndsWatches) {
  testing_util::TempDir dir;
  testing_util::FakeJanitor janitor;
  RssServerOptions options;
  options.state_dir = dir.path() + "/state";
  options.janitor = &janitor;
  options.lease = absl::Seconds(1);
  auto server = RssServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  struct stat st;
  ASSERT_EQ(stat((options.state_dir + "/admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  for (const char* secret : {"/rss.db", "/rss.db-wal"}) {  // run tokens, manage capabilities
    ASSERT_EQ(stat((options.state_dir + secret).c_str(), &st), 0) << secret;
    EXPECT_EQ(st.st_mode & 0777, 0600) << secret;
  }
  auto token = ReadAdminToken(options.state_dir + "/admin.token");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, (*server)->admin_token());
  EXPECT_EQ(token->size(), 32u);

  auto client = RssClient::Connect((*server)->address(), absl::Seconds(5));
  ASSERT_TRUE(client.ok());
  auto run = (*client)->RegisterRun(testing_util::RunRequest("embedded", 2, "127.0.0.1:1"));
  ASSERT_TRUE(run.ok()) << run.status();
  Watcher watcher(client->get(), run->run_token());
  ASSERT_NE(watcher.WaitFor(rss::v1::RunEvent::KEEPALIVE, absl::Seconds(5)), -1);
  (*server)->Shutdown(absl::Now() + absl::Seconds(5));
  EXPECT_EQ(watcher.WaitDone(absl::Seconds(5)).code(), absl::StatusCode::kUnavailable);
  server->reset();

  // A restart keeps the token, so the tools' token file stays valid.
  auto again = RssServer::Start(options);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->admin_token(), *token);
}

}  // namespace
}  // namespace srs

namespace srs {
namespace {

TEST_F(RssDaemonTest, SecondDaemonOnTheSameStateDirIsRefused) {
  RssProcess::Options options;
  options.binary = SRS_RSS_BINARY;
  options.state_dir = dir_.path() + "/state";
  auto second = RssProcess::Start(options);
  EXPECT_FALSE(second.ok());
  // The first one is unharmed.
  rss::v1::ListJobsRequest list;
  list.set_admin_token(admin_);
  EXPECT_TRUE(client_->ListJobs(list).ok());
}

TEST_F(RssDaemonTest, SeveralJobsCheckpointConcurrently) {
  constexpr int kJobs = 4;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int j = 0; j < kJobs; ++j) {
    threads.emplace_back([&, j] {
      std::string job = absl::StrCat("job", j);
      auto run = RegisterOwned(testing_util::RunRequest(job, 3, depot_->address()));
      if (!run.ok()) return void(++failures);
      for (int round = 0; round < 3; ++round) {
        auto epoch = client_->BeginCheckpoint(
            testing_util::BeginRequest(run->run_token(), 3, rss::v1::REASON_PERIODIC));
        if (!epoch.ok() ||
            !client_
                 ->ReportPieces(testing_util::Report(run->run_token(), epoch->epoch(), 0, 3,
                                                     depot_->address()))
                 .ok() ||
            !Commit(run->run_token(), epoch->epoch()).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  rss::v1::ListJobsRequest list;
  list.set_admin_token(admin_);
  auto jobs = client_->ListJobs(list);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->jobs_size(), kJobs);
  for (const auto& job : jobs->jobs()) EXPECT_EQ(job.last_epoch(), 3) << job.job();
  rss::v1::GetJobRequest get;
  get.set_admin_token(admin_);
  EXPECT_EQ(client_->GetJob(get).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RssDaemonTest, ADepotIdIsBoundToItsIdentityKey) {
  // Anyone enrolled could otherwise register a known depot id at its own address and be sent
  // that depot's capabilities (pins, deletions, repairs).
  auto registration = [&](const std::string& key, const std::string& address) {
    v1::RegisterDepotRequest req;
    req.set_enroll_secret(admin_);
    req.set_depot_id("depot-bound");
    req.set_host("hostA");
    req.set_address(address);
    req.set_identity_key(key);
    return client_->RegisterDepot(req).status();
  };
  auto address_now = [&]() -> std::string {
    v1::ListDepotsRequest list;
    list.set_admin_token(admin_);
    auto depots = client_->ListDepots(list);
    if (!depots.ok()) return depots.status().ToString();
    for (const v1::DepotRecord& depot : depots->depots()) {
      EXPECT_TRUE(depot.identity_hash().empty()) << "the key's hash is never shown";
      if (depot.depot_id() == "depot-bound") return depot.address();
    }
    return "absent";
  };
  ASSERT_TRUE(registration("key-one", "127.0.0.1:7001").ok());
  absl::Status impostor = registration("key-two", "127.0.0.1:7666");
  EXPECT_EQ(impostor.code(), absl::StatusCode::kPermissionDenied) << impostor;
  EXPECT_THAT(std::string(impostor.message()), HasSubstr("belongs to another depot"));
  EXPECT_EQ(registration("", "127.0.0.1:7666").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(address_now(), "127.0.0.1:7001");
  // The depot itself, moved to another port: it keeps its id.
  ASSERT_TRUE(registration("key-one", "127.0.0.1:7002").ok());
  EXPECT_EQ(address_now(), "127.0.0.1:7002");
  // And across an RSS crash (the binding is stored).
  CrashAndRestart();
  EXPECT_EQ(registration("key-two", "127.0.0.1:7666").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(address_now(), "127.0.0.1:7002");
}

}  // namespace
}  // namespace srs
