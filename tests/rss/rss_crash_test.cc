// kill -9 of the real srs-rss at several points of the checkpoint protocol, in a loop, each time
// restarting on the same --state: committed checkpoints, configurations and a pending stop must
// all be there; a half-reported checkpoint (or one whose commit was cut short) must never be
// committed; every acknowledged report must have been durable.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <set>

#include "tests/rss/rss_daemon_fixture.h"

namespace srs {
namespace {

// Polls `done` every millisecond until it holds or `limit` has passed (a deadline, not a timing
// assertion: the load on a shared CI machine decides how long things take).
bool WaitUntil(const std::function<bool()>& done, absl::Duration limit) {
  absl::Time deadline = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

namespace v1 = rss::v1;
using testing_util::BeginRequest;
using testing_util::Piece;
using testing_util::Report;
using testing_util::RunRequest;

constexpr int kRanks = 8;
constexpr char kJob[] = "crashy";

class RssCrashTest : public RssDaemonTest {
 protected:
  void SetUp() override {
    lease_seconds_ = 2;
    RssDaemonTest::SetUp();
  }

  void Register() {
    auto run =
        RegisterOwned(RunRequest(kJob, kRanks, depot_->address(), v1::REGISTER_AUTO, /*keep=*/2));
    ASSERT_TRUE(run.ok()) << run.status();
    if (!committed_.empty()) {
      ASSERT_TRUE(run->restart());
      EXPECT_EQ(run->manifest().epoch(), *committed_.rbegin());
    }
    token_ = run->run_token();
    ++runs_;
  }

  int64_t Begin(v1::CheckpointReason reason) {
    auto epoch = client_->BeginCheckpoint(BeginRequest(token_, kRanks, reason, 2));
    EXPECT_TRUE(epoch.ok()) << epoch.status();
    return epoch.ok() ? epoch->epoch() : -1;
  }

  void ReportRanks(int64_t epoch, int first, int last) {
    ASSERT_TRUE(client_->ReportPieces(Report(token_, epoch, first, last, depot_->address())).ok());
  }

  void CommitOk(int64_t epoch) {
    absl::Status status = Commit(token_, epoch);
    ASSERT_TRUE(status.ok()) << status;
    committed_.insert(epoch);
    while (committed_.size() > 2) committed_.erase(committed_.begin());  // keep = 2
  }

  // What must hold after every restart.
  void CheckInvariants(int64_t pending_epoch, int reported) {
    auto job = Job(kJob);
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_EQ(job->runs_size(), runs_);
    for (const auto& run : job->runs()) EXPECT_EQ(run.ranks_size(), kRanks);
    std::set<int64_t> committed;
    for (const auto& ckpt : job->checkpoints()) {
      if (ckpt.state() == "committed") {
        committed.insert(ckpt.epoch());
        ASSERT_EQ(ckpt.pieces_size(), kRanks);
        for (const auto& piece : ckpt.pieces()) {
          EXPECT_EQ(piece.read_cap(), Piece(piece.rank(), ckpt.epoch(), "").read_cap());
        }
      }
      if (ckpt.epoch() == pending_epoch) {
        EXPECT_EQ(ckpt.state(), "pending");
        EXPECT_EQ(ckpt.pieces_size(), reported);
      }
    }
    EXPECT_EQ(committed, committed_);
  }

 public:  // one per crash point; public so the test can list them as member pointers
  void CrashBetweenReports();
  void CrashBeforeCommit();
  void CrashAfterCommit();
  void CrashWithPendingStop();
  void CrashDuringReportStream();
  void CrashWhilePinning();

 protected:
  std::string token_;
  std::set<int64_t> committed_;
  int runs_ = 0;
};

// Crash point 0: between reports.
void RssCrashTest::CrashBetweenReports() {
  int64_t epoch = Begin(v1::REASON_PERIODIC);
  ReportRanks(epoch, 0, kRanks / 2);
  CrashAndRestart();
  CheckInvariants(epoch, kRanks / 2);
  EXPECT_EQ(Commit(token_, epoch).code(), absl::StatusCode::kFailedPrecondition);
  v1::AbortCheckpointRequest abort;
  abort.set_run_token(token_);
  abort.set_epoch(epoch);
  ASSERT_TRUE(client_->AbortCheckpoint(abort).ok());
  EXPECT_EQ(CheckpointState(kJob, epoch), "discarded");
}

// Crash point 1: all reported, before commit: the reports were durable.
void RssCrashTest::CrashBeforeCommit() {
  int64_t epoch = Begin(v1::REASON_PERIODIC);
  ReportRanks(epoch, 0, kRanks);
  CrashAndRestart();
  CheckInvariants(epoch, kRanks);
  CommitOk(epoch);
}

// Crash point 2: right after the commit was acknowledged.
void RssCrashTest::CrashAfterCommit() {
  int64_t epoch = Begin(v1::REASON_REQUESTED);
  ReportRanks(epoch, 0, kRanks);
  CommitOk(epoch);
  CrashAndRestart();
  CheckInvariants(-1, 0);
}

// Crash point 3: with a pending stop, then the stop checkpoint and a restart of the job.
void RssCrashTest::CrashWithPendingStop() {
  auto stop = RequestStop(kJob);
  ASSERT_TRUE(stop.ok()) << stop.status();
  CrashAndRestart();
  CheckInvariants(-1, 0);
  EXPECT_TRUE(Job(kJob)->summary().stop_pending());
  {
    Watcher watcher(client_.get(), token_);
    EXPECT_EQ(watcher.WaitFor(v1::RunEvent::STOP, absl::Seconds(5)), *stop);
  }
  int64_t epoch = Begin(v1::REASON_STOP);
  ReportRanks(epoch, 0, kRanks);
  CommitOk(epoch);
  EXPECT_EQ(Job(kJob)->summary().state(), "stopped");
  Register();
}

// Crash point 4: during a stream of one-rank reports: every acknowledged one survives.
void RssCrashTest::CrashDuringReportStream() {
  int64_t epoch = Begin(v1::REASON_PERIODIC);
  std::atomic<int> acked{0};
  std::thread reporter([&] {
    for (int rank = 0; rank < kRanks; ++rank) {
      if (!client_->ReportPieces(Report(token_, epoch, rank, rank + 1, depot_->address())).ok()) {
        return;
      }
      acked = rank + 1;
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  bool reached = WaitUntil([&] { return acked >= 3; }, absl::Seconds(60));
  rss_->Kill9();
  reporter.join();
  ASSERT_TRUE(reached) << "only " << acked << " reports acknowledged in 60 s";
  int before = acked;
  client_.reset();
  StartRss();
  auto job = Job(kJob);
  ASSERT_TRUE(job.ok());
  for (const auto& ckpt : job->checkpoints()) {
    if (ckpt.epoch() != epoch) continue;
    EXPECT_EQ(ckpt.state(), "pending");
    EXPECT_GE(ckpt.pieces_size(), before);
  }
  ReportRanks(epoch, 0, kRanks);  // the library's retry: identical reports are accepted
  CommitOk(epoch);
  CheckInvariants(-1, 0);
}

// Crash point 5: while the commit is pinning pieces on a slow depot.
void RssCrashTest::CrashWhilePinning() {
  int64_t epoch = Begin(v1::REASON_PERIODIC);
  ReportRanks(epoch, 0, kRanks);
  // The slow pin outlasts the lease: hold it with a watch, as the library does.
  Watcher watcher(client_.get(), token_);
  ASSERT_NE(watcher.WaitFor(v1::RunEvent::KEEPALIVE, absl::Seconds(5)), -1);
  depot_->set_renew_delay(absl::Seconds(3));
  int renews = depot_->renew_calls();
  std::thread committer([&] { Commit(token_, epoch).IgnoreError(); });
  bool pinning = WaitUntil([&] { return depot_->renew_calls() != renews; }, absl::Seconds(60));
  rss_->Kill9();
  committer.join();
  ASSERT_TRUE(pinning) << "the commit never started pinning in 60 s";
  watcher.Stop();
  depot_->set_renew_delay(absl::ZeroDuration());
  client_.reset();
  StartRss();
  CheckInvariants(epoch, kRanks);  // still pending, nothing lost
  CommitOk(epoch);                 // the library's retry
  CheckInvariants(-1, 0);
}

TEST_F(RssCrashTest, KillNineAtEveryProtocolPointLosesNothingCommitted) {
  Register();
  const std::vector<void (RssCrashTest::*)()> points = {
      &RssCrashTest::CrashBetweenReports,     &RssCrashTest::CrashBeforeCommit,
      &RssCrashTest::CrashAfterCommit,        &RssCrashTest::CrashWithPendingStop,
      &RssCrashTest::CrashDuringReportStream, &RssCrashTest::CrashWhilePinning};
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round, " point ", round % points.size()));
    (this->*points[round % points.size()])();
    if (HasFatalFailure()) return;
  }
}

// rss_watch_holder as a child process; SIGKILLed and reaped by the destructor.
class WatchHolder {
 public:
  WatchHolder(const std::string& address, const std::string& token) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      execl(SRS_WATCH_HOLDER, SRS_WATCH_HOLDER, address.c_str(), token.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~WatchHolder() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);  // works on a stopped process too
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  // Reads the child's output until `text` shows up.
  bool WaitFor(const std::string& text, absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (output_.find(text) == std::string::npos && absl::Now() < deadline) {
      pollfd pfd{out_, POLLIN, 0};
      if (poll(&pfd, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(out_, buf, sizeof(buf));
      if (n <= 0) return false;
      output_.append(buf, n);
    }
    return output_.find(text) != std::string::npos;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

// A job whose rank 0 is frozen (SIGSTOP) keeps its TCP connection open; the RSS must still see
// that it stopped answering and mark the run lost once the lease is over.
TEST_F(RssCrashTest, FrozenWatchHolderIsMarkedLostAfterTheLease) {
  Register();
  WatchHolder holder(rss_->address(), token_);
  ASSERT_TRUE(holder.WaitFor("KEEPALIVE", absl::Seconds(10)));
  absl::SleepFor(absl::Seconds(lease_seconds_ + 1));
  EXPECT_EQ(Job(kJob)->summary().state(), "running") << "a live watch must hold the lease";
  ASSERT_EQ(kill(holder.pid(), SIGSTOP), 0);
  absl::Time frozen = absl::Now();
  std::string state = "running";
  // A deadline to give up, not an upper bound on the detection time (that is srs bench's
  // business): loaded machines are slow.
  while (state == "running" && absl::Now() - frozen < absl::Seconds(120)) {
    absl::SleepFor(absl::Milliseconds(100));
    state = Job(kJob)->summary().state();
  }
  absl::Duration took = absl::Now() - frozen;
  EXPECT_EQ(state, "lost") << "after " << took;
  // Never before the lease could have run out (a lower bound holds on any machine).
  EXPECT_GE(took, absl::Seconds(lease_seconds_));
}

}  // namespace
}  // namespace srs
