// cg — the conjugate gradient method for A x = b, A the 5-point Laplacian of an n x n grid
// (Dirichlet boundary: 4 on the diagonal, -1 for each grid neighbour; symmetric positive
// definite), b = 1, x0 = 0; instrumented with SRS.
//
//   mpiexec -n 3 cg [--n 64] [--iters 500] [--tol 1e-10] [--dist block|cyclic] [--sleep-ms 0]
//                   [--out FILE]
//
// The vectors x, r, p are distributed by SRS's block or cyclic distribution (--dist); a resumed
// run may use the other one and any process count: SRS redistributes. The scalar state (the
// iteration count and rho = r.r) is read back with SRS_DIST_SAME, so the resumed iteration
// continues the exact recurrence instead of recomputing rho.
//
// The matrix-vector product gathers p on every rank (MPI_Allgatherv) and applies the stencil to
// the owned rows: simple and fine for the small grids of an example; a large code would exchange
// halos only.
//
// SRS: 15 calls (marked "SRS"). Output: iterations, ||b - A x|| and ||x||, and with --out the
// solution x as raw doubles in global order.
#include <mpi.h>
#include <srs/srs.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  int64_t n = 64;
  int iters = 500;
  double tol = 1e-10;
  bool cyclic = false;
  int sleep_ms = 0;
  std::string out;
};

// Aborts the job with the failed call's detailed message (a solver cannot go on without SRS).
void Check(int rc, const char* what) {
  if (rc >= 0) return;
  std::fprintf(stderr, "cg: %s failed: %s: %s\n", what, SRS_Error_string(rc), SRS_Last_error());
  MPI_Abort(MPI_COMM_WORLD, 1);
}

bool ParseOptions(int argc, char** argv, Options* opt) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i], value = argv[i + 1];
    if (name == "--n") {
      opt->n = std::atoll(value.c_str());
    } else if (name == "--iters") {
      opt->iters = std::atoi(value.c_str());
    } else if (name == "--tol") {
      opt->tol = std::atof(value.c_str());
    } else if (name == "--dist" && (value == "block" || value == "cyclic")) {
      opt->cyclic = value == "cyclic";
    } else if (name == "--sleep-ms") {
      opt->sleep_ms = std::atoi(value.c_str());
    } else if (name == "--out") {
      opt->out = value;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && opt->n >= 2 && opt->iters >= 0;
}

// The global indices a rank owns, in local order (DESIGN.md §2's block and cyclic).
std::vector<int64_t> OwnedIndices(int64_t n, bool cyclic, int rank, int nprocs) {
  std::vector<int64_t> idx;
  if (cyclic) {
    for (int64_t g = rank; g < n; g += nprocs) idx.push_back(g);
  } else {
    int64_t base = n / nprocs, extra = n % nprocs;
    int64_t lo = rank * base + std::min<int64_t>(rank, extra);
    for (int64_t g = lo; g < lo + base + (rank < extra ? 1 : 0); ++g) idx.push_back(g);
  }
  return idx;
}

// The distributed vectors' layout and the gather that the matrix-vector product needs.
class Layout {
 public:
  Layout(int64_t n_side, bool cyclic, int rank, int nprocs)
      : n_side_(n_side), counts_(nprocs), displs_(nprocs) {
    int64_t n = n_side * n_side;
    owned_ = OwnedIndices(n, cyclic, rank, nprocs);
    for (int r = 0; r < nprocs; ++r) {
      std::vector<int64_t> idx = OwnedIndices(n, cyclic, r, nprocs);
      counts_[r] = static_cast<int>(idx.size());
      displs_[r] = static_cast<int>(order_.size());
      order_.insert(order_.end(), idx.begin(), idx.end());
    }
    gathered_.resize(n);
    global_.resize(n);
  }
  size_t local() const { return owned_.size(); }

  // All of v (distributed), in global order, on every rank.
  const std::vector<double>& Gather(const std::vector<double>& v) {
    MPI_Allgatherv(v.data(), static_cast<int>(v.size()), MPI_DOUBLE, gathered_.data(),
                   counts_.data(), displs_.data(), MPI_DOUBLE, MPI_COMM_WORLD);
    for (size_t k = 0; k < order_.size(); ++k) global_[order_[k]] = gathered_[k];
    return global_;
  }

  // y = A v on the owned rows.
  void Apply(const std::vector<double>& v, std::vector<double>* y) {
    const std::vector<double>& g = Gather(v);
    for (size_t k = 0; k < owned_.size(); ++k) {
      int64_t i = owned_[k], row = i / n_side_, col = i % n_side_;
      double s = 4.0 * g[i];
      if (col > 0) s -= g[i - 1];
      if (col + 1 < n_side_) s -= g[i + 1];
      if (row > 0) s -= g[i - n_side_];
      if (row + 1 < n_side_) s -= g[i + n_side_];
      (*y)[k] = s;
    }
  }

 private:
  int64_t n_side_;
  std::vector<int64_t> owned_, order_;
  std::vector<int> counts_, displs_;
  std::vector<double> gathered_, global_;
};

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double local = 0, global = 0;
  for (size_t k = 0; k < a.size(); ++k) local += a[k] * b[k];
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return global;
}

