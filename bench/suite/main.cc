// srs-bench-suite: the cross-part figures of `srs bench` (issues 8 and 15), each a ratio against
// a baseline measured in the same run on the same machine. Every ratio is measured over
// --rounds rounds (default 3) that interleave the baseline and SRS (the order flips every
// round, ABBA..., so a drift of the machine hits both alike); the figure is the MEDIAN of the
// per-round ratios and `<name>_spread` is their max - min.
//
//   checkpoint_ratio    SRS_Checkpoint (the synchronous write + commit path of a stop checkpoint)
//                       of two block arrays (S bytes/rank) through the real RSS and depot ÷ every
//                       rank writing the same bytes to its own file + fsync
//   phdf5_ratio         the same SRS checkpoint ÷ a collective parallel-HDF5 write of the same
//                       arrays into one shared file + fsync (same rounds as checkpoint_ratio)
//   async_stall_ratio   time inside SRS_Check_Stop for one asynchronous periodic checkpoint (the
//                       call that stages it plus the calls until it is committed) ÷ one memcpy
//                       of the registered bytes (S bytes/rank), slowest rank
//   periodic_overhead   % more time of a solver-like loop with checkpoint_interval set (async
//                       mode, the default) than of the same iterations without, one pair of runs
//                       per round (the iteration count comes from a calibration run of
//                       --periodic-seconds); the async counts (started, skipped) come from the
//                       library's SRS_LOG=info summary
//   migration_seconds   stop on N ranks + transfer + restore on M ranks of B bytes in total,
//                       printed per phase (migration_stop/transfer/restore_seconds)
//   restart_ratio_none  SRS_Read with SRS_DIST_NONE ÷ raw read() of the same bytes per rank
//   restart_ratio_same  SRS_Read with SRS_DIST_SAME ÷ rank 0's raw read + MPI_Bcast
//
// It starts its own srs-rss and srs-depot on loopback port 0 in a fresh work directory and
// always stops them; the MPI parts run as separate `mpiexec -n N srs-suite-worker ...`
// jobs (a restart needs a new run). Output: `name: value` lines, or one JSON object (--json).
//
// Migration phases: stop = stop requested (RSS acknowledged) -> stop checkpoint committed on N
// ranks; transfer = the checkpoint's pieces moved whole from the depot over its gRPC path by M
// concurrent processes (what moving a checkpoint to another site costs); restore = SRS_Init +
// SRS_Read on M ranks (planning, reads, redistribution into the new block layout).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/suite/bench_paths.h"
#include "bench/suite/daemons.h"
#include "bench/suite/launcher.h"
#include "bench/suite/rss_helper.h"

