/* A small iterative "solver" for the end-to-end and fault tests: u[g] = g + iter for every
 * global element g after `iter` sweeps, so any restored state can be checked exactly.
 *
 *   stop_resume_solver MAX_ITER SLEEP_MS [N_ELEMENTS] [CHECKPOINT_EVERY]
 *
 * Prints (rank 0, stdout, flushed): "started P", "resumed at iter I on P ranks", "iter I" every
 * 10 sweeps, "checkpointing I", then "stopped at iter I" (exit 0) or "finished at iter I".
 * CHECKPOINT_EVERY > 0: SRS_Checkpoint every that many sweeps (the fault test kills a rank inside
 * one with libsrs's test hook, SRS_TEST_DIE_AFTER). Exit 2 on any error, 3 on wrong restored
 * data. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "srs/srs.h"

static int rank_, nprocs_;

static void Fail(const char* what, int rc) {
  fprintf(stderr, "rank %d: %s: %d %s: %s\n", rank_, what, rc, SRS_Error_string(rc),
          SRS_Last_error());
  MPI_Abort(MPI_COMM_WORLD, 2);
}

static void Say(const char* fmt, int value) {
  if (rank_ != 0) return;
  printf(fmt, value);
  printf("\n");
  fflush(stdout);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs_);
  int max_iter = argc > 1 ? atoi(argv[1]) : 100;
  int sleep_ms = argc > 2 ? atoi(argv[2]) : 10;
  int64_t n = argc > 3 ? atoll(argv[3]) : 10007;
  int every = argc > 4 ? atoi(argv[4]) : 0;
  int rc = SRS_Init(MPI_COMM_WORLD, NULL);
  if (rc != SRS_OK) Fail("SRS_Init", rc);
  SRS_Distribution block;
  SRS_Distribution_block(&block);
  int64_t local = 0, first = 0;
  SRS_Local_count(block, n, rank_, nprocs_, &local);
  for (int r = 0; r < rank_; ++r) first += n / nprocs_ + (r < n % nprocs_);
  double* u = malloc((size_t)(local + 1) * sizeof *u);
  int iter = 0;
  if (SRS_Restart_Value() == 1) {
    int64_t stored = 0;
    /* The buffer is sized for n: a checkpoint of another size must not be read into it. */
    if ((rc = SRS_Query("u", NULL, &stored)) != SRS_OK) Fail("SRS_Query u", rc);
    if (stored != n) {
      fprintf(stderr, "rank %d: checkpoint holds %lld elements, expected %lld\n", rank_,
              (long long)stored, (long long)n);
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
    if ((rc = SRS_Read("u", u, SRS_DOUBLE, block)) != SRS_OK) Fail("SRS_Read u", rc);
    if ((rc = SRS_Read("iter", &iter, SRS_INT, SRS_DIST_SAME)) != SRS_OK) Fail("SRS_Read it", rc);
    for (int64_t i = 0; i < local; ++i) {
      if (u[i] != (double)(first + i + iter)) {
        fprintf(stderr, "rank %d: u[%lld] = %g, expected %lld\n", rank_, (long long)(first + i),
                u[i], (long long)(first + i + iter));
        MPI_Abort(MPI_COMM_WORLD, 3);
      }
    }
    if (rank_ == 0) printf("resumed at iter %d on %d ranks\n", iter, nprocs_);
  } else {
    for (int64_t i = 0; i < local; ++i) u[i] = (double)(first + i);
    Say("started %d", nprocs_);
  }
  fflush(stdout);
  if ((rc = SRS_Register("u", u, SRS_DOUBLE, n, block)) != SRS_OK) Fail("SRS_Register u", rc);
  if ((rc = SRS_Register("iter", &iter, SRS_INT, 1, SRS_DIST_NONE)) != SRS_OK) Fail("reg it", rc);
  while (iter < max_iter) {
    for (int64_t i = 0; i < local; ++i) u[i] += 1.0;
    ++iter;
    if (iter % 10 == 0) Say("iter %d", iter);
    if (sleep_ms > 0) usleep((useconds_t)sleep_ms * 1000);
    if (every > 0 && iter % every == 0) {
      Say("checkpointing %d", iter);
      if ((rc = SRS_Checkpoint()) != SRS_OK) Fail("SRS_Checkpoint", rc);
      Say("checkpointed %d", iter);
    }
    rc = SRS_Check_Stop();
    if (rc < 0) Fail("SRS_Check_Stop", rc);
    if (rc == 1) {
      Say("stopped at iter %d", iter);
      MPI_Finalize(); /* without SRS_Finish: the job is to be resumed */
      return 0;
    }
  }
  if ((rc = SRS_Finish()) != SRS_OK) Fail("SRS_Finish", rc);
  Say("finished at iter %d", iter);
  SRS_Distribution_free(&block);
  free(u);
  MPI_Finalize();
  return 0;
}
