/* The restart phases of c_api_test: reads with redistribution and type conversion, and every
 * read error a user can hit. The checkpoint was written by c_api_test.c's PhaseWrite. */
#include <complex.h>
#include <stdint.h>
#include <stdlib.h>

#include "c_test_util.h"

static int64_t BlockFirst(int64_t n, int p, int r) {
  int64_t first = 0;
  for (int k = 0; k < r; ++k) first += n / p + (k < n % p);
  return first;
}

static void ReadErrors(int old_nprocs) {
  double d[kU];
  int i[kTxt];
  char c[kU];
  int iters = 0;
  SRS_Datatype type = SRS_CHAR;
  int64_t count = 0;
  SRS_Distribution cyclic, grid;
  SRS_Distribution_cyclic(&cyclic);
  EXPECT_RC(SRS_Query("u", &type, &count), SRS_OK);
  EXPECT_TRUE(type == SRS_DOUBLE && count == kU);
  EXPECT_RC(SRS_Query("iters", NULL, &count), SRS_OK);
  EXPECT_TRUE(count == old_nprocs); /* NONE: the total over the old ranks */
  EXPECT_RC(SRS_Query("nope", &type, &count), SRS_ERR_NOT_FOUND);
  EXPECT_RC(SRS_Read("nope", d, SRS_DOUBLE, cyclic), SRS_ERR_NOT_FOUND);
  EXPECT_LAST_ERROR_HAS("nope");
  EXPECT_RC(SRS_Read("z", d, SRS_DOUBLE, cyclic), SRS_ERR_INVALID_ARGUMENT); /* complex->real */
  EXPECT_LAST_ERROR_HAS("complex");
  EXPECT_RC(SRS_Read("u", d, SRS_DOUBLE_COMPLEX, SRS_DIST_SAME), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Read("txt", i, SRS_INT, cyclic), SRS_ERR_INVALID_ARGUMENT); /* char->numeric */
  EXPECT_RC(SRS_Read("u", c, SRS_CHAR, cyclic), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Read("u", d, (SRS_Datatype)42, cyclic), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Read("u", d, SRS_DOUBLE, NULL), SRS_ERR_INVALID_ARGUMENT);
  /* A 10x10 grid of 1 x (P+1) processes does not fit this run. */
  EXPECT_RC(SRS_Distribution_block_cyclic_2d(10, 10, 2, 2, 1, g_nprocs + 1, 0, 0, &grid), SRS_OK);
  EXPECT_RC(SRS_Read("u", d, SRS_DOUBLE, grid), SRS_ERR_INVALID_ARGUMENT);
  SRS_Distribution_free(&grid);
  if (old_nprocs == g_nprocs) {
    EXPECT_RC(SRS_Read("iters", &iters, SRS_INT, SRS_DIST_NONE), SRS_OK);
    EXPECT_TRUE(iters == 7 + g_rank);
  } else {
    char counts[128];
    EXPECT_RC(SRS_Read("iters", &iters, SRS_INT, SRS_DIST_NONE), SRS_ERR_INVALID_ARGUMENT);
    snprintf(counts, sizeof counts, "written by %d ranks and this run has %d", old_nprocs,
             g_nprocs);
    EXPECT_LAST_ERROR_HAS(counts);
  }
  EXPECT_RC(SRS_Read("iters", &iters, SRS_INT, SRS_DIST_SAME), SRS_OK);
  EXPECT_TRUE(iters == 7);
  SRS_Distribution_free(&cyclic);
}

