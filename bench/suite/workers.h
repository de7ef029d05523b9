// The MPI side of srs-bench-suite: `srs-bench-suite --worker MODE [--bytes N] ...`, run by the
// driver under mpiexec with SRS_RSS, SRS_APP, SRS_TOKEN_FILE and SRS_DEPOT in the environment.
// Rank 0 prints each measurement as `SRSBENCH name value` on stdout. Modes:
//
//   phdf5            our stop-checkpoint of two block arrays vs. a collective parallel-HDF5
//                    write of the same arrays into one shared file (before and after)
//   restart-write    registers per-rank (NONE) arrays, writes raw baseline files, stops
//   restart-read     reads them back with SRS_DIST_NONE and SRS_DIST_SAME, and the raw files
//   periodic         a solver-like loop (smoothing sweep + allreduce + SRS_Check_Stop), for
//                    --seconds (reports the iterations) or exactly --iters iterations
//   migrate-stop     N ranks, --bytes in total, stop requested from outside, timed to commit
//   migrate-resume   M ranks: SRS_Init + SRS_Read (restore and redistribute), every element
//                    verified
//
// Rank 0 reaches the RSS's admin calls (stop, listing) through `srs-bench-suite --helper ...`
// (rss_helper.h): this executable links libsrs, which carries its own copy of the generated
// protos, so it must not link the RSS client too.
//
// Every mode checks SRS return codes and aborts the job (non-zero exit) on any error, so the
// driver never reports a figure of a run that failed.
#ifndef SRS_BENCH_SUITE_WORKERS_H_
#define SRS_BENCH_SUITE_WORKERS_H_

namespace srs::bench {

// argv[1] == "--worker". Calls MPI_Init/MPI_Finalize itself.
int WorkerMain(int argc, char** argv);

}  // namespace srs::bench

#endif  // SRS_BENCH_SUITE_WORKERS_H_
