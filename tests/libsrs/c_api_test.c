/* The SRS C API exercised from C, every error path included. One binary, run in phases by
 * c_api_phases.sh under with-daemons.sh (a real srs-rss and srs-depot):
 *
 *   write        calls before SRS_Init, distribution and Init errors, Register errors, a
 *                finished mini-run, then a checkpoint of six arrays; leaves WITHOUT SRS_Finish
 *   read         restart (on another process count): Query, unknown name, bad conversions,
 *                NONE with a different count, 2-D grid mismatch, good reads with conversions
 *   corrupt      every piece was damaged on disk: SRS_Read fails with DATA_LOSS on every rank
 *   unavailable  the depot is down: SRS_Read fails with UNAVAILABLE on every rank
 */
#include <complex.h>
#include <stdint.h>
#include <stdlib.h>

#include "c_test_util.h"

int g_rank = 0;
int g_failures = 0;
int64_t g_f_count = kF;
int g_nprocs = 1;

static void CallsBeforeInit(void) {
  double x = 0;
  SRS_Distribution block = NULL;
  EXPECT_RC(SRS_Register("u", &x, SRS_DOUBLE, 1, SRS_DIST_NONE), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_LAST_ERROR_HAS("before SRS_Init");
  EXPECT_RC(SRS_Restart_Value(), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_RC(SRS_Check_Stop(), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_RC(SRS_Checkpoint(), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_RC(SRS_Read("u", &x, SRS_DOUBLE, SRS_DIST_SAME), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_RC(SRS_Query("u", NULL, NULL), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_RC(SRS_Finish(), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_TRUE(strstr(SRS_Error_string(SRS_ERR_NOT_FOUND), "NOT_FOUND") != NULL);
  EXPECT_TRUE(SRS_Error_string(12345) != NULL);
  EXPECT_TRUE(SRS_Datatype_size(SRS_DOUBLE_COMPLEX) == 16);
  EXPECT_TRUE(SRS_Datatype_size(SRS_CHAR) == 1);
  EXPECT_TRUE(SRS_Datatype_size(SRS_INT) == (int)sizeof(int));
  EXPECT_TRUE(SRS_Datatype_size(SRS_LONG) == (int)sizeof(long));
  EXPECT_TRUE(SRS_Datatype_size((SRS_Datatype)42) == 0);
  /* Distributions need no SRS_Init. */
  EXPECT_RC(SRS_Distribution_block(&block), SRS_OK);
  EXPECT_RC(SRS_Distribution_free(&block), SRS_OK);
  EXPECT_TRUE(block == NULL);
}

static void DistributionErrors(void) {
  SRS_Distribution d = NULL;
  int64_t count = -1;
  static const int owner[4] = {1, 0, 1, 1};
  EXPECT_RC(SRS_Distribution_block(NULL), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Distribution_block_cyclic(0, &d), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Distribution_block_cyclic_2d(5, 4, 2, 3, 2, 1, 2, 0, &d), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_DistributeFunc_Create(NULL, NULL, &d), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_DistributeMap_Create(5, NULL, &d), SRS_ERR_INVALID_ARGUMENT);

  EXPECT_RC(SRS_Distribution_block(&d), SRS_OK);
  EXPECT_RC(SRS_Local_count(d, 10, 0, 3, &count), SRS_OK);
  EXPECT_TRUE(count == 4);
  EXPECT_RC(SRS_Local_count(d, 10, 2, 3, &count), SRS_OK);
  EXPECT_TRUE(count == 3);
  EXPECT_RC(SRS_Local_count(d, 10, 3, 3, &count), SRS_ERR_INVALID_ARGUMENT);
  SRS_Distribution_free(&d);
  EXPECT_RC(SRS_Distribution_cyclic(&d), SRS_OK);
  EXPECT_RC(SRS_Local_count(d, 10, 1, 3, &count), SRS_OK);
  EXPECT_TRUE(count == 3);
  SRS_Distribution_free(&d);
  EXPECT_RC(SRS_Distribution_block_cyclic(2, &d), SRS_OK);
  EXPECT_RC(SRS_Local_count(d, 10, 2, 3, &count), SRS_OK);
  EXPECT_TRUE(count == 2);
  SRS_Distribution_free(&d);
  /* 5x4 matrix, 2x3 blocks, 2x1 grid: rows 0,1,4 on prow 0. */
  EXPECT_RC(SRS_Distribution_block_cyclic_2d(5, 4, 2, 3, 2, 1, 0, 0, &d), SRS_OK);
  EXPECT_RC(SRS_Local_count(d, 20, 0, 2, &count), SRS_OK);
  EXPECT_TRUE(count == 12);
  EXPECT_RC(SRS_Local_count(d, 20, 0, 3, &count), SRS_ERR_INVALID_ARGUMENT); /* grid != P */
  EXPECT_RC(SRS_Local_count(d, 21, 0, 2, &count), SRS_ERR_INVALID_ARGUMENT); /* rows*cols */
  SRS_Distribution_free(&d);
  EXPECT_RC(SRS_DistributeMap_Create(4, owner, &d), SRS_OK);
  EXPECT_RC(SRS_Local_count(d, 4, 1, 2, &count), SRS_OK);
  EXPECT_TRUE(count == 3);
  SRS_Distribution_free(&d);
  EXPECT_RC(SRS_DistributeFunc_Create(ReverseFunc, &g_f_count, &d), SRS_OK);
  EXPECT_RC(SRS_Local_count(d, kF, 0, 3, &count), SRS_OK);
  EXPECT_TRUE(count == BlockCyclicCount(kF, 4, 3, 0));
  SRS_Distribution_free(&d);
  d = SRS_DIST_NONE;
  EXPECT_RC(SRS_Distribution_free(&d), SRS_OK); /* a no-op on the constants */
}

/* Writes a config file on rank 0 for everyone to read. */
static void WriteConfig(const char* path, const char* text) {
  if (g_rank == 0) {
    FILE* f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

static void InitErrors(const char* workdir) {
  char path[1024];
  double x = 0;
  snprintf(path, sizeof path, "%s/c_api_bad.config", workdir);
  WriteConfig(path, "# a typo must not pass silently\ncheckpoint_intervall = 10\n");
  EXPECT_RC(SRS_Init(MPI_COMM_WORLD, path), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_LAST_ERROR_HAS("checkpoint_intervall");
  snprintf(path, sizeof path, "%s/no-such.config", workdir);
  EXPECT_RC(SRS_Init(MPI_COMM_WORLD, path), SRS_ERR_NOT_FOUND);
  /* An RSS nobody listens on: the same UNAVAILABLE on every rank once rpc_timeout (waiting for
   * an RSS that may be restarting) has passed, no hang. */
  char* rss = strdup(getenv("SRS_RSS"));
  setenv("SRS_RSS", "127.0.0.1:1", 1);
  setenv("SRS_RPC_TIMEOUT", "1", 1);
  EXPECT_RC(SRS_Init(MPI_COMM_WORLD, NULL), SRS_ERR_UNAVAILABLE);
  EXPECT_LAST_ERROR_HAS("127.0.0.1:1");
  unsetenv("SRS_RPC_TIMEOUT");
  setenv("SRS_RSS", rss, 1);
  free(rss);
  EXPECT_RC(SRS_Register("u", &x, SRS_DOUBLE, 1, SRS_DIST_NONE), SRS_ERR_FAILED_PRECONDITION);
}

/* A complete short run under another job name: Finish ends it; calls after it are refused. */
static void FinishedRun(void) {
  char app[512];
  char* saved = strdup(getenv("SRS_APP"));
  double x[3] = {1, 2, 3};
  snprintf(app, sizeof app, "%s-mini", saved);
  setenv("SRS_APP", app, 1);
  EXPECT_RC(SRS_Init(MPI_COMM_WORLD, NULL), SRS_OK);
  EXPECT_RC(SRS_Checkpoint(), SRS_ERR_FAILED_PRECONDITION); /* nothing registered */
  EXPECT_RC(SRS_Register("x", x, SRS_DOUBLE, 3, SRS_DIST_NONE), SRS_OK);
  EXPECT_RC(SRS_Checkpoint(), SRS_OK);
  EXPECT_RC(SRS_Finish(), SRS_OK);
  EXPECT_RC(SRS_Check_Stop(), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_RC(SRS_Register("x", x, SRS_DOUBLE, 3, SRS_DIST_NONE), SRS_ERR_FAILED_PRECONDITION);
  setenv("SRS_APP", saved, 1);
  free(saved);
}

static void RegisterErrors(void) {
  double x[4] = {0, 0, 0, 0};
  SRS_Distribution grid = NULL, block = NULL;
  EXPECT_RC(SRS_Distribution_block(&block), SRS_OK);
  EXPECT_RC(SRS_Register("", x, SRS_DOUBLE, 1, SRS_DIST_NONE), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Register(NULL, x, SRS_DOUBLE, 1, SRS_DIST_NONE), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Register("a/b", x, SRS_DOUBLE, 1, SRS_DIST_NONE), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Register("srs_index", x, SRS_DOUBLE, 1, SRS_DIST_NONE), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Register("x", x, (SRS_Datatype)42, 1, SRS_DIST_NONE), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Register("x", x, SRS_DOUBLE, -1, SRS_DIST_NONE), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Register("x", x, SRS_DOUBLE, 1, SRS_DIST_SAME), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Register("x", x, SRS_DOUBLE, 1, NULL), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_RC(SRS_Register("x", NULL, SRS_DOUBLE, 4 * g_nprocs, block), SRS_ERR_INVALID_ARGUMENT);
  /* A 2-D grid of P+1 processes cannot be used by a run of P. */
  EXPECT_RC(SRS_Distribution_block_cyclic_2d(4, g_nprocs + 1, 2, 1, 1, g_nprocs + 1, 0, 0, &grid),
            SRS_OK);
  EXPECT_RC(SRS_Register("x", x, SRS_DOUBLE, 4 * (g_nprocs + 1), grid), SRS_ERR_INVALID_ARGUMENT);
  EXPECT_LAST_ERROR_HAS("x");
  SRS_Distribution_free(&grid);
  SRS_Distribution_free(&block);
  /* Not a restart: nothing to read or query. */
  EXPECT_RC(SRS_Read("x", x, SRS_DOUBLE, SRS_DIST_SAME), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_RC(SRS_Query("x", NULL, NULL), SRS_ERR_NOT_FOUND);
}

/* Storage of the checkpointed arrays: they must outlive the checkpoint. */
static double* u_;
static double complex* z_;
static char* txt_;
static int64_t* i64_;
static float* f_;
static int iters_;

int64_t LocalCount(SRS_Distribution d, int64_t n) {
  int64_t count = 0;
  EXPECT_RC(SRS_Local_count(d, n, g_rank, g_nprocs, &count), SRS_OK);
  return count;
}

static void FillAndRegister(void) {
  SRS_Distribution block, cyclic, bc3, map, func;
  int owner[kI64];
  for (int g = 0; g < kI64; ++g) owner[g] = (g * 7 + 1) % g_nprocs;
  SRS_Distribution_block(&block);
  SRS_Distribution_cyclic(&cyclic);
  SRS_Distribution_block_cyclic(3, &bc3);
  SRS_DistributeMap_Create(kI64, owner, &map);
  SRS_DistributeFunc_Create(ReverseFunc, &g_f_count, &func);
  u_ = calloc(kU, sizeof *u_);
  z_ = calloc(kZ, sizeof *z_);
  txt_ = calloc(kTxt, 1);
  i64_ = calloc(kI64, sizeof *i64_);
  f_ = calloc(kF, sizeof *f_);
  /* Global index -> value, placed where each layout stores it. */
  int64_t first = 0;
  for (int r = 0; r < g_rank; ++r) first += kU / g_nprocs + (r < kU % g_nprocs);
  for (int64_t i = 0; i < LocalCount(block, kU); ++i) u_[i] = (double)(first + i) * 0.5;
  for (int64_t i = 0; i < LocalCount(cyclic, kZ); ++i) {
    int64_t g = i * g_nprocs + g_rank;
    z_[i] = (double)g - I * (double)g;
  }
  for (int64_t g = 0; g < kTxt; ++g) {
    if ((g / 3) % g_nprocs == g_rank) txt_[BlockCyclicLocal(g, 3, g_nprocs)] = 'a' + g % 26;
  }
  for (int64_t g = 0, k = 0; g < kI64; ++g) {
    if (owner[g] == g_rank) i64_[k++] = g * 1000000007LL;
  }
  for (int64_t g = 0; g < kF; ++g) {
    int o = 0;
    int64_t l = 0;
    ReverseFunc(g, g_nprocs, &g_f_count, &o, &l);
    if (o == g_rank) f_[l] = (float)g * 0.25f;
  }
  iters_ = 7 + g_rank;
  EXPECT_RC(SRS_Register("u", u_, SRS_DOUBLE, kU, block), SRS_OK);
  EXPECT_RC(SRS_Register("z", z_, SRS_DOUBLE_COMPLEX, kZ, cyclic), SRS_OK);
  EXPECT_RC(SRS_Register("txt", txt_, SRS_CHAR, kTxt, bc3), SRS_OK);
  EXPECT_RC(SRS_Register("i64", i64_, SRS_INT64, kI64, map), SRS_OK);
  EXPECT_RC(SRS_Register("f", f_, SRS_FLOAT, kF, func), SRS_OK);
  EXPECT_RC(SRS_Register("iters", &iters_, SRS_INT, 1, SRS_DIST_NONE), SRS_OK);
  EXPECT_RC(SRS_Distribution_free(&block), SRS_ERR_FAILED_PRECONDITION); /* still registered */
}

static void PhaseWrite(const char* workdir) {
  CallsBeforeInit();
  DistributionErrors();
  InitErrors(workdir);
  FinishedRun();
  EXPECT_RC(SRS_Init(MPI_COMM_WORLD, NULL), SRS_OK);
  EXPECT_RC(SRS_Init(MPI_COMM_WORLD, NULL), SRS_ERR_FAILED_PRECONDITION);
  EXPECT_RC(SRS_Restart_Value(), 0);
  RegisterErrors();
  FillAndRegister();
  EXPECT_RC(SRS_Checkpoint(), SRS_OK);
  EXPECT_RC(SRS_Check_Stop(), 0);
  /* Leave without SRS_Finish: the checkpoint stays for the next phases, and MPI_Finalize must
   * not hang on the library's watcher thread. */
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_nprocs);
  const char* phase = argc > 1 ? argv[1] : "write";
  const char* workdir = getenv("SRS_TEST_WORKDIR") ? getenv("SRS_TEST_WORKDIR") : ".";
  int old_nprocs = argc > 2 ? atoi(argv[2]) : g_nprocs;
  if (strcmp(phase, "write") == 0) {
    PhaseWrite(workdir);
  } else if (strcmp(phase, "read") == 0) {
    PhaseRead(old_nprocs);
  } else if (strcmp(phase, "corrupt") == 0) {
    PhaseExpectReadError(SRS_ERR_DATA_LOSS);
  } else if (strcmp(phase, "unavailable") == 0) {
    PhaseExpectReadError(SRS_ERR_UNAVAILABLE);
  } else {
    fprintf(stderr, "unknown phase %s\n", phase);
    g_failures++;
  }
  int failures = 0;
  MPI_Allreduce(&g_failures, &failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0) printf("c_api_test %s: %d failure(s)\n", phase, failures);
  MPI_Finalize();
  return failures == 0 ? 0 : 1;
}
