// Many small arrays, N -> M: the restart path with no per-array fixed cost (one OpenLocal per
// piece, one connection per depot, reused across every SRS_Read) must still put every element
// of every array in its place. Arrays of several lengths (some shorter than the rank count, so
// some ranks hold nothing) and layouts (block, cyclic, block-cyclic), read back with a
// different layout than they were written with. Two phases (redistribute_pair.sh):
//
//   many_arrays_driver write     register kArrays arrays, checkpoint, leave without SRS_Finish
//   many_arrays_driver read N    restart on M ranks, read and check every array, SRS_Finish
#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "srs/srs.h"

namespace {

constexpr int kArrays = 300;
int g_rank = 0, g_nprocs = 1, g_failures = 0;

void Check(bool ok, const std::string& what) {
  if (ok) return;
  if (++g_failures <= 20) std::fprintf(stderr, "rank %d: FAILED %s\n", g_rank, what.c_str());
}

void CheckRc(int rc, const std::string& what) {
  Check(rc == SRS_OK, what + " returned " + std::to_string(rc) + ": " + SRS_Last_error());
}

std::string Name(int k) { return "arr" + std::to_string(k); }
int64_t Length(int k) { return k % 7 == 0 ? 2 : 1000 + 37 * (k % 11); }  // some tiny ones
double Value(int k, int64_t g) { return k * 1e6 + static_cast<double>(g); }

// Writer and reader use different layouts, so every read redistributes.
SRS_Distribution Layout(int k, bool writing) {
  SRS_Distribution d = nullptr;
  switch ((k + (writing ? 0 : 1)) % 3) {
    case 0:
      SRS_Distribution_block(&d);
      break;
    case 1:
      SRS_Distribution_cyclic(&d);
      break;
    default:
      SRS_Distribution_block_cyclic(16, &d);
      break;
  }
  return d;
}

// Global indices this rank holds under `d`, in local order (block, cyclic, block-cyclic are
// all increasing in global order).
std::vector<int64_t> Globals(SRS_Distribution d, int64_t n, int k, bool writing) {
  std::vector<int64_t> out;
  const int kind = (k + (writing ? 0 : 1)) % 3;
  int64_t local = 0;
  SRS_Local_count(d, n, g_rank, g_nprocs, &local);
  for (int64_t g = 0; g < n; ++g) {
    int owner = 0;
    if (kind == 0) {
      int64_t base = n / g_nprocs, extra = n % g_nprocs;
      owner = g < extra * (base + 1) ? static_cast<int>(g / (base + 1))
                                     : static_cast<int>(extra + (g - extra * (base + 1)) / base);
    } else if (kind == 1) {
      owner = static_cast<int>(g % g_nprocs);
    } else {
      owner = static_cast<int>((g / 16) % g_nprocs);
    }
    if (owner == g_rank) out.push_back(g);
  }
  Check(static_cast<int64_t>(out.size()) == local, "local count of " + Name(k));
  return out;
}

std::vector<std::vector<double>> g_arrays;  // alive until MPI_Finalize: the checkpoint reads them

void Write() {
  CheckRc(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  for (int k = 0; k < kArrays; ++k) {
    SRS_Distribution d = Layout(k, true);
    std::vector<double> data;
    for (int64_t g : Globals(d, Length(k), k, true)) data.push_back(Value(k, g));
    g_arrays.push_back(std::move(data));
    CheckRc(SRS_Register(Name(k).c_str(), g_arrays.back().data(), SRS_DOUBLE, Length(k), d),
            "register " + Name(k));
  }
  CheckRc(SRS_Checkpoint(), "SRS_Checkpoint");
}

void Read() {
  CheckRc(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Restart_Value() == 1, "restart expected");
  for (int k = 0; k < kArrays; ++k) {
    SRS_Distribution d = Layout(k, false);
    std::vector<int64_t> globals = Globals(d, Length(k), k, false);
    std::vector<double> data(globals.size() + 1, -1.0);  // +1: never a null pointer
    CheckRc(SRS_Read(Name(k).c_str(), data.data(), SRS_DOUBLE, d), "read " + Name(k));
    for (size_t i = 0; i < globals.size(); ++i) {
      Check(data[i] == Value(k, globals[i]),
            Name(k) + "[" + std::to_string(globals[i]) + "] = " + std::to_string(data[i]));
    }
    SRS_Distribution_free(&d);
  }
  CheckRc(SRS_Finish(), "SRS_Finish");
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_nprocs);
  std::string phase = argc > 1 ? argv[1] : "";
  if (phase == "write") {
    Write();
  } else if (phase == "read") {
    Read();
  } else {
    std::fprintf(stderr, "usage: many_arrays_driver write | read N\n");
    g_failures = 1;
  }
  int failures = 0;
  MPI_Allreduce(&g_failures, &failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0 && failures == 0) std::printf("many_arrays_driver %s: ok\n", phase.c_str());
  MPI_Finalize();
  return failures == 0 ? 0 : 1;
}