static void ReadConverted(void) {
  float uf[kU];
  double complex z[kZ];
  char txt[kTxt];
  int64_t big[kI64];
  double bigd[kI64];
  SRS_Distribution cyclic, block, bc5;
  SRS_Distribution_cyclic(&cyclic);
  SRS_Distribution_block(&block);
  SRS_Distribution_block_cyclic(5, &bc5);
  EXPECT_RC(SRS_Read("u", uf, SRS_FLOAT, cyclic), SRS_OK); /* double -> float */
  for (int64_t i = 0; i < LocalCount(cyclic, kU); ++i) {
    EXPECT_TRUE(uf[i] == (float)((i * g_nprocs + g_rank) * 0.5));
  }
  EXPECT_RC(SRS_Read("z", z, SRS_DOUBLE_COMPLEX, block), SRS_OK);
  int64_t first = BlockFirst(kZ, g_nprocs, g_rank);
  for (int64_t i = 0; i < LocalCount(block, kZ); ++i) {
    EXPECT_TRUE(z[i] == (double)(first + i) - I * (double)(first + i));
  }
  EXPECT_RC(SRS_Read("txt", txt, SRS_CHAR, SRS_DIST_SAME), SRS_OK);
  for (int g = 0; g < kTxt; ++g) EXPECT_TRUE(txt[g] == 'a' + g % 26);
  EXPECT_RC(SRS_Read("i64", big, SRS_INT64, bc5), SRS_OK);
  for (int64_t i = 0; i < LocalCount(bc5, kI64); ++i) {
    int64_t g = ((i / 5) * g_nprocs + g_rank) * 5 + i % 5;
    EXPECT_TRUE(big[i] == g * 1000000007LL);
  }
  EXPECT_RC(SRS_Read("i64", bigd, SRS_DOUBLE, block), SRS_OK); /* int64 -> double */
  first = BlockFirst(kI64, g_nprocs, g_rank);
  for (int64_t i = 0; i < LocalCount(block, kI64); ++i) {
    EXPECT_TRUE(bigd[i] == (double)((first + i) * 1000000007LL));
  }
  SRS_Distribution_free(&cyclic);
  SRS_Distribution_free(&block);
  SRS_Distribution_free(&bc5);
}

/* The user-function array read with a map, and the block array read as a 10x10 2-D grid. */
static void ReadUserAnd2D(void) {
  double f[kF], u[kU];
  int owner[kF];
  SRS_Distribution map, grid;
  for (int g = 0; g < kF; ++g) owner[g] = (g * 3 + 2) % g_nprocs;
  EXPECT_RC(SRS_DistributeMap_Create(kF, owner, &map), SRS_OK);
  EXPECT_RC(SRS_Read("f", f, SRS_DOUBLE, map), SRS_OK);
  for (int g = 0, k = 0; g < kF; ++g) {
    if (owner[g] == g_rank) EXPECT_TRUE(f[k++] == g * 0.25);
  }
  /* rows dealt in blocks of 3 over a P x 1 grid; local column-major, ld = local rows. */
  EXPECT_RC(SRS_Distribution_block_cyclic_2d(10, 10, 3, 2, g_nprocs, 1, 0, 0, &grid), SRS_OK);
  EXPECT_RC(SRS_Read("u", u, SRS_DOUBLE, grid), SRS_OK);
  int64_t ld = BlockCyclicCount(10, 3, g_nprocs, g_rank);
  EXPECT_TRUE(LocalCount(grid, kU) == ld * 10);
  for (int64_t row = 0; row < 10; ++row) {
    if ((row / 3) % g_nprocs != g_rank) continue;
    for (int64_t col = 0; col < 10; ++col) {
      EXPECT_TRUE(u[BlockCyclicLocal(row, 3, g_nprocs) + col * ld] == (row + col * 10) * 0.5);
    }
  }
  SRS_Distribution_free(&map);
  SRS_Distribution_free(&grid);
}

void PhaseRead(int old_nprocs) {
  EXPECT_RC(SRS_Init(MPI_COMM_WORLD, NULL), SRS_OK);
  EXPECT_RC(SRS_Restart_Value(), 1);
  ReadErrors(old_nprocs);
  ReadConverted();
  ReadUserAnd2D();
  EXPECT_RC(SRS_Check_Stop(), 0);
}

void PhaseExpectReadError(int expected) {
  double u[kU];
  SRS_Distribution block;
  SRS_Distribution_block(&block);
  EXPECT_RC(SRS_Init(MPI_COMM_WORLD, NULL), SRS_OK);
  EXPECT_RC(SRS_Restart_Value(), 1);
  /* Every rank gets the same code, and the message names the array and a depot. */
  EXPECT_RC(SRS_Read("u", u, SRS_DOUBLE, block), expected);
  EXPECT_LAST_ERROR_HAS("'u'");
  EXPECT_LAST_ERROR_HAS("depot");
  SRS_Distribution_free(&block);
}
