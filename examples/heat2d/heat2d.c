/* heat2d — the 2-D heat equation u_t = Δu on a rectangle, explicit (Jacobi) time stepping,
 * instrumented with SRS so it can be stopped and resumed on any number of processes.
 *
 *   mpiexec -n 4 heat2d [--nx 256] [--ny 256] [--steps 1000] [--sleep-ms 0] [--out FILE]
 *
 * Grid: nx x ny points, row-major (point (x, y) has global index y*nx + x); the top edge is held
 * at 1, the three other edges at 0, the interior starts at 0. A step is one Jacobi sweep:
 *   u'(x,y) = u + alpha * (u(x-1,y) + u(x+1,y) + u(x,y-1) + u(x,y+1) - 4u),  alpha = 0.2.
 *
 * Decomposition: the field is cut the way SRS's block distribution cuts a 1-D array, so the
 * array the solver computes on is exactly the array SRS checkpoints: rank r owns a contiguous run
 * of grid points (whole rows when P divides ny; otherwise a rank may start or end mid-row),
 * and a halo of nx points on each side (the row above its first point, the row below its last)
 * exchanged with its neighbours every step. Every point's update reads the same five values in
 * the same order on any process count, so the result is bitwise independent of P.
 *
 * SRS: 9 calls on 10 lines (marked "SRS"; the 10th declares the distribution handle). The
 * field u and the step counter are registered; a run stopped from outside (`srs stop`) leaves
 * after its checkpoint, and the next run of the same job reads both back on its own process
 * count.
 *
 * Output: rank 0 prints the step count, sum and 2-norm of the final field (%.17g), and with
 * --out writes the final field as raw little-endian doubles in global order (for bitwise tests).
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <srs/srs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int64_t nx, ny;
  int steps;
  int sleep_ms;
  const char* out;
} Options;

/* Prints the failed SRS call and its detailed message, and aborts the job. */
#define SRS_CHECK(call)                                                            \
  do {                                                                             \
    int rc_ = (call);                                                              \
    if (rc_ < 0) {                                                                 \
      fprintf(stderr, "heat2d: %s failed: %s: %s\n", #call, SRS_Error_string(rc_), \
              SRS_Last_error());                                                   \
      MPI_Abort(MPI_COMM_WORLD, 1);                                                \
    }                                                                              \
  } while (0)

static int parse_options(int argc, char** argv, Options* opt) {
  *opt = (Options){256, 256, 1000, 0, NULL};
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (value == NULL) return -1;
    if (strcmp(arg, "--nx") == 0) {
      opt->nx = atoll(value);
    } else if (strcmp(arg, "--ny") == 0) {
      opt->ny = atoll(value);
    } else if (strcmp(arg, "--steps") == 0) {
      opt->steps = atoi(value);
    } else if (strcmp(arg, "--sleep-ms") == 0) {
      opt->sleep_ms = atoi(value);
    } else if (strcmp(arg, "--out") == 0) {
      opt->out = value;
    } else {
      return -1;
    }
    ++i;
  }
  return opt->nx >= 3 && opt->ny >= 3 && opt->steps >= 0 && opt->sleep_ms >= 0 ? 0 : -1;
}

