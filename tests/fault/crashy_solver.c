/* crashy_solver: a solver-like job for the fault tests (issue 9), meant to be killed with
 * kill -9 at any moment and resumed on a different process count.
 *
 * It keeps two distributed arrays whose every element, after `iter` iterations, is a known
 * function of (iter, global index):
 *   u (double, block)  = f(iter, i) = i * 1000003 + iter * 7919   (exact in a double)
 *   v (int64, cyclic)  = g(iter, i) = i * 31 + iter * iter
 * Each iteration updates them from their previous values (u += 7919, v += 2*iter+1), so an
 * element restored from a different checkpoint than the iteration counter (a partial or mixed
 * checkpoint) no longer matches f/g. The iteration counter is registered with SRS_DIST_NONE and
 * read back with SRS_DIST_SAME.
 *
 * On a restart every rank verifies EVERY restored element; rank 0 prints
 *   RESTORED iter=<n> nprocs=<p>
 * and, if SRS_EXPECT_ITER is set (the driver reads it from the RSS's newest committed
 * checkpoint), checks the restored iteration equals it. At the end: DONE iter=<n>.
 *
 *   crashy_solver --global N --iters K --sleep-ms MS
 * Exit codes: 0 done or stopped, 3 verification failed, 2 usage, 1 SRS error.
 */
#include <mpi.h>
#include <srs/srs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double f_u(int64_t iter, int64_t i) { return (double)(i * 1000003 + iter * 7919); }
static int64_t g_v(int64_t iter, int64_t i) { return i * 31 + iter * iter; }

static int rank_, nprocs_;

static void die_srs(const char* what, int rc) {
  fprintf(stderr, "crashy_solver[%d]: %s: %s (%s)\n", rank_, what, SRS_Error_string(rc),
          SRS_Last_error());
  MPI_Abort(MPI_COMM_WORLD, 1);
}

