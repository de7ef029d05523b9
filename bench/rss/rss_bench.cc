// srs-bench-rss: how the RSS copes with a big job. Through the real srs-rss daemon (a child
// process on 127.0.0.1:0, fresh state dir) and fake depots (in-process gRPC servers that accept
// Renew/Delete), it measures, for R simulated ranks x A arrays:
//   - registering a run of R ranks, and a restart that returns a manifest of R pieces;
//   - reporting the R piece records: in one ReportPieces (libsrs gathers them on rank 0), and as
//     one RPC per rank from T client threads (each one an fsynced transaction);
//   - the commit (all ranks checked, pieces pinned on the depots, one SQLite transaction);
//   - stop -> watch latency (RequestStop until the STOP event arrives on an open WatchRun);
//   - the daemon's memory (VmHWM / VmRSS).
// Output: `name: value` lines on stdout.
//
//   srs-bench-rss [--ranks 4096] [--arrays 8] [--depots 4] [--rounds 4] [--threads 8]
//                 [--rss-binary PATH]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "rss/client/rss_client.h"
#include "rss/testing/fake_depot.h"
#include "rss/testing/rss_process.h"

namespace srs {
namespace {

namespace v1 = rss::v1;

// srs-rss next to this executable (an install, wherever its prefix is), else the build tree's.
std::string DefaultRssBinary() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  std::filesystem::path beside = self.parent_path() / "srs-rss";
  if (!error && access(beside.c_str(), X_OK) == 0) return beside.string();
  return SRS_RSS_BINARY;
}

struct Options {
  int ranks = 4096;
  int arrays = 8;
  int depots = 4;
  int rounds = 4;
  int threads = 8;
  std::string binary = DefaultRssBinary();
};

double Seconds(absl::Time since) { return absl::ToDoubleSeconds(absl::Now() - since); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

void Print(const std::string& name, double value) {
  std::printf("%s: %.6g\n", name.c_str(), value);
}

class Bench {
 public:
  explicit Bench(Options options) : options_(std::move(options)) {}
  ~Bench();
  absl::Status Run();

 private:
  absl::Status StartDaemons();
  absl::Status BigJob();
  absl::Status Latencies();
  absl::Status Resources();
  v1::RegisterRunRequest RunRequest(const std::string& job, int ranks) const;
  v1::BeginCheckpointRequest BeginRequest(const std::string& token, v1::CheckpointReason r) const;
  absl::Status ReportAll(const std::string& token, int64_t epoch, bool batched);
  v1::PieceRecord PieceOf(int64_t epoch, int rank) const;
  absl::StatusOr<double> StopToWatchMs(int index);

  Options options_;
  std::vector<std::unique_ptr<FakeDepot>> depots_;
  std::unique_ptr<RssProcess> rss_;
  std::unique_ptr<RssClient> client_;
  std::string admin_;
  std::string dir_;
};

v1::RegisterRunRequest Bench::RunRequest(const std::string& job, int ranks) const {
  v1::RegisterRunRequest req;
  req.set_job(job);
  req.set_nprocs(ranks);
  req.set_keep(1);
  for (int r = 0; r < ranks; ++r) {
    v1::RankPlacement* rank = req.add_ranks();
    rank->set_rank(r);
    rank->set_host(absl::StrCat("node", r / 64));
    rank->set_depot(depots_[r % depots_.size()]->address());
  }
  return req;
}

v1::BeginCheckpointRequest Bench::BeginRequest(const std::string& token,
                                               v1::CheckpointReason reason) const {
  v1::BeginCheckpointRequest req;
  req.set_run_token(token);
  req.set_reason(reason);
  for (int a = 0; a < options_.arrays; ++a) {
    v1::ArraySpec* array = req.add_arrays();
    array->set_name(absl::StrCat("field", a));
    array->set_srs_type("double");
    array->set_global_count(int64_t{1} << 30);
    array->mutable_distribution()->set_kind("block");
    // A block layout: the first (global % ranks) ranks hold one element more (the RSS checks
    // that the local counts add up to the global count).
    int64_t global = int64_t{1} << 30;
    for (int r = 0; r < options_.ranks; ++r) {
      array->add_local_counts(global / options_.ranks + (r < global % options_.ranks ? 1 : 0));
    }
  }
  return req;
}

v1::PieceRecord Bench::PieceOf(int64_t epoch, int r) const {
  v1::PieceRecord piece;
  piece.set_rank(r);
  piece.set_depot_address(depots_[r % depots_.size()]->address());
  piece.set_read_cap(absl::StrCat("p", epoch, "-", r, ".0123456789abcdef0123456789abcdef"));
  piece.set_manage_cap(absl::StrCat("p", epoch, "-", r, ".fedcba9876543210fedcba9876543210"));
  piece.set_size_bytes(8 * ((int64_t{1} << 30) / options_.ranks) * options_.arrays);
  piece.set_xxh3_64(static_cast<uint64_t>(r) * 0x9e3779b97f4a7c15ULL);
  return piece;
}

// Either one ReportPieces with every rank's record (what libsrs does: rank 0 gathers them), or
// one per rank from several client threads (ranks reporting on their own).
absl::Status Bench::ReportAll(const std::string& token, int64_t epoch, bool batched) {
  if (batched) {
    v1::ReportPiecesRequest req;
    req.set_run_token(token);
    req.set_epoch(epoch);
    for (int r = 0; r < options_.ranks; ++r) *req.add_pieces() = PieceOf(epoch, r);
    return client_->ReportPieces(req).status();
  }
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < options_.threads; ++t) {
    threads.emplace_back([&] {
      for (int r = next++; r < options_.ranks && !failed; r = next++) {
        v1::ReportPiecesRequest req;
        req.set_run_token(token);
        req.set_epoch(epoch);
        *req.add_pieces() = PieceOf(epoch, r);
        absl::Status status = client_->ReportPieces(req).status();
        if (!status.ok()) {
          absl::MutexLock lock(&mu);
          first_error = status;
          failed = true;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return first_error;
}

// Registers a one-rank job, opens its watch, asks for a stop, times until STOP arrives.
absl::StatusOr<double> Bench::StopToWatchMs(int index) {
  auto run = client_->RegisterRun(RunRequest(absl::StrCat("watch", index), 1));
  if (!run.ok()) return run.status();
  absl::Notification attached, stopped;
  absl::Time stop_seen;
  grpc::ClientContext ctx;
  std::thread watcher([&] {
    client_
        ->WatchRun(
            run->run_token(),
            [&](const v1::RunEvent& event) {
              if (!attached.HasBeenNotified()) attached.Notify();
              if (event.kind() == v1::RunEvent::STOP && !stopped.HasBeenNotified()) {
                stop_seen = absl::Now();
                stopped.Notify();
              }
            },
            &ctx)
        .IgnoreError();
  });
  attached.WaitForNotificationWithTimeout(absl::Seconds(10));
  v1::RequestStopRequest stop;
  stop.set_admin_token(admin_);
  stop.set_job(absl::StrCat("watch", index));
  absl::Time asked = absl::Now();
  absl::Status status = client_->RequestStop(stop).status();
  bool got = stopped.WaitForNotificationWithTimeout(absl::Seconds(10));
  ctx.TryCancel();
  watcher.join();
  if (!status.ok()) return status;
  if (!got) return absl::DeadlineExceededError("STOP never reached the watch");
  return absl::ToDoubleMilliseconds(stop_seen - asked);
}

absl::Status Bench::StartDaemons() {
  for (int d = 0; d < options_.depots; ++d) {
    auto depot = FakeDepot::Start();
    if (!depot.ok()) return depot.status();
    depots_.push_back(std::move(*depot));
  }
  char pattern[] = "/tmp/srs-bench-rss.XXXXXX";
  if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp failed");
  dir_ = pattern;
  RssProcess::Options rss_options;
  rss_options.binary = options_.binary;
  rss_options.state_dir = dir_ + "/state";
  rss_options.lease_seconds = 30;
  auto rss = RssProcess::Start(rss_options);
  if (!rss.ok()) return rss.status();
  rss_ = std::move(*rss);
  auto client = RssClient::Connect(rss_->address(), absl::Seconds(120));
  if (!client.ok()) return client.status();
  client_ = std::move(*client);
  auto admin = ReadAdminToken(rss_options.state_dir + "/admin.token");
  if (!admin.ok()) return admin.status();
  admin_ = *admin;
  return absl::OkStatus();
}

// Register R ranks, checkpoint `rounds` times (the last one a stop), restart with the manifest.
absl::Status Bench::BigJob() {
  absl::Time start = absl::Now();
  auto run = client_->RegisterRun(RunRequest("big", options_.ranks));
  if (!run.ok()) return run.status();
  Print("rss_register_seconds", Seconds(start));
  std::vector<double> report_per_rank, report_batched, commit;
  for (int round = 0; round < options_.rounds; ++round) {
    bool last = round + 1 == options_.rounds;
    bool batched = round % 2 == 1;
    auto epoch = client_->BeginCheckpoint(
        BeginRequest(run->run_token(), last ? v1::REASON_STOP : v1::REASON_PERIODIC));
    if (!epoch.ok()) return epoch.status();
    start = absl::Now();
    absl::Status reported = ReportAll(run->run_token(), epoch->epoch(), batched);
    if (!reported.ok()) return reported;
    (batched ? report_batched : report_per_rank).push_back(Seconds(start));
    v1::CommitCheckpointRequest req;
    req.set_run_token(run->run_token());
    req.set_epoch(epoch->epoch());
    start = absl::Now();
    absl::Status committed = client_->CommitCheckpoint(req).status();
    if (!committed.ok()) return committed;
    commit.push_back(Seconds(start));
  }
  Print("rss_report_one_rpc_seconds", Median(report_batched));
  Print("rss_report_per_rank_seconds", Median(report_per_rank));
  Print("rss_report_per_rank_rpcs_per_second", options_.ranks / Median(report_per_rank));
  Print("rss_commit_seconds", Median(commit));
  Print("rss_commit_seconds_max", *std::max_element(commit.begin(), commit.end()));
  start = absl::Now();
  v1::RegisterRunRequest again = RunRequest("big", options_.ranks / 2 + 1);
  again.set_owner_secret(run->owner_secret());  // the job's owner resumes it
  auto restart = client_->RegisterRun(again);
  if (!restart.ok()) return restart.status();
  if (restart->manifest().pieces_size() != options_.ranks) {
    return absl::InternalError("restart manifest has the wrong number of pieces");
  }
  Print("rss_restart_register_seconds", Seconds(start));
  Print("rss_manifest_bytes", restart->manifest().ByteSizeLong());
  return absl::OkStatus();
}

absl::Status Bench::Latencies() {
  std::vector<double> small, stop_ms;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<double> ms = StopToWatchMs(i);
    if (!ms.ok()) return ms.status();
    stop_ms.push_back(*ms);
    absl::Time start = absl::Now();
    auto small_run = client_->RegisterRun(RunRequest(absl::StrCat("small", i), 4));
    if (!small_run.ok()) return small_run.status();
    small.push_back(Seconds(start) * 1000);
  }
  Print("rss_register_4ranks_ms_median", Median(small));
  Print("rss_stop_to_watch_ms_median", Median(stop_ms));
  Print("rss_stop_to_watch_ms_max", *std::max_element(stop_ms.begin(), stop_ms.end()));
  return absl::OkStatus();
}

absl::Status Bench::Resources() {
  auto memory = ReadProcessMemory(rss_->pid());
  if (!memory.ok()) return memory.status();
  Print("rss_vm_hwm_kib", memory->vm_hwm_kib);
  Print("rss_vm_rss_kib", memory->vm_rss_kib);
  std::error_code ec;
  std::string db = dir_ + "/state/rss.db";
  Print("rss_db_bytes",
        std::filesystem::file_size(db, ec) + std::filesystem::file_size(db + "-wal", ec));
  size_t pinned = 0;
  for (const auto& depot : depots_) pinned += depot->pinned().size();
  Print("rss_pieces_pinned", pinned);
  return absl::OkStatus();
}

absl::Status Bench::Run() {
  absl::Status status = StartDaemons();
  Print("rss_ranks", options_.ranks);
  Print("rss_arrays", options_.arrays);
  Print("rss_depots", options_.depots);
  if (status.ok()) status = BigJob();
  if (status.ok()) status = Latencies();
  if (status.ok()) status = Resources();
  return status;
}

Bench::~Bench() {
  rss_.reset();  // SIGTERM and wait before removing its state
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

bool ParseFlags(int argc, char** argv, Options* options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    int* target = flag == "--ranks"     ? &options->ranks
                  : flag == "--arrays"  ? &options->arrays
                  : flag == "--depots"  ? &options->depots
                  : flag == "--rounds"  ? &options->rounds
                  : flag == "--threads" ? &options->threads
                                        : nullptr;
    if (flag == "--rss-binary") {
      options->binary = value;
    } else if (target == nullptr || !absl::SimpleAtoi(value, target) || *target < 1) {
      return false;
    }
  }
  return argc % 2 == 1;
}

}  // namespace
}  // namespace srs

int main(int argc, char** argv) {
  srs::Options options;
  if (!srs::ParseFlags(argc, argv, &options)) {
    std::cerr << "usage: srs-bench-rss [--ranks N] [--arrays N] [--depots N] [--rounds N] "
                 "[--threads N] [--rss-binary PATH]\n";
    return 2;
  }
  absl::Status status = srs::Bench(options).Run();
  if (!status.ok()) {
    std::cerr << "srs-bench-rss: " << status << "\n";
    return 1;
  }
  return 0;
}
