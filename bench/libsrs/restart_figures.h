// The restart figures of srs-bench-libsrs (issue 15, part B), each against a baseline measured
// in the same run, interleaved A B A B ... over --rounds rounds, median and spread printed:
//
//   remote_restart_ratio       N -> M restart (SRS_Read of a block array, redistributed) with
//                              every byte fetched over the network (transport = grpc: the
//                              depot's data channel or gRPC, never the shared-host file path)
//                              ÷ a raw loopback TCP stream of the same bytes per rank (each
//                              rank receives its share from a sender thread over a socket pair
//                              connected through 127.0.0.1), per round; median, _min, _max
//   many_arrays_restart_ratio  restoring A small arrays (8 KiB per old rank each, default
//                              A = 1000, 4 -> 3 ranks): every SRS_Read after SRS_Init ÷ the
//                              sync SRS_Checkpoint that wrote them; one write job and one read
//                              job per round, alternating
//
// The phases run under mpiexec (driven by DriveRestartFigures), SRS_* naming private daemons.
#ifndef SRS_BENCH_LIBSRS_RESTART_FIGURES_H_
#define SRS_BENCH_LIBSRS_RESTART_FIGURES_H_

#include <cstdint>
#include <string>

namespace srs_bench {

struct RestartFigureOptions {
  int64_t remote_bytes_per_rank = int64_t{256} << 20;  // per OLD rank
  int remote_from = 2, remote_to = 3;
  int many_arrays = 1000;
  int64_t many_bytes = 8 << 10;  // per array per old rank
  int many_from = 4, many_to = 3;
  int rounds = 3;
};

// The driver (no MPI): starts private daemons (bench/suite/daemons.h), runs the phases, prints
// `name: value` lines. Returns 0 when every phase succeeded and verified its data.
int DriveRestartFigures(const RestartFigureOptions& options, const std::string& self,
                        const std::string& mpiexec);

// The MPI phases: "remote-write", "remote-read", "many-write", "many-read". -1: not one of
// them. MPI is initialised by the caller.
int RunRestartFigurePhase(const std::string& phase, const RestartFigureOptions& options);

}  // namespace srs_bench

#endif  // SRS_BENCH_LIBSRS_RESTART_FIGURES_H_
