#include "bench/suite/phdf5_baseline.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdio>

namespace srs::bench {
namespace {

// Writes one array's blocks collectively; false on an HDF5 error.
bool WriteArray(hid_t file, const BlockArray& a, int rank, int nprocs) {
  hsize_t global = static_cast<hsize_t>(a.local_count) * static_cast<hsize_t>(nprocs);
  hsize_t local = static_cast<hsize_t>(a.local_count);
  hsize_t offset = local * static_cast<hsize_t>(rank);
  hid_t filespace = H5Screate_simple(1, &global, nullptr);
  hid_t dset = H5Dcreate2(file, a.name.c_str(), H5T_NATIVE_DOUBLE, filespace, H5P_DEFAULT,
                          H5P_DEFAULT, H5P_DEFAULT);
  hid_t memspace = H5Screate_simple(1, &local, nullptr);
  H5Sselect_hyperslab(filespace, H5S_SELECT_SET, &offset, nullptr, &local, nullptr);
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  herr_t err = H5Dwrite(dset, H5T_NATIVE_DOUBLE, memspace, filespace, dxpl, a.data);
  H5Pclose(dxpl);
  H5Sclose(memspace);
  H5Dclose(dset);
  H5Sclose(filespace);
  return dset >= 0 && err >= 0;
}

}  // namespace

double Phdf5CollectiveWrite(MPI_Comm comm, const std::string& path,
                            const std::vector<BlockArray>& arrays) {
  int rank, nprocs;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &nprocs);
  MPI_Barrier(comm);
  double t0 = MPI_Wtime();
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  int ok = file >= 0;
  for (const auto& a : arrays)
    if (ok) ok = WriteArray(file, a, rank, nprocs);
  if (file >= 0 && H5Fclose(file) < 0) ok = 0;
  // One fsync of the shared file makes every rank's bytes durable (one node, one page cache).
  if (rank == 0 && ok) {
    int fd = open(path.c_str(), O_RDONLY);
    ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
  }
  int all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
  double elapsed = MPI_Wtime() - t0, slowest = 0;
  MPI_Allreduce(&elapsed, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm);
  if (!all_ok) {
    if (rank == 0)
      fprintf(stderr, "srs-bench-suite: parallel HDF5 write of %s failed\n", path.c_str());
    return -1;
  }
  return slowest;
}

}  // namespace srs::bench
