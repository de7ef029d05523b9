// Proves the toolchain: the launcher and the library are both MPICH (not Open MPI, which Debian
// may have made the default), collectives work at this process count, and parallel HDF5 can
// write one shared file collectively and read it back.
#include <hdf5.h>
#include <mpi.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

TEST(MpiSmoke, LibraryIsMpich) {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  EXPECT_NE(std::string(version, length).find("MPICH"), std::string::npos) << version;
}

TEST(MpiSmoke, AllreduceSeesEveryRank) {
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int sum = 0;
  int one = rank + 1;
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(sum, size * (size + 1) / 2);
}

TEST(MpiSmoke, ParallelHdf5WritesOneSharedFile) {
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::string path = "mpi_smoke_" + std::to_string(size) + ".h5";
  const hsize_t per_rank = 5;
  hsize_t global = per_rank * size;

  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  ASSERT_GE(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL), 0);
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  ASSERT_GE(file, 0);
  hid_t space = H5Screate_simple(1, &global, nullptr);
  hid_t dset = H5Dcreate2(file, "x", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t start = per_rank * rank;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &per_rank, nullptr);
  hid_t memspace = H5Screate_simple(1, &per_rank, nullptr);
  std::vector<int> mine(per_rank);
  for (hsize_t i = 0; i < per_rank; ++i) mine[i] = static_cast<int>(start + i);
  hid_t xfer = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE);
  EXPECT_GE(H5Dwrite(dset, H5T_NATIVE_INT, memspace, space, xfer, mine.data()), 0);
  H5Pclose(xfer);
  H5Sclose(memspace);
  H5Sclose(space);
  H5Dclose(dset);
  H5Fclose(file);
  H5Pclose(fapl);
  MPI_Barrier(MPI_COMM_WORLD);

  if (rank == 0) {
    hid_t in = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(in, 0);
    hid_t x = H5Dopen2(in, "x", H5P_DEFAULT);
    std::vector<int> all(global);
    EXPECT_GE(H5Dread(x, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()), 0);
    for (hsize_t i = 0; i < global; ++i) EXPECT_EQ(all[i], static_cast<int>(i));
    H5Dclose(x);
    H5Fclose(in);
    std::remove(path.c_str());
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