namespace srs::bench {
namespace {

struct Options {
  int64_t bytes = 32ll << 20;  // per rank: phdf5 and restart
  int nprocs = 2;
  int64_t periodic_bytes = 16ll << 20;  // per rank
  double periodic_seconds = 3;
  double interval = 1;
  int64_t migrate_bytes = 1ll << 30;  // in total
  int from = 2, to = 3;
  int rounds = 3;
  bool json = false, keep_workdir = false;
  std::set<std::string> only;
  std::string workdir_parent, rss_bin, depot_bin, mpiexec = SRS_BENCH_MPIEXEC;
};

const char kUsage[] =
    "usage: srs-bench-suite [--size BYTES] [--np N] [--migrate-bytes BYTES] [--from N] [--to M]\n"
    "         [--periodic-bytes BYTES] [--periodic-seconds S] [--interval S] [--rounds R]\n"
    "         [--only checkpoint,stall,periodic,restart,migration] [--json] [--workdir DIR]\n"
    "         [--keep-workdir]\n"
    "         [--rss-bin PATH] [--depot-bin PATH] [--mpiexec PATH]\n"
    "BYTES take K, M, G suffixes (powers of 2). Run it directly, not under mpiexec.\n";

int64_t ParseBytes(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  switch (end && *end ? *end : ' ') {
    case 'K':
    case 'k':
      v *= 1024;
      break;
    case 'M':
    case 'm':
      v *= 1024 * 1024;
      break;
    case 'G':
    case 'g':
      v *= 1024.0 * 1024 * 1024;
      break;
    default:
      break;
  }
  return static_cast<int64_t>(v);
}

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--json") {
      o->json = true;
      continue;
    }
    if (k == "--keep-workdir") {
      o->keep_workdir = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (k == "--size")
      o->bytes = ParseBytes(v);
    else if (k == "--np")
      o->nprocs = std::atoi(v.c_str());
    else if (k == "--periodic-bytes")
      o->periodic_bytes = ParseBytes(v);
    else if (k == "--periodic-seconds")
      o->periodic_seconds = std::atof(v.c_str());
    else if (k == "--interval")
      o->interval = std::atof(v.c_str());
    else if (k == "--migrate-bytes")
      o->migrate_bytes = ParseBytes(v);
    else if (k == "--rounds")
      o->rounds = std::atoi(v.c_str());
    else if (k == "--from")
      o->from = std::atoi(v.c_str());
    else if (k == "--to")
      o->to = std::atoi(v.c_str());
    else if (k == "--workdir")
      o->workdir_parent = v;
    else if (k == "--rss-bin")
      o->rss_bin = v;
    else if (k == "--depot-bin")
      o->depot_bin = v;
    else if (k == "--mpiexec")
      o->mpiexec = v;
    else if (k == "--only") {
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');) o->only.insert(part);
    } else {
      return false;
    }
  }
  return o->bytes >= 1024 && o->nprocs >= 1 && o->from >= 1 && o->to >= 1 &&
         o->periodic_bytes >= 1024 && o->migrate_bytes >= 16 * o->from && o->interval > 0 &&
         o->rounds >= 1;
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "srs-bench-suite";
}

// The MPI worker executable, next to this one.
std::string WorkerPath() {
  std::string self = SelfPath();
  return self.substr(0, self.rfind('/') + 1) + "srs-suite-worker";
}

class Suite {
 public:
  Suite(const Options& o, const Daemons& d, std::string workdir)
      : o_(o), d_(d), workdir_(std::move(workdir)) {}

  bool Run() {
    bool ok = true;
    if (Wanted("checkpoint") || Wanted("phdf5")) ok = Checkpoints() && ok;
    if (Wanted("stall")) ok = Stall() && ok;
    if (Wanted("periodic")) ok = Periodic() && ok;
    if (Wanted("restart")) ok = Restart() && ok;
    if (Wanted("migration")) ok = Migration() && ok;
    return ok;
  }
  const std::vector<std::pair<std::string, double>>& figures() const { return out_; }

 private:
  bool Wanted(const char* part) const { return o_.only.empty() || o_.only.count(part); }
  void Put(const std::string& name, double v) { out_.emplace_back(name, v); }
  // `name` = the median of `values`, `name_spread` = max - min.
  void PutMedian(const std::string& name, std::vector<double> values) {
    std::sort(values.begin(), values.end());
    size_t k = values.size();
    double median = k == 0 ? 0 : k % 2 ? values[k / 2] : 0.5 * (values[k / 2 - 1] + values[k / 2]);
    Put(name, median);
    Put(name + "_spread", k == 0 ? 0 : values.back() - values.front());
  }
  // Per-round values `prefix_0`, `prefix_1`, ... of a worker's figures.
  static std::vector<double> Rounds(const std::map<std::string, double>& f,
                                    const std::string& prefix) {
    std::vector<double> out;
    for (int r = 0; f.count(prefix + "_" + std::to_string(r)); ++r)
      out.push_back(f.at(prefix + "_" + std::to_string(r)));
    return out;
  }