/* The block distribution's cut (DESIGN.md §2): the first n % P ranks hold one point more. */
static void block_range(int64_t n, int rank, int nprocs, int64_t* lo, int64_t* count) {
  int64_t base = n / nprocs, extra = n % nprocs;
  *count = base + (rank < extra ? 1 : 0);
  *lo = rank * base + (rank < extra ? rank : extra);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* u holds [nx halo | count owned | nx halo]; fills both halos from the neighbours. */
static void exchange_halos(double* u, int64_t nx, int64_t count, int rank, int nprocs) {
  int up = rank > 0 ? rank - 1 : MPI_PROC_NULL;
  int down = rank + 1 < nprocs ? rank + 1 : MPI_PROC_NULL;
  MPI_Sendrecv(u + nx, (int)nx, MPI_DOUBLE, up, 0, u + nx + count, (int)nx, MPI_DOUBLE, down, 0,
               MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  MPI_Sendrecv(u + count, (int)nx, MPI_DOUBLE, down, 1, u, (int)nx, MPI_DOUBLE, up, 1,
               MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

/* One Jacobi sweep of the owned points [lo, lo + count) into next, then back into u. */
static void sweep(double* u, double* next, int64_t nx, int64_t ny, int64_t lo, int64_t count) {
  const double alpha = 0.2;
  for (int64_t k = 0; k < count; ++k) {
    int64_t g = lo + k, x = g % nx, y = g / nx;
    const double* c = u + nx + k; /* the point itself, its neighbours at +-1 and +-nx */
    if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) {
      next[k] = *c;
    } else {
      next[k] = *c + alpha * (c[-1] + c[1] + c[-nx] + c[nx] - 4.0 * *c);
    }
  }
  memcpy(u + nx, next, (size_t)count * sizeof(double));
}

/* Gathers the field on rank 0, prints its sum and norm, writes it to `out` if given. */
static int report(const double* owned, int64_t count, const Options* opt, int steps, int rank,
                  int nprocs) {
  int64_t n = opt->nx * opt->ny;
  int *counts = malloc(sizeof(int) * (size_t)nprocs),
      *displs = malloc(sizeof(int) * (size_t)nprocs);
  for (int r = 0; r < nprocs; ++r) {
    int64_t lo, c;
    block_range(n, r, nprocs, &lo, &c);
    counts[r] = (int)c;
    displs[r] = (int)lo;
  }
  double* field = rank == 0 ? malloc(sizeof(double) * (size_t)n) : NULL;
  MPI_Gatherv(owned, (int)count, MPI_DOUBLE, field, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  int rc = 0;
  if (rank == 0) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      sum += field[i];
      sq += field[i] * field[i];
    }
    printf("heat2d: nx=%lld ny=%lld steps=%d sum=%.17g norm=%.17g\n", (long long)opt->nx,
           (long long)opt->ny, steps, sum, sqrt(sq));
    if (opt->out != NULL) {
      FILE* f = fopen(opt->out, "wb");
      if (f == NULL || fwrite(field, sizeof(double), (size_t)n, f) != (size_t)n || fclose(f) != 0) {
        fprintf(stderr, "heat2d: cannot write %s: %s\n", opt->out, strerror(errno));
        rc = 1;
      }
    }
  }
  free(field);
  free(counts);
  free(displs);
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, nprocs;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
  Options opt;
  if (parse_options(argc, argv, &opt) != 0) {
    if (rank == 0) {
      fprintf(stderr,
              "usage: heat2d [--nx N>=3] [--ny N>=3] [--steps K] [--sleep-ms MS] "
              "[--out FILE]\n");
    }
    MPI_Finalize();
    return 2;
  }
  const int64_t nx = opt.nx, n = opt.nx * opt.ny;
  if (n / nprocs < nx) {
    if (rank == 0)
      fprintf(stderr, "heat2d: %d ranks is too many for %lld rows\n", nprocs, (long long)opt.ny);
    MPI_Finalize();
    return 2;
  }
  int64_t lo, count;
  block_range(n, rank, nprocs, &lo, &count);
  double* u = calloc((size_t)(count + 2 * nx), sizeof(double)); /* halo | owned | halo */
  double* next = malloc(sizeof(double) * (size_t)count);
  for (int64_t k = 0; k < count; ++k) u[nx + k] = (lo + k) < nx ? 1.0 : 0.0; /* hot top edge */
  int step = 0;

  SRS_CHECK(SRS_Init(MPI_COMM_WORLD, NULL));                    /* SRS */
  SRS_Distribution block;                                       /* SRS */
  SRS_CHECK(SRS_Distribution_block(&block));                    /* SRS */
  /* Registered before the read: SRS_Read then knows the buffer's size, and a checkpoint of
   * another grid (--nx/--ny changed) is a clear error instead of an overrun. */
  SRS_CHECK(SRS_Register("u", u + nx, SRS_DOUBLE, n, block));        /* SRS */
  SRS_CHECK(SRS_Register("step", &step, SRS_INT, 1, SRS_DIST_NONE)); /* SRS */
  if (SRS_Restart_Value() == 1) {                                    /* SRS */
    SRS_CHECK(SRS_Read("u", u + nx, SRS_DOUBLE, block));             /* SRS */
    SRS_CHECK(SRS_Read("step", &step, SRS_INT, SRS_DIST_SAME));      /* SRS */
    if (rank == 0) printf("heat2d: resumed at step %d on %d ranks\n", step, nprocs);
  }

  if (rank == 0) {
    printf("heat2d: running on %d ranks from step %d\n", nprocs, step);
    fflush(stdout);
  }
  while (step < opt.steps) {
    exchange_halos(u, nx, count, rank, nprocs);
    sweep(u, next, nx, opt.ny, lo, count);
    ++step;
    if (opt.sleep_ms > 0) sleep_ms(opt.sleep_ms);
    int stop = SRS_Check_Stop(); /* SRS */
    SRS_CHECK(stop);
    if (stop == 1) {
      if (rank == 0) printf("heat2d: stopped at step %d, checkpoint committed\n", step);
      MPI_Finalize();
      return 0;
    }
  }

  int rc = report(u + nx, count, &opt, step, rank, nprocs);
  SRS_CHECK(SRS_Finish()); /* SRS */
  free(u);
  free(next);
  MPI_Finalize();
  return rc;
}