/* Block layout (DESIGN.md): the first n % P ranks hold one element more. */
static void block_range(int64_t n, int r, int p, int64_t* first, int64_t* count) {
  int64_t base = n / p, extra = n % p;
  *count = base + (r < extra ? 1 : 0);
  *first = r * base + (r < extra ? r : extra);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Checks every local element; returns the number of mismatches, prints the first few. */
static int64_t verify(const double* u, int64_t u_first, int64_t u_count, const int64_t* v,
                      int64_t v_count, int64_t iter) {
  int64_t bad = 0;
  for (int64_t j = 0; j < u_count; ++j) {
    if (u[j] != f_u(iter, u_first + j)) {
      if (bad++ < 3)
        fprintf(stderr, "crashy_solver[%d]: u[%lld] = %.17g, expected %.17g (iter %lld)\n", rank_,
                (long long)(u_first + j), u[j], f_u(iter, u_first + j), (long long)iter);
    }
  }
  for (int64_t j = 0; j < v_count; ++j) {
    int64_t gi = (int64_t)rank_ + j * nprocs_; /* cyclic: element i on rank i % P */
    if (v[j] != g_v(iter, gi)) {
      if (bad++ < 6)
        fprintf(stderr, "crashy_solver[%d]: v[%lld] = %lld, expected %lld (iter %lld)\n", rank_,
                (long long)gi, (long long)v[j], (long long)g_v(iter, gi), (long long)iter);
    }
  }
  return bad;
}

int main(int argc, char** argv) {
  int64_t n = 1 << 20, iters = 200;
  int sleep_each = 20;
  for (int a = 1; a < argc; ++a) {
    if (!strcmp(argv[a], "--global") && a + 1 < argc) {
      n = atoll(argv[++a]);
    } else if (!strcmp(argv[a], "--iters") && a + 1 < argc) {
      iters = atoll(argv[++a]);
    } else if (!strcmp(argv[a], "--sleep-ms") && a + 1 < argc) {
      sleep_each = atoi(argv[++a]);
    } else {
      fprintf(stderr, "usage: crashy_solver [--global N] [--iters K] [--sleep-ms MS]\n");
      return 2;
    }
  }
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs_);

  int rc = SRS_Init(MPI_COMM_WORLD, NULL);
  if (rc != SRS_OK) die_srs("SRS_Init", rc);
  SRS_Distribution block, cyclic;
  SRS_Distribution_block(&block);
  SRS_Distribution_cyclic(&cyclic);

  int64_t u_first, u_count, v_count;
  block_range(n, rank_, nprocs_, &u_first, &u_count);
  SRS_Local_count(cyclic, n, rank_, nprocs_, &v_count);
  double* u = malloc(sizeof(double) * (size_t)(u_count > 0 ? u_count : 1));
  int64_t* v = malloc(sizeof(int64_t) * (size_t)(v_count > 0 ? v_count : 1));
  int64_t iter = 0;

  if (SRS_Restart_Value() == 1) {
    if ((rc = SRS_Read("iter", &iter, SRS_INT64, SRS_DIST_SAME)) != SRS_OK)
      die_srs("SRS_Read iter", rc);
    if ((rc = SRS_Read("u", u, SRS_DOUBLE, block)) != SRS_OK) die_srs("SRS_Read u", rc);
    if ((rc = SRS_Read("v", v, SRS_INT64, cyclic)) != SRS_OK) die_srs("SRS_Read v", rc);
    int64_t bad = verify(u, u_first, u_count, v, v_count, iter), total_bad = 0;
    MPI_Allreduce(&bad, &total_bad, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    const char* expect = getenv("SRS_EXPECT_ITER");
    if (rank_ == 0) {
      printf("RESTORED iter=%lld nprocs=%d mismatches=%lld\n", (long long)iter, nprocs_,
             (long long)total_bad);
      fflush(stdout);
    }
    if (total_bad != 0) {
      if (rank_ == 0)
        fprintf(stderr, "crashy_solver: %lld restored elements wrong\n", (long long)total_bad);
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
    if (expect && *expect && atoll(expect) != iter) {
      if (rank_ == 0)
        fprintf(stderr,
                "crashy_solver: restored iteration %lld, but the newest committed checkpoint "
                "holds %s\n",
                (long long)iter, expect);
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
  } else {
    for (int64_t j = 0; j < u_count; ++j) u[j] = f_u(0, u_first + j);
    for (int64_t j = 0; j < v_count; ++j) v[j] = g_v(0, (int64_t)rank_ + j * nprocs_);
    if (rank_ == 0) {
      printf("FRESH nprocs=%d\n", nprocs_);
      fflush(stdout);
    }
  }

  if ((rc = SRS_Register("u", u, SRS_DOUBLE, n, block)) != SRS_OK) die_srs("SRS_Register u", rc);
  if ((rc = SRS_Register("v", v, SRS_INT64, n, cyclic)) != SRS_OK) die_srs("SRS_Register v", rc);
  if ((rc = SRS_Register("iter", &iter, SRS_INT64, 1, SRS_DIST_NONE)) != SRS_OK)
    die_srs("SRS_Register iter", rc);

  while (iter < iters) {
    for (int64_t j = 0; j < u_count; ++j) u[j] += 7919.0;
    for (int64_t j = 0; j < v_count; ++j) v[j] += 2 * iter + 1; /* (it+1)^2 - it^2 */
    ++iter;
    if (rank_ == 0 && iter % 10 == 0) {
      printf("ITER %lld\n", (long long)iter);
      fflush(stdout);
    }
    if (sleep_each > 0) sleep_ms(sleep_each);
    rc = SRS_Check_Stop();
    if (rc < 0) die_srs("SRS_Check_Stop", rc);
    if (rc == 1) {
      if (rank_ == 0) printf("STOPPED iter=%lld\n", (long long)iter);
      MPI_Finalize();
      return 0;
    }
  }
  int64_t bad = verify(u, u_first, u_count, v, v_count, iter), total_bad = 0;
  MPI_Allreduce(&bad, &total_bad, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  if (total_bad != 0) MPI_Abort(MPI_COMM_WORLD, 3);
  if ((rc = SRS_Finish()) != SRS_OK) die_srs("SRS_Finish", rc);
  if (rank_ == 0) {
    printf("DONE iter=%lld\n", (long long)iter);
    fflush(stdout);
  }
  free(u);
  free(v);
  MPI_Finalize();
  return 0;
}