  // Runs one worker; `app` names the job in the RSS (a restart reuses the writer's).
  // `log_prefix`, if given, receives where its stderr went (<log_prefix>.err).
  bool Worker(const std::string& mode, int np, const std::string& app,
              std::vector<std::pair<std::string, std::string>> env, std::vector<std::string> extra,
              std::map<std::string, double>* got, std::string* log_prefix = nullptr) {
    WorkerJob job = Job(app, mode, env);
    if (log_prefix != nullptr) *log_prefix = job.log_prefix;
    job.mpiexec = o_.mpiexec;
    job.nprocs = np;
    job.args = {WorkerPath(), "--worker", mode, "--workdir", workdir_, "--helper", SelfPath()};
    job.args.insert(job.args.end(), extra.begin(), extra.end());
    return RunWorker(job, got);
  }

  WorkerJob Job(const std::string& app, const std::string& what,
                const std::vector<std::pair<std::string, std::string>>& env) {
    WorkerJob job;
    job.env = {{"SRS_RSS", d_.rss_address()},
               {"SRS_TOKEN_FILE", d_.token_file()},
               {"SRS_DEPOT", "auto"},
               {"SRS_APP", app},
               {"SRS_KEEP", "1"},
               {"SRS_CHECKPOINT_INTERVAL", "0"},
               {"SRS_RESUME", "no"}};
    job.env.insert(job.env.end(), env.begin(), env.end());
    job.log_prefix = workdir_ + "/" + app + "-" + what + "-" + std::to_string(++runs_);
    job.cwd = workdir_;
    return job;
  }

  // M processes at once, each moving its share of the newest checkpoint's pieces.
  bool Transfer(const std::string& app, int m, double* seconds, double* bytes) {
    std::vector<WorkerJob> jobs;
    for (int i = 0; i < m; ++i) {
      jobs.push_back(Job(app, "fetch", {}));
      jobs.back().args = {SelfPath(), "--helper", "fetch", std::to_string(i), std::to_string(m)};
    }
    std::vector<std::map<std::string, double>> got;
    if (!RunConcurrently(jobs, &got)) return false;
    *seconds = *bytes = 0;
    for (auto& g : got) {
      *seconds = std::max(*seconds, g["fetch_seconds"]);
      *bytes += g["fetch_bytes"];
    }
    return true;
  }

  std::string App(const char* what) {
    return std::string("bench-") + what + "-" + std::to_string(getpid()) + "-" +
           std::to_string(++apps_);
  }

  std::string RoundsArg() const { return std::to_string(o_.rounds); }

  bool Checkpoints() {
    std::map<std::string, double> f;
    if (!Worker("checkpoint", o_.nprocs, App("checkpoint"), {},
                {"--bytes", std::to_string(o_.bytes), "--rounds", RoundsArg()}, &f))
      return false;
    std::vector<double> raw = Rounds(f, "raw_seconds"), srs = Rounds(f, "srs_seconds"),
                        phdf5 = Rounds(f, "phdf5_seconds"), vs_raw, vs_phdf5;
    for (size_t r = 0; r < srs.size() && r < raw.size() && r < phdf5.size(); ++r) {
      vs_raw.push_back(srs[r] / raw[r]);
      vs_phdf5.push_back(srs[r] / phdf5[r]);
    }
    PutMedian("checkpoint_ratio", vs_raw);
    PutMedian("checkpoint_srs_seconds", srs);
    PutMedian("checkpoint_raw_seconds", raw);
    PutMedian("phdf5_ratio", vs_phdf5);
    PutMedian("phdf5_srs_checkpoint_seconds", srs);
    PutMedian("phdf5_write_seconds", phdf5);
    Put("checkpoint_bytes_per_rank", f["checkpoint_bytes_per_rank"]);
    Put("phdf5_bytes_per_rank", f["checkpoint_bytes_per_rank"]);
    Put("phdf5_ranks", o_.nprocs);
    Put("bench_rounds", static_cast<double>(srs.size()));
    return true;
  }

