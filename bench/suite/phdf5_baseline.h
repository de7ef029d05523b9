// The baseline of phdf5_ratio: what a user would write by hand instead of SRS — every rank's
// block of each array written collectively (H5Pset_fapl_mpio + H5FD_MPIO_COLLECTIVE) into one
// shared HDF5 file, then the file fsynced, so it is as durable as a committed SRS checkpoint.
#ifndef SRS_BENCH_SUITE_PHDF5_BASELINE_H_
#define SRS_BENCH_SUITE_PHDF5_BASELINE_H_

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace srs::bench {

struct BlockArray {
  std::string name;
  const double* data;   // this rank's block
  int64_t local_count;  // the same on every rank
};

// Collective. Seconds from the first rank entering to the last rank done (create, write, close,
// fsync); negative if HDF5 failed (message on stderr).
double Phdf5CollectiveWrite(MPI_Comm comm, const std::string& path,
                            const std::vector<BlockArray>& arrays);

}  // namespace srs::bench

#endif  // SRS_BENCH_SUITE_PHDF5_BASELINE_H_
