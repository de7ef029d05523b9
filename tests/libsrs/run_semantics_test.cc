// What one run sees, on 1, 2, 3, 4 and 7 ranks against the real daemons: outside checkpoint
// requests and periodic checkpoints served inside SRS_Check_Stop (which returns 0), SRS_Finish
// removing the job's pieces, mismatched registrations failing on every rank, and an outside stop
// reaching every rank at the same SRS_Check_Stop call.
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "srs/srs.h"

namespace {

int Rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}
int Nprocs() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// Runs the rss_admin helper (rank 0) and returns its stdout, "" on failure. The RSS and depot
// are spoken to from a separate process: this one has libsrs.so, which carries the protos.
std::string Admin(const std::string& args) {
  std::string command = std::string(std::getenv("SRS_RSS_ADMIN")) + " " + args;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  return pclose(pipe) == 0 ? out : "";
}

// Each test is its own job: SRS_APP gets a suffix.
class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_app_ = std::getenv("SRS_APP");
    job_ = base_app_ + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    setenv("SRS_APP", job_.c_str(), 1);
  }
  void TearDown() override { setenv("SRS_APP", base_app_.c_str(), 1); }

  void InitAndRegister() {
    ASSERT_EQ(SRS_Init(MPI_COMM_WORLD, nullptr), SRS_OK) << SRS_Last_error();
    SRS_Distribution_block(&block_);
    int64_t local = 0;
    SRS_Local_count(block_, kCount, Rank(), Nprocs(), &local);
    data_.assign(static_cast<size_t>(local), Rank() + 0.5);
    ASSERT_EQ(SRS_Register("x", data_.data(), SRS_DOUBLE, kCount, block_), SRS_OK);
  }

  // Rank 0: the job's committed epochs; -1 on error.
  int64_t NewestCommittedEpoch() {
    std::string out = Admin("epochs " + job_);
    int64_t newest = 0;
    for (size_t at = 0; at < out.size(); at = out.find('\n', at) + 1) {
      newest = std::max<int64_t>(newest, std::atoll(out.c_str() + at));
      if (out.find('\n', at) == std::string::npos) break;
    }
    return newest;
  }

  // Calls SRS_Check_Stop until rank 0's `done()` holds (agreed by broadcast), at most ~20 s.
  template <typename Done>
  int CheckStopUntil(Done done, int* last_rc) {
    for (int i = 0; i < 2000; ++i) {
      *last_rc = SRS_Check_Stop();
      int finished = (*last_rc != 0) || (Rank() == 0 && done());
      MPI_Bcast(&finished, 1, MPI_INT, 0, MPI_COMM_WORLD);
      if (finished) return i;
      usleep(10000);
    }
    return -1;
  }

  static constexpr int64_t kCount = 1000;
  std::string base_app_, job_;
  SRS_Distribution block_ = nullptr;
  std::vector<double> data_;
};

TEST_F(RunTest, OutsideCheckpointRequestIsServedInCheckStop) {
  InitAndRegister();
  ASSERT_EQ(SRS_Checkpoint(), SRS_OK) << SRS_Last_error();
  int64_t before = Rank() == 0 ? NewestCommittedEpoch() : 0;
  if (Rank() == 0) {
    ASSERT_EQ(system((std::string(std::getenv("SRS_RSS_ADMIN")) + " checkpoint " + job_).c_str()),
              0);
  }
  int rc = 0;
  EXPECT_GE(CheckStopUntil([&] { return NewestCommittedEpoch() > before; }, &rc), 0);
  EXPECT_EQ(rc, 0) << "a requested checkpoint does not stop the job";
  EXPECT_EQ(SRS_Finish(), SRS_OK) << SRS_Last_error();
}

TEST_F(RunTest, PeriodicCheckpointsHappenInsideCheckStop) {
  setenv("SRS_CHECKPOINT_INTERVAL", "0.2", 1);
  InitAndRegister();
  unsetenv("SRS_CHECKPOINT_INTERVAL");
  int rc = 0;
  EXPECT_GE(CheckStopUntil([&] { return NewestCommittedEpoch() >= 2; }, &rc), 0);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(SRS_Finish(), SRS_OK) << SRS_Last_error();
}

TEST_F(RunTest, MismatchedRegistrationsFailTheCheckpointOnEveryRank) {
  InitAndRegister();
  double extra = 1;
  if (Rank() == Nprocs() - 1) {
    ASSERT_EQ(SRS_Register("extra", &extra, SRS_DOUBLE, 1, SRS_DIST_NONE), SRS_OK);
  }
  int expected = Nprocs() > 1 ? SRS_ERR_FAILED_PRECONDITION : SRS_OK;
  EXPECT_EQ(SRS_Checkpoint(), expected) << SRS_Last_error();
  EXPECT_EQ(SRS_Finish(), SRS_OK) << SRS_Last_error();
}

TEST_F(RunTest, FinishDeletesThePieces) {
  InitAndRegister();
  ASSERT_EQ(SRS_Checkpoint(), SRS_OK) << SRS_Last_error();
  std::string depot = std::getenv("SRS_DEPOT_ADDRS");
  depot = depot.substr(0, depot.find(' '));
  MPI_Barrier(MPI_COMM_WORLD);
  if (Rank() == 0) {
    EXPECT_EQ(std::atoi(Admin("pieces " + job_ + " " + depot).c_str()), Nprocs());
  }
  ASSERT_EQ(SRS_Finish(), SRS_OK) << SRS_Last_error();
  int left = 0;
  if (Rank() == 0) {
    left = 1;
    for (int i = 0; i < 100 && left > 0; ++i) {
      left = std::atoi(Admin("pieces " + job_ + " " + depot).c_str());
      if (left > 0) usleep(50000);
    }
  }
  EXPECT_EQ(left, 0) << "pieces left on the depot after SRS_Finish";
}

// Last: after a stop the context stays until MPI_Finalize.
TEST_F(RunTest, OutsideStopReachesEveryRankAtTheSameCall) {
  InitAndRegister();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(SRS_Check_Stop(), 0);
  if (Rank() == 0) {
    ASSERT_EQ(system((std::string(std::getenv("SRS_RSS_ADMIN")) + " stop " + job_).c_str()), 0);
  }
  int rc = 0;
  int calls = CheckStopUntil([] { return false; }, &rc);
  EXPECT_EQ(rc, 1) << SRS_Last_error();
  int lo = 0, hi = 0;
  MPI_Allreduce(&calls, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&calls, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(lo, hi) << "ranks saw the stop at different calls";
  EXPECT_EQ(SRS_Check_Stop(), 1);
  EXPECT_EQ(SRS_Checkpoint(), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_EQ(SRS_Finish(), SRS_ERR_FAILED_PRECONDITION) << "a stopped run must stay resumable";
  if (Rank() == 0) {
    EXPECT_GE(NewestCommittedEpoch(), 1);
  }
}

}  // namespace