  bool Stall() {
    // Longer than a flush of --size bytes/rank on a slow disk, so every checkpoint commits
    // before the next falls due (a figure must not hold two checkpoints).
    double interval = std::max(0.3, 4.0 * static_cast<double>(o_.bytes) / (256 << 20));
    std::ostringstream iv;
    iv << interval;
    std::map<std::string, double> f;
    if (!Worker(
            "stall", o_.nprocs, App("stall"),
            {{"SRS_CHECKPOINT_INTERVAL", iv.str()}, {"SRS_CHECKPOINT_MODE", "async"}},
            {"--bytes", std::to_string(o_.bytes), "--rounds", RoundsArg(), "--interval", iv.str()},
            &f))
      return false;
    std::vector<double> stall = Rounds(f, "stall_seconds"), copy = Rounds(f, "memcpy_seconds"),
                        ratio;
    for (size_t r = 0; r < stall.size() && r < copy.size(); ++r)
      ratio.push_back(stall[r] / copy[r]);
    PutMedian("async_stall_ratio", ratio);
    PutMedian("async_stall_seconds", stall);
    PutMedian("async_memcpy_seconds", copy);
    Put("async_stall_bytes_per_rank", f["stall_bytes_per_rank"]);
    return true;
  }

  // A count from the "async checkpoints: started=.. skipped=.." summary rank 0 logged
  // (SRS_LOG=info) into <log_prefix>.err; -1 when absent.
  static double AsyncCount(const std::string& log_prefix, const std::string& name) {
    std::ifstream in(log_prefix + ".err");
    std::string line, summary;
    while (std::getline(in, line))
      if (line.find("async checkpoints:") != std::string::npos) summary = line;
    size_t at = summary.find(" " + name + "=");
    return at == std::string::npos ? -1 : std::atof(summary.c_str() + at + name.size() + 2);
  }

  bool Periodic() {
    std::string bytes = std::to_string(o_.periodic_bytes);
    std::ostringstream secs, interval;
    secs << o_.periodic_seconds;
    interval << o_.interval;
    // Calibration: how many iterations fit in --periodic-seconds; then, per round, the same
    // iterations without and with checkpoints (the order flips every round).
    std::map<std::string, double> calibration;
    if (!Worker("periodic", o_.nprocs, App("periodic"), {},
                {"--bytes", bytes, "--seconds", secs.str()}, &calibration))
      return false;
    std::string iters = std::to_string(static_cast<int64_t>(calibration["periodic_iterations"]));
    std::vector<double> base, with, overhead, checkpoints, started, skipped;
    for (int r = 0; r < o_.rounds; ++r) {
      std::map<std::string, double> b, w;
      std::string log;
      auto run_base = [&] {
        return Worker("periodic", o_.nprocs, App("periodic"), {},
                      {"--bytes", bytes, "--iters", iters}, &b);
      };
      auto run_with = [&] {
        return Worker("periodic", o_.nprocs, App("periodic"),
                      {{"SRS_CHECKPOINT_INTERVAL", interval.str()}, {"SRS_LOG", "info"}},
                      {"--bytes", bytes, "--iters", iters}, &w, &log);
      };
      bool ok = r % 2 == 0 ? run_base() && run_with() : run_with() && run_base();
      if (!ok) return false;
      base.push_back(b["periodic_loop_seconds"]);
      with.push_back(w["periodic_loop_seconds"]);
      overhead.push_back(100.0 * (with.back() - base.back()) / base.back());
      checkpoints.push_back(w["periodic_checkpoints"]);
      started.push_back(AsyncCount(log, "started"));
      skipped.push_back(AsyncCount(log, "skipped"));
    }
    PutMedian("periodic_overhead", overhead);
    PutMedian("periodic_base_seconds", base);
    PutMedian("periodic_with_checkpoints_seconds", with);
    PutMedian("periodic_checkpoints", checkpoints);
    PutMedian("periodic_async_started", started);
    PutMedian("periodic_async_skipped", skipped);
    Put("periodic_iterations", calibration["periodic_iterations"]);
    Put("periodic_interval_seconds", o_.interval);
    Put("periodic_bytes_per_rank", static_cast<double>(o_.periodic_bytes));
    return true;
  }

