// A fixture that runs the real srs-rss binary (RssProcess) with an in-process fake depot, and a
// watcher that collects a run's events on a background thread.
#ifndef SRS_TESTS_RSS_RSS_DAEMON_FIXTURE_H_
#define SRS_TESTS_RSS_RSS_DAEMON_FIXTURE_H_

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "rss/client/rss_client.h"
#include "rss/testing/fake_depot.h"
#include "rss/testing/rss_process.h"
#include "tests/rss/rss_test_util.h"

namespace srs {

// Runs WatchRun on a thread until Stop(); records events and the final status.
class Watcher {
 public:
  Watcher(RssClient* client, std::string token) {
    thread_ = std::thread([this, client, token] {
      absl::Status status = client->WatchRun(
          token,
          [this](const rss::v1::RunEvent& event) {
            absl::MutexLock lock(&mu_);
            events_.push_back(event);
          },
          &ctx_);
      absl::MutexLock lock(&mu_);
      final_ = status;
      done_ = true;
    });
  }
  ~Watcher() { Stop(); }
  void Stop() {
    ctx_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }
  // Waits for an event of `kind`; returns its request id, or -1 on timeout.
  int64_t WaitFor(rss::v1::RunEvent::Kind kind, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    int64_t found = -1;
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const auto& event : events_) {
        if (event.kind() == kind) found = event.request_id();
      }
      return found != -1 || done_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
    return found;
  }
  // Waits for the stream to end; returns its status (DEADLINE_EXCEEDED if it did not).
  absl::Status WaitDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&done_), timeout)) {
      return absl::DeadlineExceededError("watch still open");
    }
    return final_;
  }

 private:
  grpc::ClientContext ctx_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<rss::v1::RunEvent> events_ ABSL_GUARDED_BY(mu_);
  absl::Status final_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

class RssDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto depot = FakeDepot::Start();
    ASSERT_TRUE(depot.ok()) << depot.status();
    depot_ = std::move(*depot);
    StartRss();
  }

  // RegisterRun as the jobs' owner: presents the owner secret the job's first registration
  // returned (the library keeps it in its owner file the same way).
  absl::StatusOr<rss::v1::RegisterRunResponse> RegisterOwned(rss::v1::RegisterRunRequest req) {
    auto owner = owners_.find(req.job());
    if (owner != owners_.end()) req.set_owner_secret(owner->second);
    auto resp = client_->RegisterRun(req);
    if (resp.ok() && !resp->owner_secret().empty()) owners_[req.job()] = resp->owner_secret();
    return resp;
  }

  void StartRss() {
    RssProcess::Options options;
    options.binary = SRS_RSS_BINARY;
    options.state_dir = dir_.path() + "/state";
    options.lease_seconds = lease_seconds_;
    auto rss = RssProcess::Start(options);
    ASSERT_TRUE(rss.ok()) << rss.status();
    rss_ = std::move(*rss);
    auto client = RssClient::Connect(rss_->address(), absl::Seconds(10));
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    auto token = ReadAdminToken(options.state_dir + "/admin.token");
    ASSERT_TRUE(token.ok()) << token.status();
    admin_ = *token;
  }

  // kill -9, then a restart on the same state dir.
  void CrashAndRestart() {
    rss_->Kill9();
    client_.reset();
    StartRss();
  }

  absl::StatusOr<rss::v1::GetJobResponse> Job(const std::string& job) {
    rss::v1::GetJobRequest req;
    req.set_admin_token(admin_);
    req.set_job(job);
    return client_->GetJob(req);
  }

  std::string CheckpointState(const std::string& job, int64_t epoch) {
    auto got = Job(job);
    if (!got.ok()) return std::string(got.status().message());
    for (const auto& ckpt : got->checkpoints()) {
      if (ckpt.epoch() == epoch) return ckpt.state();
    }
    return "absent";
  }

  absl::StatusOr<int64_t> RequestStop(const std::string& job) {
    rss::v1::RequestStopRequest req;
    req.set_admin_token(admin_);
    req.set_job(job);
    auto resp = client_->RequestStop(req);
    if (!resp.ok()) return resp.status();
    return resp->request_id();
  }

  absl::Status Commit(const std::string& token, int64_t epoch) {
    rss::v1::CommitCheckpointRequest req;
    req.set_run_token(token);
    req.set_epoch(epoch);
    return client_->CommitCheckpoint(req).status();
  }

  double lease_seconds_ = 1;
  testing_util::TempDir dir_;
  std::unique_ptr<FakeDepot> depot_;
  std::unique_ptr<RssProcess> rss_;
  std::unique_ptr<RssClient> client_;
  std::map<std::string, std::string> owners_;  // job -> owner secret
  std::string admin_;
};

}  // namespace srs

#endif  // SRS_TESTS_RSS_RSS_DAEMON_FIXTURE_H_
