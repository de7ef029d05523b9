// Driver of the asynchronous checkpoint tests (async_checkpoint.sh, async_fault.sh). One array
// "u" (block layout, N doubles) with u[g] = g + 1000 * version, and "version" (one int per rank,
// read back with SRS_DIST_SAME), so any restored state names the moment it was copied.
//
//   async_driver copy N       periodic async checkpoint held in flight (SRS_TEST_ASYNC_HOLD) while
//                             the arrays change; a periodic one falls due (skipped); release;
//                             SRS_Checkpoint drains it (waited); another async one; an outside
//                             stop drains and commits. Versions 1 (async), 2 (sync), 3 (stop).
//   async_driver fallback N   staging_limit below the arrays: the periodic checkpoint of
//                             version 1 must commit synchronously although the flusher is held
//                             forever; then an outside stop (version 2).
//   async_driver crash N      SRS_Checkpoint of version 1, then an async checkpoint of version 2
//                             whose flush the last rank interrupts with SIGKILL (held in flight
//                             when SRS_TEST_ASYNC_HOLD is set, else a few ms into the write).
//   async_driver verify V N   resume (any rank count) and check every element holds version V.
//
// Timing waits (usleep) only make a periodic interval elapse; nothing asserts a duration. Rank 0
// prints "ok MODE" at the end; exit 2 on an SRS error, 3 on wrong data.
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "srs/srs.h"

namespace {

int rank_ = 0, nprocs_ = 1;

void Check(int rc, const char* what) {
  if (rc == SRS_OK) return;
  std::fprintf(stderr, "rank %d: %s: %s: %s\n", rank_, what, SRS_Error_string(rc),
               SRS_Last_error());
  MPI_Abort(MPI_COMM_WORLD, 2);
}

struct State {
  int64_t n = 0, local = 0, first = 0;
  std::vector<double> u;
  int version = 0;
  SRS_Distribution block = nullptr;

