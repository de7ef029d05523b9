// The C++ layer (srs.hpp) on 2 and 3 ranks: RAII handles, deduced types, Status messages.
#include <mpi.h>

#include <complex>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "srs/srs.hpp"

namespace {

TEST(CxxApi, StatusCarriesCodeAndMessage) {
  srs::Distribution bad = srs::Distribution::BlockCyclic(0);
  EXPECT_FALSE(bad.valid());
  srs::Status status(SRS_Register("x", nullptr, SRS_DOUBLE, 1, SRS_DIST_NONE));
  EXPECT_EQ(status.code(), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_NE(status.ToString().find("before SRS_Init"), std::string::npos) << status.ToString();
}

TEST(CxxApi, SessionRegistersCheckpointsAndFinishes) {
  int rank = 0, nprocs = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
  srs::Session session;
  ASSERT_TRUE(srs::Session::Init(MPI_COMM_WORLD, nullptr, &session).ok());
  EXPECT_FALSE(session.restarting());
  srs::Distribution cyclic = srs::Distribution::Cyclic();
  int64_t local = 0;
  ASSERT_TRUE(cyclic.LocalCount(100, rank, nprocs, &local).ok());
  std::vector<std::complex<double>> z(static_cast<size_t>(local), {1.0, -1.0});
  std::vector<int64_t> iter(1, 5);
  EXPECT_TRUE(session.Register("z", z.data(), 100, cyclic).ok());
  EXPECT_TRUE(session.Register("iter", iter.data(), 1, srs::Distribution::None()).ok());
  EXPECT_EQ(session.Read("z", z.data(), cyclic).code(), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_TRUE(session.Checkpoint().ok());
  bool stop = true;
  EXPECT_TRUE(session.CheckStop(&stop).ok());
  EXPECT_FALSE(stop);
  srs::Status finished = session.Finish();
  EXPECT_TRUE(finished.ok()) << finished.ToString();
}

}  // namespace
