#include "bench/suite/workers.h"

#include <fcntl.h>
#include <mpi.h>
#include <srs/srs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/suite/loopback_stream.h"
#include "bench/suite/phdf5_baseline.h"

namespace srs::bench {
namespace {

struct Args {
  std::string mode;
  int64_t bytes = 64 << 20;
  double seconds = 0;
  int64_t iters = 0;
  int rounds = 3;
  double interval = 1;
  std::string workdir = ".";
  std::string helper;  // srs-bench-suite, for its --helper requests to the RSS
};

int g_rank = 0, g_nprocs = 1;

void Emit(const char* name, double value) {
  if (g_rank != 0) return;
  printf("SRSBENCH %s %.9g\n", name, value);
  fflush(stdout);
}

void Fail(const std::string& what) {
  fprintf(stderr, "srs-bench-suite worker [rank %d]: %s\n", g_rank, what.c_str());
  MPI_Abort(MPI_COMM_WORLD, 2);
}

void Check(int rc, const char* what) {
  if (rc < 0) Fail(std::string(what) + ": " + SRS_Error_string(rc) + " (" + SRS_Last_error() + ")");
}

double MaxOver(double v) {
  double out = 0;
  MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

// Runs `srs-bench-suite --helper WHAT` (the RSS's admin calls live there: this process links
// libsrs, which carries its own copy of the protos) and returns its exit status; its stdout goes
// to *out.
int RunHelper(const Args& a, const char* what, std::string* out) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(a.helper.c_str(), a.helper.c_str(), "--helper", what, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out->append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = -1;
  if (pid > 0) waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct StopTimes {
  double request_to_commit;  // stop requested -> SRS_Check_Stop returned 1, slowest rank
  double checkpoint_call;    // the SRS_Check_Stop call that wrote and committed, slowest rank
};

// Requests a stop of this job from outside (rank 0, admin token, like `srs stop`) and calls
// SRS_Check_Stop until it returns 1. The clock starts once the RSS acknowledged the request.
StopTimes StopAndCheckpoint(const Args& a) {
  MPI_Barrier(MPI_COMM_WORLD);
  int ok = 1;
  std::string ignored;
  if (g_rank == 0) ok = RunHelper(a, "stop", &ignored) == 0;
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (!ok) Fail("could not request a stop");
  double t0 = MPI_Wtime();  // the RSS has acknowledged the stop request
  for (;;) {
    double c0 = MPI_Wtime();
    int rc = SRS_Check_Stop();
    Check(rc, "SRS_Check_Stop");
    double c1 = MPI_Wtime();
    if (rc == 1) return StopTimes{MaxOver(c1 - t0), MaxOver(c1 - c0)};
    if (c1 - t0 > 300) Fail("no stop seen 300 s after requesting it");
    usleep(500);
  }
}

// Block layout (DESIGN.md): the first n % P ranks hold one element more.
void BlockRange(int64_t n, int64_t* first, int64_t* count) {
  int64_t base = n / g_nprocs, extra = n % g_nprocs;
  *count = base + (g_rank < extra ? 1 : 0);
  *first = g_rank * base + (g_rank < extra ? g_rank : extra);
}

std::string RawPath(const Args& a, int rank) {
  return a.workdir + "/raw-" + Env("SRS_APP") + "-" + std::to_string(rank) + ".bin";
}

// ---- phdf5 -------------------------------------------------------------------------------

int RunPhdf5(const Args& a) {
  int64_t n = a.bytes / 16;  // two double arrays
  std::vector<double> u(n), v(n);
  for (int64_t i = 0; i < n; ++i) u[i] = g_rank * 1e9 + i, v[i] = -u[i];
  SRS_Distribution block;
  SRS_Distribution_block(&block);
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Register("u", u.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register u");
  Check(SRS_Register("v", v.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register v");
  std::vector<BlockArray> arrays = {{"u", u.data(), n}, {"v", v.data(), n}};
  std::string path = a.workdir + "/phdf5-" + Env("SRS_APP") + ".h5";
  auto phdf5 = [&](const std::vector<BlockArray>& what) {
    double t = Phdf5CollectiveWrite(MPI_COMM_WORLD, path, what);
    if (t < 0) Fail("parallel HDF5 write failed");
    if (g_rank == 0) unlink(path.c_str());
    MPI_Barrier(MPI_COMM_WORLD);
    return t;
  };
  phdf5({{"warmup", u.data(), 1}});  // MPI-IO and HDF5 set-up costs out of the figure
  double first = phdf5(arrays);
  StopTimes ours = StopAndCheckpoint(a);
  double second = phdf5(arrays);
  Emit("srs_checkpoint_seconds", ours.checkpoint_call);
  Emit("phdf5_seconds_before", first);
  Emit("phdf5_seconds_after", second);
  Emit("phdf5_bytes_per_rank", static_cast<double>(2 * n * sizeof(double)));
  MPI_Finalize();
  return 0;
}

// ---- restart (NONE and SAME) -------------------------------------------------------------

double Pattern(int rank, int64_t i) { return rank * 1e9 + static_cast<double>(i); }

int RunRestartWrite(const Args& a) {
  int64_t n = a.bytes / 8;
  std::vector<double> none_arr(n), same_arr(n);
  for (int64_t i = 0; i < n; ++i) none_arr[i] = same_arr[i] = Pattern(g_rank, i);
  int fd = open(RawPath(a, g_rank).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  size_t want = n * sizeof(double);
  bool ok =
      fd >= 0 && write(fd, none_arr.data(), want) == static_cast<ssize_t>(want) && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!ok) Fail("cannot write the raw baseline file " + RawPath(a, g_rank));
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Register("none_arr", none_arr.data(), SRS_DOUBLE, n, SRS_DIST_NONE), "Register");
  Check(SRS_Register("same_arr", same_arr.data(), SRS_DOUBLE, n, SRS_DIST_NONE), "Register");
  StopTimes t = StopAndCheckpoint(a);
  Emit("restart_write_checkpoint_seconds", t.checkpoint_call);
  MPI_Finalize();
  return 0;
}

// Reads the raw file of `rank` into buf; seconds.
double RawRead(const Args& a, int rank, std::vector<double>* buf) {
  double t0 = MPI_Wtime();
  int fd = open(RawPath(a, rank).c_str(), O_RDONLY);
  size_t want = buf->size() * sizeof(double), got = 0;
  while (fd >= 0 && got < want) {
    ssize_t r = read(fd, reinterpret_cast<char*>(buf->data()) + got, want - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  if (fd >= 0) close(fd);
  if (got != want) Fail("short read of " + RawPath(a, rank));
  return MPI_Wtime() - t0;
}

void BcastDoubles(std::vector<double>* buf) {
  const size_t chunk = 1 << 26;  // elements per MPI_Bcast (int counts)
  for (size_t at = 0; at < buf->size(); at += chunk) {
    int count = static_cast<int>(std::min(chunk, buf->size() - at));
    MPI_Bcast(buf->data() + at, count, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  }
}

void VerifyPattern(const std::vector<double>& buf, int rank, const char* what) {
  for (size_t i = 0; i < buf.size(); ++i)
    if (buf[i] != Pattern(rank, static_cast<int64_t>(i)))
      Fail(std::string(what) + ": element " + std::to_string(i) + " is wrong");
}

double Timed(const std::function<void()>& body) {
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  body();
  return MaxOver(MPI_Wtime() - t0);
}

int RunRestartRead(const Args& a) {
  int64_t n = a.bytes / 8;
  std::vector<double> buf(n);
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  if (SRS_Restart_Value() != 1) Fail("restart-read: this run is not a restart");
  double raw_none = Timed([&] { RawRead(a, g_rank, &buf); });
  double srs_none = Timed(
      [&] { Check(SRS_Read("none_arr", buf.data(), SRS_DOUBLE, SRS_DIST_NONE), "Read NONE"); });
  VerifyPattern(buf, g_rank, "none_arr");
  // The network floor (srs-bench-redundancy's degraded_restart_floor), measured after the
  // library's read so both of its reads find the machine as warm: the raw read again, then the
  // same read where odd ranks' bytes come over the network (a loopback TCP stream of the same
  // size) while even ranks read their own file — what a restart that has lost the odd ranks'
  // local copies must at least pay here.
  std::vector<char> network_source(n * sizeof(double), 'x');
  LoopbackStream link;
  std::string link_error;
  if (!link.Connect(&link_error)) Fail(link_error);
  double raw_local_none = Timed([&] { RawRead(a, g_rank, &buf); });
  double raw_network_none = Timed([&] {
    if (g_rank % 2 == 0) {
      RawRead(a, g_rank, &buf);
    } else if (!link.Stream(network_source.data(), reinterpret_cast<char*>(buf.data()),
                            network_source.size())) {
      Fail("raw TCP baseline: short stream");
    }
  });
  std::fill(buf.begin(), buf.end(), 0.0);
  double raw_same = Timed([&] {
    if (g_rank == 0) RawRead(a, 0, &buf);
    BcastDoubles(&buf);
  });
  std::fill(buf.begin(), buf.end(), 0.0);
  double srs_same = Timed(
      [&] { Check(SRS_Read("same_arr", buf.data(), SRS_DOUBLE, SRS_DIST_SAME), "Read SAME"); });
  VerifyPattern(buf, 0, "same_arr");
  unlink(RawPath(a, g_rank).c_str());
  Emit("restart_none_seconds", srs_none);
  Emit("raw_read_none_seconds", raw_none);
  Emit("raw_local_none_seconds", raw_local_none);
  Emit("raw_network_none_seconds", raw_network_none);
  Emit("restart_same_seconds", srs_same);
  Emit("raw_read_same_seconds", raw_same);
  Emit("restart_bytes_per_rank", static_cast<double>(n * sizeof(double)));
  Check(SRS_Finish(), "SRS_Finish");
  MPI_Finalize();
  return 0;
}

// ---- periodic ----------------------------------------------------------------------------

int RunPeriodic(const Args& a) {
  int64_t n = a.bytes / 8;
  std::vector<double> u(n);
  for (int64_t i = 0; i < n; ++i) u[i] = (i % 97) * 0.01 + g_rank;
  SRS_Distribution block;
  SRS_Distribution_block(&block);
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Register("u", u.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register");
  // A few untimed iterations first: the first ones after SRS_Init share the machine with the
  // library's start-up (watch stream, depot connections).
  for (int i = 0; i < 5; ++i) Check(SRS_Check_Stop(), "SRS_Check_Stop");
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  int64_t it = 0;
  for (;; ++it) {
    if (a.iters > 0 && it >= a.iters) break;
    double local = 0;
    for (int64_t i = 1; i + 1 < n; ++i) {  // one in-place smoothing sweep
      u[i] = 0.5 * u[i] + 0.25 * (u[i - 1] + u[i + 1]);
      local += u[i] * u[i];
    }
    double in[2] = {local, g_rank == 0 && a.iters == 0 && MPI_Wtime() - t0 >= a.seconds ? 1.0 : 0};
    double out[2];
    MPI_Allreduce(in, out, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    int rc = SRS_Check_Stop();
    Check(rc, "SRS_Check_Stop");
    if (rc == 1) Fail("periodic: unexpected stop");
    if (out[1] > 0) {
      ++it;
      break;
    }
  }
  double loop = MaxOver(MPI_Wtime() - t0);
  Emit("periodic_loop_seconds", loop);
  Emit("periodic_iterations", static_cast<double>(it));
  if (g_rank == 0) {
    std::string count;
    if (RunHelper(a, "count-periodic", &count) != 0) Fail("cannot count periodic checkpoints");
    Emit("periodic_checkpoints", std::atof(count.c_str()));
  }
  Check(SRS_Finish(), "SRS_Finish");
  MPI_Finalize();
  return 0;
}

// ---- checkpoint rounds: raw, SRS and PHDF5 interleaved -----------------------------------

// Every rank writes its blocks of the arrays to its own file and fsyncs it: the raw baseline
// of checkpoint_ratio. The file is removed afterwards, outside the timing.
double RawWriteFsync(const Args& a, const std::vector<BlockArray>& arrays) {
  std::string path = RawPath(a, g_rank) + ".ckpt";
  double t = Timed([&] {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bool ok = fd >= 0;
    for (const BlockArray& array : arrays) {
      const char* p = reinterpret_cast<const char*>(array.data);
      size_t left = static_cast<size_t>(array.local_count) * sizeof(double);
      while (ok && left > 0) {
        ssize_t w = write(fd, p, left);
        ok = w > 0;
        if (ok) p += w, left -= static_cast<size_t>(w);
      }
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    if (!ok) Fail("raw write of " + path + " failed");
  });
  unlink(path.c_str());
  return t;
}

// `--rounds` rounds of {raw write+fsync, SRS checkpoint, collective PHDF5 write+fsync} of the
// same two block arrays, the order reversed every other round (ABCCBA...) so a drift of the
// machine hits every contender alike. The SRS checkpoint is SRS_Checkpoint: the synchronous
// path a stop checkpoint takes (agree, write the piece, commit), which a run can take many
// times (it can stop only once).
int RunCheckpointRounds(const Args& a) {
  int64_t n = a.bytes / 16;  // two double arrays
  std::vector<double> u(n), v(n);
  for (int64_t i = 0; i < n; ++i) u[i] = g_rank * 1e9 + i, v[i] = -u[i];
  SRS_Distribution block;
  SRS_Distribution_block(&block);
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Register("u", u.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register u");
  Check(SRS_Register("v", v.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register v");
  std::vector<BlockArray> arrays = {{"u", u.data(), n}, {"v", v.data(), n}};
  std::string path = a.workdir + "/phdf5-" + Env("SRS_APP") + ".h5";
  auto phdf5 = [&](const std::vector<BlockArray>& what) {
    double t = Phdf5CollectiveWrite(MPI_COMM_WORLD, path, what);
    if (t < 0) Fail("parallel HDF5 write failed");
    if (g_rank == 0) unlink(path.c_str());
    MPI_Barrier(MPI_COMM_WORLD);
    return t;
  };
  auto srs = [&] { return Timed([&] { Check(SRS_Checkpoint(), "SRS_Checkpoint"); }); };
  // Set-up costs (MPI-IO, HDF5, depot connections, the staging of the first piece) out of the
  // figures.
  phdf5({{"warmup", u.data(), 1}});
  srs();
  for (int r = 0; r < a.rounds; ++r) {
    double raw = 0, ours = 0, shared = 0;
    if (r % 2 == 0) {
      raw = RawWriteFsync(a, arrays), ours = srs(), shared = phdf5(arrays);
    } else {
      shared = phdf5(arrays), ours = srs(), raw = RawWriteFsync(a, arrays);
    }
    std::string tag = "_" + std::to_string(r);
    Emit(("raw_seconds" + tag).c_str(), raw);
    Emit(("srs_seconds" + tag).c_str(), ours);
    Emit(("phdf5_seconds" + tag).c_str(), shared);
  }
  Emit("checkpoint_bytes_per_rank", static_cast<double>(2 * n * sizeof(double)));
  Check(SRS_Finish(), "SRS_Finish");
  MPI_Finalize();
  return 0;
}

// ---- async stall: time inside SRS_Check_Stop for an async periodic checkpoint -------------

int64_t CommittedPeriodic(const Args& a) {
  int64_t count = 0;
  std::string out;
  if (g_rank == 0) {
    if (RunHelper(a, "count-periodic", &out) != 0) Fail("cannot count periodic checkpoints");
    count = std::atoll(out.c_str());
  }
  MPI_Bcast(&count, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  return count;
}

// `--rounds` rounds of {one memcpy of the registered bytes into a reused buffer; the
// SRS_Check_Stop calls of one asynchronous periodic checkpoint: the call that stages it and the
// calls until it is committed (the one that completes it runs the commit protocol)}. The run
// has checkpoint_interval = --interval, longer than a flush, so each checkpoint is committed
// before the next falls due.
int RunStall(const Args& a) {
  int64_t n = a.bytes / 8;
  std::vector<double> u(n), copy(n, 1.0);  // `copy` touched now: no page faults when timed
  for (int64_t i = 0; i < n; ++i) u[i] = i * 0.5 + g_rank;
  SRS_Distribution block;
  SRS_Distribution_block(&block);
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Register("u", u.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register");
  int64_t committed = CommittedPeriodic(a);
  double last_start = MPI_Wtime();
  for (int r = -1; r < a.rounds; ++r) {  // round -1 maps the staging memory: not reported
    double memcpy_seconds = Timed([&] { std::memcpy(copy.data(), u.data(), n * sizeof(double)); });
    u[static_cast<size_t>(r + 1) % n] += 1;  // the copy is not optimised away; data changes
    double wait = last_start + a.interval * 1.05 - MPI_Wtime();
    if (wait > 0) usleep(static_cast<useconds_t>(wait * 1e6));
    MPI_Barrier(MPI_COMM_WORLD);
    double inside = 0, t0 = MPI_Wtime();
    Check(SRS_Check_Stop(), "SRS_Check_Stop");
    inside += MPI_Wtime() - t0;
    last_start = MPI_Wtime();
    for (int polls = 0; CommittedPeriodic(a) <= committed; ++polls) {
      if (polls > 20000) Fail("the asynchronous checkpoint never committed");
      usleep(2000);
      // Rank 0 just ran the helper: without this barrier the other ranks' time inside the call
      // would include waiting for it.
      MPI_Barrier(MPI_COMM_WORLD);
      double c0 = MPI_Wtime();
      Check(SRS_Check_Stop(), "SRS_Check_Stop");
      inside += MPI_Wtime() - c0;
    }
    committed = CommittedPeriodic(a);
    if (r < 0) continue;
    std::string tag = "_" + std::to_string(r);
    Emit(("stall_seconds" + tag).c_str(), MaxOver(inside));
    Emit(("memcpy_seconds" + tag).c_str(), memcpy_seconds);
  }
  Emit("stall_bytes_per_rank", static_cast<double>(n * sizeof(double)));
  Check(SRS_Finish(), "SRS_Finish");
  MPI_Finalize();
  return 0;
}

// ---- migration ---------------------------------------------------------------------------

int RunMigrateStop(const Args& a) {
  int64_t n = a.bytes / (16 * g_nprocs);  // two double arrays over all ranks
  std::vector<double> u(n), v(n);
  int64_t first = static_cast<int64_t>(g_rank) * n;
  for (int64_t i = 0; i < n; ++i) u[i] = first + i, v[i] = 2.0 * (first + i) + 1;
  SRS_Distribution block;
  SRS_Distribution_block(&block);
  Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
  Check(SRS_Register("u", u.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register u");
  Check(SRS_Register("v", v.data(), SRS_DOUBLE, n * g_nprocs, block), "SRS_Register v");
  for (int i = 0; i < 3; ++i) Check(SRS_Check_Stop(), "SRS_Check_Stop");
  StopTimes t = StopAndCheckpoint(a);
  Emit("migration_stop_seconds", t.request_to_commit);
  Emit("migration_checkpoint_call_seconds", t.checkpoint_call);
  Emit("migration_bytes", static_cast<double>(2 * n * g_nprocs * sizeof(double)));
  MPI_Finalize();
  return 0;
}

int RunMigrateResume(const Args&) {
  SRS_Distribution block;
  SRS_Distribution_block(&block);
  std::vector<double> u, v;
  int64_t first = 0, count = 0;
  double restore = Timed([&] {
    Check(SRS_Init(MPI_COMM_WORLD, nullptr), "SRS_Init");
    if (SRS_Restart_Value() != 1) Fail("migrate-resume: this run is not a restart");
    int64_t global = 0;
    Check(SRS_Query("u", nullptr, &global), "SRS_Query");
    BlockRange(global, &first, &count);
    u.resize(count);
    v.resize(count);
    Check(SRS_Read("u", u.data(), SRS_DOUBLE, block), "SRS_Read u");
    Check(SRS_Read("v", v.data(), SRS_DOUBLE, block), "SRS_Read v");
  });
  for (int64_t i = 0; i < count; ++i)
    if (u[i] != first + i || v[i] != 2.0 * (first + i) + 1) Fail("migrated data is wrong");
  Emit("migration_restore_seconds", restore);
  Check(SRS_Finish(), "SRS_Finish");
  MPI_Finalize();
  return 0;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  if (argc < 3) return false;
  a->mode = argv[2];
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--bytes") {
      a->bytes = std::atoll(v.c_str());
    } else if (k == "--seconds") {
      a->seconds = std::atof(v.c_str());
    } else if (k == "--iters") {
      a->iters = std::atoll(v.c_str());
    } else if (k == "--rounds") {
      a->rounds = std::atoi(v.c_str());
    } else if (k == "--interval") {
      a->interval = std::atof(v.c_str());
    } else if (k == "--workdir") {
      a->workdir = v;
    } else if (k == "--helper") {
      a->helper = v;
    } else {
      return false;
    }
  }
  return a->bytes >= 16 && a->rounds >= 1 && a->interval > 0;
}

}  // namespace

int WorkerMain(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) {
    fprintf(stderr, "srs-bench-suite: bad worker arguments\n");
    return 2;
  }
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_nprocs);
  if (a.mode == "phdf5") return RunPhdf5(a);
  if (a.mode == "restart-write") return RunRestartWrite(a);
  if (a.mode == "restart-read") return RunRestartRead(a);
  if (a.mode == "periodic") return RunPeriodic(a);
  if (a.mode == "checkpoint") return RunCheckpointRounds(a);
  if (a.mode == "stall") return RunStall(a);
  if (a.mode == "migrate-stop") return RunMigrateStop(a);
  if (a.mode == "migrate-resume") return RunMigrateResume(a);
  Fail("unknown worker mode " + a.mode);
  return 2;
}

}  // namespace srs::bench
