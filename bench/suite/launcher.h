// Runs benchmark processes and collects the figures they print as `SRSBENCH name value` lines:
// the MPI workers (`mpiexec -n NP srs-suite-worker --worker MODE ...`) and, several at
// once, the plain helper processes (`srs-bench-suite --helper fetch I M`).
#ifndef SRS_BENCH_SUITE_LAUNCHER_H_
#define SRS_BENCH_SUITE_LAUNCHER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace srs::bench {

struct WorkerJob {
  std::string mpiexec;  // empty: run `args` directly
  int nprocs = 1;
  std::vector<std::string> args;                         // the command line, program first
  std::vector<std::pair<std::string, std::string>> env;  // added to this process's environment
  std::string log_prefix;                                // stderr goes to <log_prefix>.err
  std::string cwd;  // run there (no stray ./srs.config is picked up)
};

// false (with the job's output on stderr) if it exits non-zero or prints no figure.
bool RunWorker(const WorkerJob& job, std::map<std::string, double>* figures);

// Starts every job at once, then waits for all; figures[i] gets job i's.
bool RunConcurrently(const std::vector<WorkerJob>& jobs,
                     std::vector<std::map<std::string, double>>* figures);

}  // namespace srs::bench

#endif  // SRS_BENCH_SUITE_LAUNCHER_H_
