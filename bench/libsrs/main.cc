// srs-bench-libsrs: what the library costs against the baseline it competes with, measured in
// the same run (issue 5). Two ways to run it:
//
//   srs-bench-libsrs [--ranks 1,2,4] [--size 256M] [--iters 2000] [--rounds 3]
//                    [--many-arrays 1000] [--restart-figures yes|no]
//       the driver: for each N, starts a private srs-rss + srs-depot (bench/suite/daemons.h:
//       next to this executable in an install, else the build tree's), runs the write phase on
//       N ranks and the read phase on M ranks (M = N/2, or 2 for N = 1), and prints
//       `name_npN: value` lines; then the restart figures of restart_figures.h
//       (remote_restart_ratio, many_arrays_restart_ratio).
//   mpiexec -n N srs-bench-libsrs --phase write|read [--size B] [--iters K] [--dir DEPOT_DIR]
//       one phase (bench_phases.h), with SRS_RSS/SRS_APP/... in the environment.
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "bench/suite/bench_paths.h"
#include "bench/suite/daemons.h"
#include "bench_phases.h"
#include "restart_figures.h"

namespace {

int64_t ParseSize(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  std::string unit = end != nullptr ? end : "";
  if (unit == "K" || unit == "k") value *= 1 << 10;
  if (unit == "M" || unit == "m") value *= 1 << 20;
  if (unit == "G" || unit == "g") value *= 1 << 30;
  return static_cast<int64_t>(value);
}

std::string Self() {
  char path[4096] = {0};
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : "srs-bench-libsrs";
}

// A fresh work directory under $TMPDIR for one N's daemons; empty on failure.
std::string MakeWorkdir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/srs-bench-libsrs.XXXXXX";
  return mkdtemp(pattern.data()) != nullptr ? pattern : "";
}

// Runs `command` through the shell and prints its `name: value` lines tagged with N (-> M).
bool RunTagged(const std::string& command, int n, int m) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  char line[512];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::string text(line);
    size_t colon = text.find(':');
    if (colon == std::string::npos) continue;
    std::string tag = text.compare(0, 7, "restart") == 0 || text.compare(0, 8, "raw_read") == 0
                          ? "_np" + std::to_string(n) + "to" + std::to_string(m)
                          : "_np" + std::to_string(n);
    std::printf("%s%s%s", text.substr(0, colon).c_str(), tag.c_str(), text.substr(colon).c_str());
    std::fflush(stdout);
  }
  return pclose(pipe) == 0;
}

// Runs both phases for N -> M ranks on fresh daemons and prints their lines tagged with N.
int DriveOne(int n, int64_t bytes, int iters) {
  int m = n == 1 ? 2 : n / 2;
  std::string workdir = MakeWorkdir();
  if (workdir.empty()) {
    std::perror("srs-bench-libsrs: mkdtemp");
    return 1;
  }
  bool ok = false;
  {
    srs::bench::Daemons daemons;
    if (daemons.Start(srs::bench::FindDaemons("", ""), workdir)) {
      setenv("SRS_RSS", daemons.rss_address().c_str(), 1);
      setenv("SRS_DEPOT", "auto", 1);
      setenv("SRS_TOKEN_FILE", daemons.token_file().c_str(), 1);
      setenv("SRS_APP", ("bench-libsrs-" + std::to_string(getpid())).c_str(), 1);
      setenv("SRS_LOG", "error", 1);
      std::string self = Self(), mpiexec = SRS_BENCH_MPIEXEC, dir = daemons.depot_dir();
      std::ostringstream phases;
      phases << mpiexec << " -n " << n << " '" << self << "' --phase write --size " << bytes
             << " --iters " << iters << " --dir '" << dir << "' && SRS_FORCE=yes " << mpiexec
             << " -n " << m << " '" << self << "' --phase read --dir '" << dir << "'";
      ok = RunTagged(phases.str(), n, m);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(workdir, ignored);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string phase, ranks = "1,2,4", restart_figures = "yes";
  srs_bench::Options options;
  srs_bench::RestartFigureOptions figures;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf(
          "usage: srs-bench-libsrs [--ranks 1,2,4] [--size 256M] [--iters 2000] [--rounds 3]\n"
          "                        [--many-arrays 1000] [--restart-figures yes|no]\n"
          "Starts private daemons and prints `name_npN: value` lines: check_stop, checkpoint\n"
          "and restart ratios for each N, then remote_restart_ratio and\n"
          "many_arrays_restart_ratio. Run it directly, not under mpiexec.\n");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "srs-bench-libsrs: missing value for %s (see --help)\n", flag.c_str());
      return 2;
    }
    std::string value = argv[i + 1];
    if (flag == "--phase")
      phase = value;
    else if (flag == "--ranks")
      ranks = value;
    else if (flag == "--size")
      options.bytes_per_rank = ParseSize(value);
    else if (flag == "--iters")
      options.iters = std::atoi(value.c_str());
    else if (flag == "--dir")
      options.dir = value;
    else if (flag == "--rounds")
      figures.rounds = std::max(1, std::atoi(value.c_str()));
    else if (flag == "--many-arrays")
      figures.many_arrays = std::max(1, std::atoi(value.c_str()));
    else if (flag == "--restart-figures")
      restart_figures = value;
    else {
      std::fprintf(stderr, "srs-bench-libsrs: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  if (phase.empty()) {  // the driver: no MPI here, it launches the MPI phases
    int status = 0;
    std::stringstream list(ranks);
    for (std::string n; std::getline(list, n, ',');) {
      status |= DriveOne(std::atoi(n.c_str()), options.bytes_per_rank, options.iters);
    }
    if (restart_figures != "no") {  // restart_figures.h
      figures.remote_bytes_per_rank = options.bytes_per_rank;
      status |= srs_bench::DriveRestartFigures(figures, Self(), SRS_BENCH_MPIEXEC);
    }
    return status;
  }
  if (options.dir.empty()) options.dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  MPI_Init(&argc, &argv);
  figures.remote_bytes_per_rank = options.bytes_per_rank;
  int rc = srs_bench::RunRestartFigurePhase(phase, figures);
  if (rc < 0) {
    rc = phase == "write" ? srs_bench::RunWritePhase(options) : srs_bench::RunReadPhase(options);
  }
  MPI_Finalize();
  return rc;
}
