// The end-to-end tests' solver (tests/e2e/), written against the C++ layer srs.hpp, so every
// e2e restart also exercises srs::Session / srs::Distribution on a restart.
//
// State after `iter` sweeps, a known function of (iter, global index g), so any restored state
// is checked element by element and the checkpoint it came from is identified by `iter`:
//   u (double, cyclic)   = 3 g + iter
//   w (int64, block)     = g * 1000 - iter
//   iter (int64, none on write, same on read)
//
//   cxx_solver --n N --iters K [--sleep-ms MS] [--checkpoint-every C]
//
// Rank 0 prints (flushed): "FRESH np=P" or "RESUMED iter=I np=P", "ITER I" every 10 sweeps,
// "CHECKPOINTED iter=I" after each explicit SRS_Checkpoint, then "STOPPED iter=I" or
// "DONE iter=I". Errors: "ERROR <call>: <message>" on stderr (every rank), exit 4; wrong
// restored data: exit 3; usage: exit 2.
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "srs/srs.hpp"

namespace {

int rank_ = 0, nprocs_ = 1;

double U(int64_t g, int64_t iter) {
  return 3.0 * static_cast<double>(g) + static_cast<double>(iter);
}
int64_t W(int64_t g, int64_t iter) { return g * 1000 - iter; }

[[noreturn]] void Die(const char* call, const srs::Status& status) {
  std::fprintf(stderr, "ERROR %s: rank %d: %s\n", call, rank_, status.ToString().c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 4);
  std::exit(4);
}

void Say(const std::string& line) {
  if (rank_ != 0) return;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

struct Options {
  int64_t n = 100000, iters = 100, checkpoint_every = 0;
  int sleep_ms = 0;
};

bool Parse(int argc, char** argv, Options* o) {
  for (int a = 1; a + 1 < argc; a += 2) {
    std::string k = argv[a];
    int64_t v = std::atoll(argv[a + 1]);
    if (k == "--n") {
      o->n = v;
    } else if (k == "--iters") {
      o->iters = v;
    } else if (k == "--sleep-ms") {
      o->sleep_ms = static_cast<int>(v);
    } else if (k == "--checkpoint-every") {
      o->checkpoint_every = v;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && o->n > 0;
}

// Global index of local element j: cyclic (u) and block (w) layouts of DESIGN.md §2.
int64_t CyclicGlobal(int64_t j) { return rank_ + j * nprocs_; }
int64_t BlockFirst(int64_t n) {
  int64_t base = n / nprocs_, extra = n % nprocs_;
  return rank_ * base + (rank_ < extra ? rank_ : extra);
}

int64_t CountWrong(const std::vector<double>& u, const std::vector<int64_t>& w, int64_t n,
                   int64_t iter) {
  int64_t bad = 0, first = BlockFirst(n);
  for (size_t j = 0; j < u.size(); ++j)
    bad += u[j] != U(CyclicGlobal(static_cast<int64_t>(j)), iter);
  for (size_t j = 0; j < w.size(); ++j) bad += w[j] != W(first + static_cast<int64_t>(j), iter);
  int64_t total = 0;
  MPI_Allreduce(&bad, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs_);
  Options o;
  if (!Parse(argc, argv, &o)) {
    if (rank_ == 0)
      std::fprintf(stderr,
                   "usage: cxx_solver --n N --iters K [--sleep-ms MS] [--checkpoint-every C]\n");
    MPI_Finalize();
    return 2;
  }
  srs::Session session;
  srs::Status status = srs::Session::Init(MPI_COMM_WORLD, nullptr, &session);
  if (!status.ok()) Die("Init", status);
  srs::Distribution cyclic = srs::Distribution::Cyclic(), block = srs::Distribution::Block();
  int64_t u_count = 0, w_count = 0;
  cyclic.LocalCount(o.n, rank_, nprocs_, &u_count);
  block.LocalCount(o.n, rank_, nprocs_, &w_count);
  std::vector<double> u(static_cast<size_t>(u_count));
  std::vector<int64_t> w(static_cast<size_t>(w_count));
  int64_t iter = 0;
  if (session.restarting()) {
    if (!(status = session.Read("iter", &iter, srs::Distribution::Same())).ok())
      Die("Read iter", status);
    if (!(status = session.Read("u", u.data(), cyclic)).ok()) Die("Read u", status);
    if (!(status = session.Read("w", w.data(), block)).ok()) Die("Read w", status);
    int64_t wrong = CountWrong(u, w, o.n, iter);
    Say("RESUMED iter=" + std::to_string(iter) + " np=" + std::to_string(nprocs_) +
        " wrong=" + std::to_string(wrong));
    if (wrong != 0) MPI_Abort(MPI_COMM_WORLD, 3);
  } else {
    for (size_t j = 0; j < u.size(); ++j) u[j] = U(CyclicGlobal(static_cast<int64_t>(j)), 0);
    int64_t first = BlockFirst(o.n);
    for (size_t j = 0; j < w.size(); ++j) w[j] = W(first + static_cast<int64_t>(j), 0);
    Say("FRESH np=" + std::to_string(nprocs_));
  }
  if (!(status = session.Register("u", u.data(), o.n, cyclic)).ok()) Die("Register u", status);
  if (!(status = session.Register("w", w.data(), o.n, block)).ok()) Die("Register w", status);
  if (!(status = session.Register("iter", &iter, 1, srs::Distribution::None())).ok()) {
    Die("Register iter", status);
  }
  while (iter < o.iters) {
    for (double& x : u) x += 1.0;
    for (int64_t& x : w) x -= 1;
    ++iter;
    if (iter % 10 == 0) Say("ITER " + std::to_string(iter));
    if (o.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.sleep_ms));
    if (o.checkpoint_every > 0 && iter % o.checkpoint_every == 0) {
      if (!(status = session.Checkpoint()).ok()) Die("Checkpoint", status);
      Say("CHECKPOINTED iter=" + std::to_string(iter));
    }
    bool stop = false;
    if (!(status = session.CheckStop(&stop)).ok()) Die("CheckStop", status);
    if (stop) {
      Say("STOPPED iter=" + std::to_string(iter));
      MPI_Finalize();  // without Finish: the job is to be resumed
      return 0;
    }
  }
  if (CountWrong(u, w, o.n, iter) != 0) MPI_Abort(MPI_COMM_WORLD, 3);
  if (!(status = session.Finish()).ok()) Die("Finish", status);
  Say("DONE iter=" + std::to_string(iter));
  MPI_Finalize();
  return 0;
}