  void Init(int64_t count) {
    n = count;
    Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
    Check(SRS_Distribution_block(&block), "block");
    Check(SRS_Local_count(block, n, rank_, nprocs_, &local), "SRS_Local_count");
    for (int r = 0; r < rank_; ++r) first += n / nprocs_ + (r < n % nprocs_ ? 1 : 0);
    u.assign(static_cast<size_t>(local), 0);
  }
  void Register() {
    Check(SRS_Register("u", u.data(), SRS_DOUBLE, n, block), "register u");
    Check(SRS_Register("version", &version, SRS_INT, 1, SRS_DIST_NONE), "register version");
  }
  void Set(int v) {
    version = v;
    for (int64_t i = 0; i < local; ++i) u[i] = static_cast<double>(first + i + 1000 * v);
  }
};

// Long enough for any periodic interval the scripts set (0.05 s) to elapse.
void PastInterval() { usleep(120 * 1000); }

void Say(const std::string& line) {
  if (rank_ != 0) return;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void ReleaseHold() {
  const char* hold = std::getenv("SRS_TEST_ASYNC_HOLD");
  if (rank_ == 0 && hold != nullptr) std::ofstream(hold) << "go\n";
  MPI_Barrier(MPI_COMM_WORLD);
}

// Asks for a stop from outside (rank 0, through the RSS) and calls SRS_Check_Stop until it
// returns 1 on every rank (at most ~60 s).
void StopFromOutside() {
  if (rank_ == 0) {
    std::string cmd = std::string(std::getenv("SRS_RSS_ADMIN")) + " stop " + std::getenv("SRS_APP");
    if (std::system(cmd.c_str()) != 0) MPI_Abort(MPI_COMM_WORLD, 2);
  }
  for (int i = 0; i < 6000; ++i) {
    int rc = SRS_Check_Stop();
    if (rc < 0) Check(rc, "SRS_Check_Stop");
    if (rc == 1) return;
    usleep(10 * 1000);
  }
  std::fprintf(stderr, "rank %d: the stop never arrived\n", rank_);
  MPI_Abort(MPI_COMM_WORLD, 2);
}

void CheckStopIsZero(const char* when) {
  int rc = SRS_Check_Stop();
  if (rc != 0) {
    std::fprintf(stderr, "rank %d: SRS_Check_Stop %s returned %d (%s)\n", rank_, when, rc,
                 SRS_Last_error());
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
}

void Copy(State& s) {
  s.Set(1);
  PastInterval();
  CheckStopIsZero("starting the async checkpoint");  // version 1 staged, flush held
  s.Set(2);                                          // must not reach that checkpoint
  PastInterval();
  CheckStopIsZero("while one is in flight");  // periodic due: skipped
  ReleaseHold();
  Check(SRS_Checkpoint(), "SRS_Checkpoint");  // drains version 1, then commits version 2
  s.Set(3);
  PastInterval();
  CheckStopIsZero("starting the second async checkpoint");
  StopFromOutside();  // drains, then the stop checkpoint of version 3
}

void Fallback(State& s) {
  s.Set(1);
  PastInterval();
  CheckStopIsZero("of the synchronous fallback");  // must commit although the flusher is held
  s.Set(2);
  StopFromOutside();
}

void Crash(State& s) {
  s.Set(1);
  Check(SRS_Checkpoint(), "SRS_Checkpoint");
  s.Set(2);
  PastInterval();
  CheckStopIsZero("starting the async checkpoint");
  s.Set(3);
  Say("flushing");
  // The same as a file: the launcher may drop the line when the job dies right after it.
  const char* mark = std::getenv("SRS_TEST_ASYNC_MARK");
  if (rank_ == 0 && mark != nullptr) std::ofstream(mark) << "flushing\n";
  // Rank 0 has said so before anyone dies: with 3 ranks on 2 cores it can be descheduled for
  // longer than the 3 ms below, and the SIGKILL then took it down first.
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_ == nprocs_ - 1) {
    std::thread([] {
      usleep(3 * 1000);
      raise(SIGKILL);
    }).detach();
  }
  for (int i = 0; i < 6000; ++i) {  // the job dies in here
    SRS_Check_Stop();
    usleep(10 * 1000);
  }
  MPI_Abort(MPI_COMM_WORLD, 4);  // SIGKILL never came
}

void Verify(State& s, int expected) {
  if (SRS_Restart_Value() != 1) {
    std::fprintf(stderr, "rank %d: not a restart\n", rank_);
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
  Check(SRS_Read("u", s.u.data(), SRS_DOUBLE, s.block), "SRS_Read u");
  Check(SRS_Read("version", &s.version, SRS_INT, SRS_DIST_SAME), "SRS_Read version");
  int bad = s.version != expected;
  for (int64_t i = 0; i < s.local; ++i) {
    if (s.u[i] != static_cast<double>(s.first + i + 1000 * expected)) bad = 1;
  }
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (any) {
    std::fprintf(stderr, "rank %d: restored version %d (u[0] = %g), expected %d\n", rank_,
                 s.version, s.local > 0 ? s.u[0] : -1.0, expected);
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
  if (std::getenv("ASYNC_DRIVER_FINISH") != nullptr) Check(SRS_Finish(), "SRS_Finish");
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs_);
  std::string mode = argc > 1 ? argv[1] : "";
  int arg = 2;
  int expected = mode == "verify" && argc > arg ? std::atoi(argv[arg++]) : 0;
  if (argc <= arg) {
    std::fprintf(stderr, "usage: async_driver copy|fallback|crash N | verify VERSION N\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  State s;
  s.Init(std::atoll(argv[arg]));
  s.Register();
  if (mode == "copy") {
    Copy(s);
  } else if (mode == "fallback") {
    Fallback(s);
  } else if (mode == "crash") {
    Crash(s);
  } else if (mode == "verify") {
    Verify(s, expected);
  } else {
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  Say("ok " + mode);
  MPI_Finalize();
  return 0;
}
