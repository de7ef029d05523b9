/* A job for the `srs export` test: registers one array per distribution kind, each element
 * holding a value computed from its GLOBAL index, then waits for an outside stop (srs stop).
 * The test then checks that the exported datasets hold those values in global order.
 *
 *   b1 double          block                   n = 1001   value g + 0.5
 *   cy int32           cyclic                  n = 777    value g
 *   bc int64           block_cyclic(7)         n = 500    value g * 3
 *   cz double_complex  block                   n = 50     value (g, -g)
 *   mp int32           map, owner (7g) % P     n = 100    value g
 *   m2 double          block_cyclic_2d 23x17, blocks 4x3, grid P x 1 (2 x 2 for P = 4)
 *                                                         value g = i + j*23
 */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <srs/srs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                                       \
  do {                                                                                    \
    int rc_ = (call);                                                                     \
    if (rc_ < 0) {                                                                        \
      fprintf(stderr, "export_layouts: %s: %s\n", #call, SRS_Last_error());               \
      MPI_Abort(MPI_COMM_WORLD, 1);                                                       \
    }                                                                                     \
  } while (0)

static int64_t numroc(int64_t n, int64_t nb, int iproc, int nprocs) {
  int64_t blocks = n / nb, count = (blocks / nprocs) * nb;
  int64_t extra = blocks % nprocs;
  if (iproc < extra) count += nb;
  else if (iproc == extra) count += n % nb;
  return count;
}

/* Global index of local element k of rank r under block / cyclic / block_cyclic(b). */
static int64_t block_global(int64_t n, int r, int p, int64_t k) {
  int64_t base = n / p, extra = n % p;
  return r * base + (r < extra ? r : extra) + k;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, nprocs;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
  CHECK(SRS_Init(MPI_COMM_WORLD, NULL));
  SRS_Distribution block, cyclic, bcyc, two_d, map;
  CHECK(SRS_Distribution_block(&block));
  CHECK(SRS_Distribution_cyclic(&cyclic));
  CHECK(SRS_Distribution_block_cyclic(7, &bcyc));
  int nprow = nprocs == 4 ? 2 : nprocs, npcol = nprocs == 4 ? 2 : 1;
  const int64_t rows = 23, cols = 17, mb = 4, nb = 3;
  CHECK(SRS_Distribution_block_cyclic_2d(rows, cols, mb, nb, nprow, npcol, 0, 0, &two_d));
  int owner[100];
  for (int g = 0; g < 100; ++g) owner[g] = (7 * g) % nprocs;
  CHECK(SRS_DistributeMap_Create(100, owner, &map));

  int64_t n_b1, n_cy, n_bc, n_cz;
  CHECK(SRS_Local_count(block, 1001, rank, nprocs, &n_b1));
  CHECK(SRS_Local_count(cyclic, 777, rank, nprocs, &n_cy));
  CHECK(SRS_Local_count(bcyc, 500, rank, nprocs, &n_bc));
  CHECK(SRS_Local_count(block, 50, rank, nprocs, &n_cz));
  double* b1 = malloc(sizeof(double) * (n_b1 + 1));
  int32_t* cy = malloc(sizeof(int32_t) * (n_cy + 1));
  int64_t* bc = malloc(sizeof(int64_t) * (n_bc + 1));
  double* cz = malloc(2 * sizeof(double) * (n_cz + 1));
  int32_t* mp = malloc(sizeof(int32_t) * 100);
  for (int64_t k = 0; k < n_b1; ++k) b1[k] = (double)block_global(1001, rank, nprocs, k) + 0.5;
  for (int64_t k = 0; k < n_cy; ++k) cy[k] = (int32_t)(rank + k * nprocs);
  for (int64_t k = 0; k < n_bc; ++k) bc[k] = 3 * (((k / 7) * nprocs + rank) * 7 + k % 7);
  for (int64_t k = 0; k < n_cz; ++k) {
    int64_t g = block_global(50, rank, nprocs, k);
    cz[2 * k] = (double)g;
    cz[2 * k + 1] = -(double)g;
  }
  int64_t n_mp = 0;
  for (int g = 0; g < 100; ++g)
    if (owner[g] == rank) mp[n_mp++] = g;
  int prow = rank / npcol, pcol = rank % npcol;
  int64_t lrows = numroc(rows, mb, prow, nprow), lcols = numroc(cols, nb, pcol, npcol);
  double* m2 = malloc(sizeof(double) * (lrows * lcols + 1));
  for (int64_t lj = 0; lj < lcols; ++lj) {
    for (int64_t li = 0; li < lrows; ++li) {
      int64_t gi = ((li / mb) * nprow + prow) * mb + li % mb;
      int64_t gj = ((lj / nb) * npcol + pcol) * nb + lj % nb;
      m2[li + lj * lrows] = (double)(gi + gj * rows);
    }
  }
  CHECK(SRS_Register("b1", b1, SRS_DOUBLE, 1001, block));
  CHECK(SRS_Register("cy", cy, SRS_INT32, 777, cyclic));
  CHECK(SRS_Register("bc", bc, SRS_INT64, 500, bcyc));
  CHECK(SRS_Register("cz", cz, SRS_DOUBLE_COMPLEX, 50, block));
  CHECK(SRS_Register("mp", mp, SRS_INT32, 100, map));
  CHECK(SRS_Register("m2", m2, SRS_DOUBLE, rows * cols, two_d));
  /* Until stopped from outside (bounded, so a broken stop cannot hang the test forever). */
  struct timespec nap = {0, 20 * 1000 * 1000};
  for (int i = 0; i < 3000; ++i) {
    int stop = SRS_Check_Stop();
    CHECK(stop);
    if (stop == 1) break;
    nanosleep(&nap, NULL);
  }
  MPI_Finalize();
  return 0;
}