  bool Restart() {
    std::string app = App("restart"), bytes = std::to_string(o_.bytes);
    std::map<std::string, double> w, r;
    if (!Worker("restart-write", o_.nprocs, app, {}, {"--bytes", bytes}, &w) ||
        !Worker("restart-read", o_.nprocs, app, {{"SRS_RESUME", "yes"}}, {"--bytes", bytes}, &r))
      return false;
    Put("restart_ratio_none", r["restart_none_seconds"] / r["raw_read_none_seconds"]);
    Put("restart_ratio_same", r["restart_same_seconds"] / r["raw_read_same_seconds"]);
    Put("restart_none_seconds", r["restart_none_seconds"]);
    Put("restart_raw_read_none_seconds", r["raw_read_none_seconds"]);
    Put("restart_same_seconds", r["restart_same_seconds"]);
    Put("restart_raw_read_same_seconds", r["raw_read_same_seconds"]);
    Put("restart_bytes_per_rank", r["restart_bytes_per_rank"]);
    Put("restart_ranks", o_.nprocs);
    return true;
  }

  bool Migration() {
    std::string app = App("migration");
    int64_t per = o_.migrate_bytes / (16 * o_.from) * 16 * o_.from;  // whole elements per rank
    std::map<std::string, double> s, r;
    double transfer = 0, moved = 0;
    if (!Worker("migrate-stop", o_.from, app, {}, {"--bytes", std::to_string(per)}, &s) ||
        !Transfer(app, o_.to, &transfer, &moved) ||
        !Worker("migrate-resume", o_.to, app, {{"SRS_RESUME", "yes"}}, {"--bytes", "16"}, &r))
      return false;
    double stop = s["migration_stop_seconds"];
    double restore = r["migration_restore_seconds"];
    Put("migration_seconds", stop + transfer + restore);
    Put("migration_stop_seconds", stop);
    Put("migration_transfer_seconds", transfer);
    Put("migration_restore_seconds", restore);
    Put("migration_bytes", s["migration_bytes"]);
    Put("migration_transfer_bytes", moved);
    Put("migration_checkpoint_call_seconds", s["migration_checkpoint_call_seconds"]);
    Put("migration_from_ranks", o_.from);
    Put("migration_to_ranks", o_.to);
    return true;
  }

  const Options& o_;
  const Daemons& d_;
  std::string workdir_;
  std::vector<std::pair<std::string, double>> out_;
  int runs_ = 0, apps_ = 0;
};

void Print(const Options& o, const std::vector<std::pair<std::string, double>>& figures) {
  if (o.json) {
    printf("{\"bench\": \"suite\", \"figures\": {");
    for (size_t i = 0; i < figures.size(); ++i)
      printf("%s\"%s\": %.6g", i ? ", " : "", figures[i].first.c_str(), figures[i].second);
    printf("}}\n");
    return;
  }
  for (const auto& [name, value] : figures) printf("%s: %.6g\n", name.c_str(), value);
}

int DriverMain(int argc, char** argv) {
  Options o;
  if (!Parse(argc, argv, &o)) {
    fputs(kUsage, stderr);
    return 2;
  }
  if (getenv("PMI_RANK") || getenv("PMI_SIZE")) {
    fprintf(stderr, "srs-bench-suite: run it directly; it launches its own MPI jobs\n");
    return 2;
  }
  std::string parent =
      o.workdir_parent.empty() ? (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") : o.workdir_parent;
  std::string tmpl = parent + "/srs-bench-suite.XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    perror("srs-bench-suite: mkdtemp");
    return 1;
  }
  Daemons daemons;
  bool ok = daemons.Start(FindDaemons(o.rss_bin, o.depot_bin), tmpl);
  Suite suite(o, daemons, tmpl);
  if (ok) ok = suite.Run();
  daemons.Stop();
  Print(o, suite.figures());
  if (!o.keep_workdir) {
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    if (ec)
      fprintf(stderr, "srs-bench-suite: could not remove %s: %s\n", tmpl.c_str(),
              ec.message().c_str());
  } else {
    fprintf(stderr, "srs-bench-suite: work directory kept: %s\n", tmpl.c_str());
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace srs::bench

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--helper") == 0) return srs::bench::HelperMain(argc, argv);
  return srs::bench::DriverMain(argc, argv);
}
