// The two MPI phases of srs-bench-libsrs (run under mpiexec by the driver in main.cc):
//  write  check_stop_ratio (SRS_Check_Stop with nothing pending / one MPI_Allreduce of an int)
//         and checkpoint_ratio (committed SRS_Checkpoint / raw write+fsync of the same bytes
//         per rank into the depot's directory); leaves without SRS_Finish
//  read   restart_ratio (SRS_Read N->M / raw read of the same bytes per rank), then SRS_Finish
// Each prints `name: value` lines on rank 0.
#ifndef SRS_BENCH_LIBSRS_BENCH_PHASES_H_
#define SRS_BENCH_LIBSRS_BENCH_PHASES_H_

#include <cstdint>
#include <string>

namespace srs_bench {

struct Options {
  int64_t bytes_per_rank = int64_t{256} << 20;
  int iters = 2000;  // SRS_Check_Stop / MPI_Allreduce calls per round
  std::string dir;   // the depot's directory (raw baselines are written there)
};

int RunWritePhase(const Options& options);
int RunReadPhase(const Options& options);

}  // namespace srs_bench

#endif  // SRS_BENCH_LIBSRS_BENCH_PHASES_H_