// Prints the true residual and writes x (global order) to opt.out on rank 0.
int Report(Layout* layout, const std::vector<double>& x, int iteration, const Options& opt,
           int rank) {
  std::vector<double> ax(x.size());
  layout->Apply(x, &ax);
  double res2_local = 0;
  for (double v : ax) res2_local += (1.0 - v) * (1.0 - v);
  double res2 = 0;
  MPI_Allreduce(&res2_local, &res2, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  const std::vector<double>& global = layout->Gather(x);
  int rc = 0;
  if (rank == 0) {
    double norm2 = 0;
    for (double v : global) norm2 += v * v;
    std::printf("cg: n=%lld iterations=%d residual=%.6e norm(x)=%.17g\n",
                static_cast<long long>(opt.n), iteration, std::sqrt(res2), std::sqrt(norm2));
    if (!opt.out.empty()) {
      std::ofstream f(opt.out, std::ios::binary);
      f.write(reinterpret_cast<const char*>(global.data()),
              static_cast<std::streamsize>(global.size() * sizeof(double)));
      rc = f.good() ? 0 : 1;
      if (rc != 0) std::fprintf(stderr, "cg: cannot write %s\n", opt.out.c_str());
    }
  }
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, nprocs = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
  Options opt;
  if (!ParseOptions(argc, argv, &opt)) {
    if (rank == 0) {
      std::fprintf(stderr,
                   "usage: cg [--n N] [--iters K] [--tol T] [--dist block|cyclic] "
                   "[--sleep-ms MS] [--out FILE]\n");
    }
    MPI_Finalize();
    return 2;
  }
  const int64_t n = opt.n * opt.n;
  Layout layout(opt.n, opt.cyclic, rank, nprocs);
  const size_t m = layout.local();
  std::vector<double> x(m, 0.0), r(m, 1.0), p(m, 1.0), q(m);  // x0 = 0: r = p = b = 1
  double rho = 0;
  int iteration = 0;

  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");                               // SRS
  SRS_Distribution dist;                                                              // SRS
  Check(opt.cyclic ? SRS_Distribution_cyclic(&dist) : SRS_Distribution_block(&dist),  // SRS
        "distribution");
  // Registered first, so SRS_Read knows the vectors' sizes (another n is an error, no overrun).
  Check(SRS_Register("x", x.data(), SRS_DOUBLE, n, dist), "SRS_Register x");           // SRS
  Check(SRS_Register("r", r.data(), SRS_DOUBLE, n, dist), "SRS_Register r");           // SRS
  Check(SRS_Register("p", p.data(), SRS_DOUBLE, n, dist), "SRS_Register p");           // SRS
  Check(SRS_Register("rho", &rho, SRS_DOUBLE, 1, SRS_DIST_NONE), "SRS_Register rho");  // SRS
  Check(SRS_Register("iteration", &iteration, SRS_INT, 1, SRS_DIST_NONE),              // SRS
        "SRS_Register iteration");
  if (SRS_Restart_Value() == 1) {                                                            // SRS
    Check(SRS_Read("x", x.data(), SRS_DOUBLE, dist), "SRS_Read x");                          // SRS
    Check(SRS_Read("r", r.data(), SRS_DOUBLE, dist), "SRS_Read r");                          // SRS
    Check(SRS_Read("p", p.data(), SRS_DOUBLE, dist), "SRS_Read p");                          // SRS
    Check(SRS_Read("rho", &rho, SRS_DOUBLE, SRS_DIST_SAME), "SRS_Read rho");                 // SRS
    Check(SRS_Read("iteration", &iteration, SRS_INT, SRS_DIST_SAME), "SRS_Read iteration");  // SRS
    if (rank == 0) std::printf("cg: resumed at step %d on %d ranks\n", iteration, nprocs);
  } else {
    rho = Dot(r, r);
  }

  if (rank == 0) {
    std::printf("cg: running on %d ranks (%s) from step %d\n", nprocs,
                opt.cyclic ? "cyclic" : "block", iteration);
    std::fflush(stdout);
  }
  const double stop_rho = opt.tol * opt.tol * static_cast<double>(n);  // ||r|| < tol ||b||
  while (iteration < opt.iters && rho > stop_rho) {
    layout.Apply(p, &q);
    const double alpha = rho / Dot(p, q);
    for (size_t k = 0; k < m; ++k) {
      x[k] += alpha * p[k];
      r[k] -= alpha * q[k];
    }
    const double rho_next = Dot(r, r);
    const double beta = rho_next / rho;
    rho = rho_next;
    for (size_t k = 0; k < m; ++k) p[k] = r[k] + beta * p[k];
    ++iteration;
    if (opt.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opt.sleep_ms));
    const int stop = SRS_Check_Stop();  // SRS
    Check(stop, "SRS_Check_Stop");
    if (stop == 1) {
      if (rank == 0) std::printf("cg: stopped at step %d, checkpoint committed\n", iteration);
      MPI_Finalize();
      return 0;
    }
  }

  const int rc = Report(&layout, x, iteration, opt, rank);
  Check(SRS_Finish(), "SRS_Finish");  // SRS
  MPI_Finalize();
  return rc;
}
