#include "restart_figures.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/suite/daemons.h"
#include "bench/suite/loopback_stream.h"
#include "srs/srs.h"

namespace srs_bench {
namespace {

int g_rank = 0, g_nprocs = 1;

void Fail(const std::string& what) {
  std::fprintf(stderr, "srs-bench-libsrs [rank %d]: %s\n", g_rank, what.c_str());
  MPI_Abort(MPI_COMM_WORLD, 1);
}

void Check(int rc, const char* call) {
  if (rc < 0) Fail(std::string(call) + ": " + SRS_Error_string(rc) + ": " + SRS_Last_error());
}

template <typename F>
double Timed(F fn) {
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime();
  fn();
  double mine = MPI_Wtime() - start, slowest = 0;
  MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

void Print(const char* name, double value) {
  if (g_rank == 0) std::printf("%s: %.6g\n", name, value);
  std::fflush(stdout);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Block layout (DESIGN.md): the first count % P ranks hold one element more.
void BlockRange(int64_t count, int64_t* first, int64_t* local) {
  int64_t base = count / g_nprocs, extra = count % g_nprocs;
  *local = base + (g_rank < extra ? 1 : 0);
  *first = g_rank * base + std::min<int64_t>(g_rank, extra);
}

// ---- remote restart ----------------------------------------------------------------------

int RemoteWrite(const RestartFigureOptions& o) {
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  const int64_t n = o.remote_bytes_per_rank / 8;
  std::vector<double> data(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) data[i] = static_cast<double>(g_rank * n + i);
  SRS_Distribution block = nullptr;
  SRS_Distribution_block(&block);
  Check(SRS_Register("data", data.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register");
  Check(SRS_Checkpoint(), "SRS_Checkpoint");
  return 0;  // no SRS_Finish: the read phase restarts from this checkpoint
}

int RemoteRead(const RestartFigureOptions& o) {
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  if (SRS_Restart_Value() != 1) Fail("remote-read: not a restart");
  int64_t count = 0, first = 0, local = 0;
  Check(SRS_Query("data", nullptr, &count), "SRS_Query");
  BlockRange(count, &first, &local);
  SRS_Distribution block = nullptr;
  SRS_Distribution_block(&block);
  std::vector<double> data(static_cast<size_t>(local));
  const size_t bytes = static_cast<size_t>(local) * sizeof(double);
  std::vector<char> src(bytes, 'x'), dst(bytes);
  srs::bench::LoopbackStream tcp_link;
  std::string link_error;
  if (!tcp_link.Connect(&link_error)) Fail(link_error);
  std::vector<double> ratios, srs_seconds, tcp_seconds;
  for (int round = 0; round < o.rounds; ++round) {
    double tcp = Timed([&] {
      if (!tcp_link.Stream(src.data(), dst.data(), bytes)) Fail("raw TCP baseline: short stream");
    });
    std::fill(data.begin(), data.end(), -1.0);
    double read = Timed([&] { Check(SRS_Read("data", data.data(), SRS_DOUBLE, block), "Read"); });
    for (int64_t i = 0; i < local; ++i) {
      if (data[i] != static_cast<double>(first + i)) Fail("remote-read: wrong data");
    }
    if (g_rank == 0) {
      std::fprintf(stderr, "remote restart round %d: SRS_Read %.4f s, raw TCP %.4f s\n", round,
                   read, tcp);
    }
    ratios.push_back(read / tcp);
    srs_seconds.push_back(read);
    tcp_seconds.push_back(tcp);
  }
  double total = static_cast<double>(bytes), all = 0;
  MPI_Allreduce(&total, &all, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  Print("remote_restart_ratio", Median(ratios));
  Print("remote_restart_ratio_min", *std::min_element(ratios.begin(), ratios.end()));
  Print("remote_restart_ratio_max", *std::max_element(ratios.begin(), ratios.end()));
  Print("remote_restart_seconds", Median(srs_seconds));
  Print("remote_tcp_seconds", Median(tcp_seconds));
  Print("remote_restart_bytes", all);
  Print("remote_restart_rounds", o.rounds);
  return 0;
}

// ---- many small arrays -------------------------------------------------------------------

std::string ArrayName(int k) {
  char name[32];
  std::snprintf(name, sizeof name, "a%05d", k);
  return name;
}

double Value(int k, int64_t global) { return k * 1e7 + static_cast<double>(global); }

int ManyWrite(const RestartFigureOptions& o) {
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  const int64_t n = o.many_bytes / 8;
  std::vector<std::vector<double>> arrays(static_cast<size_t>(o.many_arrays));
  SRS_Distribution block = nullptr;
  SRS_Distribution_block(&block);
  for (int k = 0; k < o.many_arrays; ++k) {
    arrays[k].resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) arrays[k][i] = Value(k, g_rank * n + i);
    Check(SRS_Register(ArrayName(k).c_str(), arrays[k].data(), SRS_DOUBLE, n * g_nprocs, block),
          "SRS_Register");
  }
  double seconds = Timed([&] { Check(SRS_Checkpoint(), "SRS_Checkpoint"); });
  Print("many_checkpoint_seconds", seconds);
  return 0;
}

int ManyRead(const RestartFigureOptions& o) {
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  if (SRS_Restart_Value() != 1) Fail("many-read: not a restart");
  SRS_Distribution block = nullptr;
  SRS_Distribution_block(&block);
  int64_t count = 0, first = 0, local = 0;
  Check(SRS_Query(ArrayName(0).c_str(), nullptr, &count), "SRS_Query");
  BlockRange(count, &first, &local);
  std::vector<std::vector<double>> arrays(static_cast<size_t>(o.many_arrays),
                                          std::vector<double>(static_cast<size_t>(local)));
  double seconds = Timed([&] {
    for (int k = 0; k < o.many_arrays; ++k) {
      Check(SRS_Read(ArrayName(k).c_str(), arrays[k].data(), SRS_DOUBLE, block), "SRS_Read");
    }
  });
  for (int k = 0; k < o.many_arrays; ++k) {
    for (int64_t i = 0; i < local; ++i) {
      if (arrays[k][i] != Value(k, first + i)) Fail("many-read: wrong data in " + ArrayName(k));
    }
  }
  Print("many_restart_seconds", seconds);
  return 0;
}

// ---- the driver --------------------------------------------------------------------------

// Runs `script` through the shell with a private srs-rss + srs-depot (bench/suite/daemons.h, so
// an installed copy needs nothing from the source tree) and SRS_* naming them; collects its
// `name: value` lines.
bool RunScript(const std::string& script, std::multimap<std::string, double>* out) {
  const char* tmp = std::getenv("TMPDIR");
  std::string workdir = std::string(tmp != nullptr ? tmp : "/tmp") + "/srs-bench-restart.XXXXXX";
  if (mkdtemp(workdir.data()) == nullptr) {
    std::perror("srs-bench-libsrs: mkdtemp");
    return false;
  }
  bool ok = false;
  {
    srs::bench::Daemons daemons;
    if (daemons.Start(srs::bench::FindDaemons("", ""), workdir)) {
      setenv("SRS_RSS", daemons.rss_address().c_str(), 1);
      setenv("SRS_DEPOT", "auto", 1);
      setenv("SRS_TOKEN_FILE", daemons.token_file().c_str(), 1);
      setenv("SRS_APP", ("bench-restart-" + std::to_string(getpid())).c_str(), 1);
      FILE* pipe = popen(("/bin/sh -c '" + script + "'").c_str(), "r");
      if (pipe != nullptr) {
        char line[512];
        while (std::fgets(line, sizeof line, pipe) != nullptr) {
          std::string text(line);
          size_t colon = text.find(": ");
          if (colon == std::string::npos) continue;
          out->emplace(text.substr(0, colon), std::atof(text.c_str() + colon + 2));
        }
        ok = pclose(pipe) == 0;
      }
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(workdir, ignored);
  return ok;
}

std::vector<double> All(const std::multimap<std::string, double>& got, const std::string& name) {
  std::vector<double> v;
  auto [a, b] = got.equal_range(name);
  for (auto it = a; it != b; ++it) v.push_back(it->second);
  return v;
}

bool DriveRemote(const RestartFigureOptions& o, const std::string& self, const std::string& mpi) {
  std::ostringstream s;
  s << "export SRS_LOG=error SRS_CHECKPOINT_MODE=sync; " << mpi << " -n " << o.remote_from << " "
    << self << " --phase remote-write --size " << o.remote_bytes_per_rank
    << " && SRS_FORCE=yes SRS_TRANSPORT=grpc " << mpi << " -n " << o.remote_to << " " << self
    << " --phase remote-read --rounds " << o.rounds;
  std::multimap<std::string, double> got;
  if (!RunScript(s.str(), &got)) return false;
  for (const auto& [name, value] : got) {
    if (name.compare(0, 7, "remote_") == 0) std::printf("%s: %.6g\n", name.c_str(), value);
  }
  return got.count("remote_restart_ratio") == 1;
}

bool DriveMany(const RestartFigureOptions& o, const std::string& self, const std::string& mpi) {
  // One write job and one read job per round, alternating (A B A B ...), on the same daemons.
  std::ostringstream s;
  s << "export SRS_LOG=error SRS_CHECKPOINT_MODE=sync SRS_FORCE=yes; for r in";
  for (int r = 0; r < o.rounds; ++r) s << " " << r;
  s << "; do " << mpi << " -n " << o.many_from << " " << self << " --phase many-write"
    << " --many-arrays " << o.many_arrays << " && " << mpi << " -n " << o.many_to << " " << self
    << " --phase many-read --many-arrays " << o.many_arrays << " || exit 1; done";
  std::multimap<std::string, double> got;
  if (!RunScript(s.str(), &got)) return false;
  std::vector<double> write = All(got, "many_checkpoint_seconds");
  std::vector<double> read = All(got, "many_restart_seconds");
  if (write.size() != static_cast<size_t>(o.rounds) || read.size() != write.size()) return false;
  std::vector<double> ratios;
  for (size_t i = 0; i < read.size(); ++i) ratios.push_back(read[i] / write[i]);
  std::printf("many_arrays_restart_ratio: %.6g\n", Median(read) / Median(write));
  std::printf("many_arrays_restart_ratio_min: %.6g\n",
              *std::min_element(ratios.begin(), ratios.end()));
  std::printf("many_arrays_restart_ratio_max: %.6g\n",
              *std::max_element(ratios.begin(), ratios.end()));
  std::printf("many_arrays_restart_seconds: %.6g\n", Median(read));
  std::printf("many_arrays_checkpoint_seconds: %.6g\n", Median(write));
  std::printf("many_arrays_count: %d\n", o.many_arrays);
  return true;
}

}  // namespace

int DriveRestartFigures(const RestartFigureOptions& o, const std::string& self,
                        const std::string& mpiexec) {
  bool ok = DriveRemote(o, self, mpiexec);
  ok = DriveMany(o, self, mpiexec) && ok;
  std::fflush(stdout);
  return ok ? 0 : 1;
}

int RunRestartFigurePhase(const std::string& phase, const RestartFigureOptions& o) {
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_nprocs);
  if (phase == "remote-write") return RemoteWrite(o);
  if (phase == "remote-read") return RemoteRead(o);
  if (phase == "many-write") return ManyWrite(o);
  if (phase == "many-read") return ManyRead(o);
  return -1;
}

}  // namespace srs_bench
