// Write on N ranks, read on M: every distribution kind read back with every kind (the flagship
// N->M test), plus type conversions and per-rank (NONE) data, every element checked against the
// brute-force reference layouts. Two phases, one mpiexec each (redistribute_pair.sh):
//
//   redistribute_driver write        register one array per kind + typed arrays, checkpoint,
//                                    leave without SRS_Finish
//   redistribute_driver read N       restart on this run's M ranks and check everything
#include <mpi.h>

#include <complex>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "layouts_reference.h"
#include "srs/srs.h"

namespace {

using srs_test::Kind;

int g_rank = 0, g_nprocs = 1, g_failures = 0;

void Check(bool ok, const std::string& what) {
  if (ok) return;
  if (++g_failures <= 20) std::fprintf(stderr, "rank %d: FAILED %s\n", g_rank, what.c_str());
}

void CheckRc(int rc, const std::string& what) {
  Check(rc == SRS_OK, what + " returned " + std::to_string(rc) + " (" + SRS_Error_string(rc) +
                          "): " + SRS_Last_error());
}

double ValueOf(int kind, int64_t g) { return static_cast<double>(g) + 100000.0 * kind; }

// Arrays stay alive until MPI_Finalize: the checkpoint reads them.
std::vector<std::vector<double>> g_kind_arrays;
std::vector<int32_t> g_ints;
std::vector<std::complex<float>> g_cf;
std::vector<int64_t> g_per_rank;

void Write() {
  CheckRc(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Restart_Value() == 0, "fresh start expected");
  for (Kind k : srs_test::AllKinds()) {
    std::vector<int64_t> globals = srs_test::GlobalsOfLocal(k, g_nprocs, g_rank);
    std::vector<double> data;
    for (int64_t g : globals) data.push_back(ValueOf(static_cast<int>(k), g));
    g_kind_arrays.push_back(std::move(data));
    SRS_Distribution d = srs_test::MakeDistribution(k, g_nprocs);
    CheckRc(SRS_Register(("a_" + srs_test::KindName(k)).c_str(), g_kind_arrays.back().data(),
                         SRS_DOUBLE, srs_test::kCount, d),
            "register " + srs_test::KindName(k));
  }
  for (int64_t g : srs_test::GlobalsOfLocal(Kind::kBlock, g_nprocs, g_rank)) {
    g_ints.push_back(static_cast<int32_t>(g * 3 - 7));
  }
  for (int64_t g : srs_test::GlobalsOfLocal(Kind::kBlockCyclic, g_nprocs, g_rank)) {
    g_cf.emplace_back(static_cast<float>(g), -0.5f * static_cast<float>(g));
  }
  for (int i = 0; i < g_rank + 2; ++i) g_per_rank.push_back(g_rank * 100 + i);
  SRS_Distribution block = srs_test::MakeDistribution(Kind::kBlock, g_nprocs);
  SRS_Distribution bc = srs_test::MakeDistribution(Kind::kBlockCyclic, g_nprocs);
  CheckRc(SRS_Register("ints", g_ints.data(), SRS_INT32, srs_test::kCount, block), "ints");
  CheckRc(SRS_Register("cf", g_cf.data(), SRS_FLOAT_COMPLEX, srs_test::kCount, bc), "cf");
  CheckRc(SRS_Register("per_rank", g_per_rank.data(), SRS_INT64, g_rank + 2, SRS_DIST_NONE),
          "per_rank");
  CheckRc(SRS_Checkpoint(), "SRS_Checkpoint");
}

// Reads array `name` with kind `to` and checks every element against value(g).
template <typename T, typename Value>
void ReadAndCheck(const std::string& name, SRS_Datatype type, Kind to, Value value) {
  std::vector<int64_t> globals = srs_test::GlobalsOfLocal(to, g_nprocs, g_rank);
  SRS_Distribution d = srs_test::MakeDistribution(to, g_nprocs);
  int64_t count = -1;
  SRS_Local_count(d, srs_test::kCount, g_rank, g_nprocs, &count);
  Check(count == static_cast<int64_t>(globals.size()), "local count of " + srs_test::KindName(to));
  std::vector<T> buf(globals.size() + 1);
  std::string what = name + " read as " + srs_test::KindName(to);
  CheckRc(SRS_Read(name.c_str(), buf.data(), type, d), what);
  int bad = 0;
  for (size_t i = 0; i < globals.size(); ++i) bad += !(buf[i] == value(globals[i]));
  Check(bad == 0, what + ": " + std::to_string(bad) + " wrong elements");
  SRS_Distribution_free(&d);
}

void ReadPerRank(int old_nprocs) {
  int64_t first[2] = {-1, -1};
  CheckRc(SRS_Read("per_rank", first, SRS_INT64, SRS_DIST_SAME), "per_rank SAME");
  Check(first[0] == 0 && first[1] == 1, "per_rank SAME gives old rank 0's piece");
  if (old_nprocs == g_nprocs) {
    std::vector<int64_t> mine(g_rank + 2);
    CheckRc(SRS_Read("per_rank", mine.data(), SRS_INT64, SRS_DIST_NONE), "per_rank NONE");
    for (int i = 0; i < g_rank + 2; ++i) Check(mine[i] == g_rank * 100 + i, "per_rank NONE value");
  }
  // Read with a distribution, per-rank data is the old ranks' pieces one after the other.
  std::vector<int64_t> all;
  for (int r = 0; r < old_nprocs; ++r) {
    for (int i = 0; i < r + 2; ++i) all.push_back(r * 100 + i);
  }
  SRS_Distribution cyclic = nullptr;
  SRS_Distribution_cyclic(&cyclic);
  int64_t count = 0;
  SRS_Local_count(cyclic, static_cast<int64_t>(all.size()), g_rank, g_nprocs, &count);
  std::vector<int64_t> mine(static_cast<size_t>(count) + 1);
  CheckRc(SRS_Read("per_rank", mine.data(), SRS_INT64, cyclic), "per_rank cyclic");
  for (int64_t i = 0; i < count; ++i) {
    Check(mine[i] == all[i * g_nprocs + g_rank], "per_rank cyclic value");
  }
  SRS_Distribution_free(&cyclic);
}

void Read(int old_nprocs) {
  CheckRc(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Restart_Value() == 1, "restart expected");
  for (Kind from : srs_test::AllKinds()) {
    for (Kind to : srs_test::AllKinds()) {
      ReadAndCheck<double>("a_" + srs_test::KindName(from), SRS_DOUBLE, to,
                           [&](int64_t g) { return ValueOf(static_cast<int>(from), g); });
    }
  }
  // Conversions: int32 -> double and int64, float complex -> double complex.
  ReadAndCheck<double>("ints", SRS_DOUBLE, Kind::kCyclic,
                       [](int64_t g) { return static_cast<double>(g * 3 - 7); });
  ReadAndCheck<int64_t>("ints", SRS_INT64, Kind::kFunc, [](int64_t g) { return g * 3 - 7; });
  ReadAndCheck<std::complex<double>>("cf", SRS_DOUBLE_COMPLEX, Kind::kMap, [](int64_t g) {
    return std::complex<double>(static_cast<double>(g), -0.5 * static_cast<double>(g));
  });
  ReadPerRank(old_nprocs);
  CheckRc(SRS_Check_Stop() == 0 ? SRS_OK : -1, "SRS_Check_Stop");
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_nprocs);
  std::string phase = argc > 1 ? argv[1] : "";
  if (phase == "write") {
    Write();
  } else if (phase == "read" && argc > 2) {
    Read(std::atoi(argv[2]));
  } else {
    std::fprintf(stderr, "usage: %s write | read OLD_NPROCS\n", argv[0]);
    g_failures = 1;
  }
  int failures = 0;
  MPI_Allreduce(&g_failures, &failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0)
    std::printf("redistribute %s on %d ranks: %d failure(s)\n", phase.c_str(), g_nprocs, failures);
  MPI_Finalize();
  return failures == 0 ? 0 : 1;
}
