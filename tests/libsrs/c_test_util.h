/* Tiny assertion helpers for the C tests of the SRS C API (C99, no test framework): every
 * failed check prints rank, line, the call, its code and SRS_Last_error(), and counts; main
 * agrees on the count across ranks and returns non-zero if any rank failed. */
#ifndef SRS_TESTS_LIBSRS_C_TEST_UTIL_H_
#define SRS_TESTS_LIBSRS_C_TEST_UTIL_H_

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "srs/srs.h"

extern int g_rank;
extern int g_failures;
extern int g_nprocs;
extern int64_t g_f_count; /* the `user` data of ReverseFunc: the array size */

enum { kU = 100, kZ = 50, kTxt = 40, kI64 = 64, kF = 30 };

/* The user distribution of array "f": blocks of 4, dealt round-robin, stored in REVERSE order
 * on each rank (so local order is not global order). */
static inline int64_t BlockCyclicLocal(int64_t g, int64_t b, int p) {
  return (g / b) / p * b + g % b;
}
static inline int64_t BlockCyclicCount(int64_t n, int64_t b, int p, int r) {
  int64_t count = 0;
  for (int64_t g = 0; g < n; ++g) count += ((g / b) % p) == r;
  return count;
}
static inline int ReverseFunc(int64_t g, int nprocs, void* user, int* owner, int64_t* local) {
  int64_t n = *(const int64_t*)user;
  if (g < 0 || g >= n) return 1;
  *owner = (int)((g / 4) % nprocs);
  *local = BlockCyclicCount(n, 4, nprocs, *owner) - 1 - BlockCyclicLocal(g, 4, nprocs);
  return 0;
}

/* This rank's element count under `d` in this run. */
int64_t LocalCount(SRS_Distribution d, int64_t n);
/* The restart phases (c_api_test_read.c). */
void PhaseRead(int old_nprocs);
void PhaseExpectReadError(int expected);

#define EXPECT_RC(call, expected)                                                                  \
  do {                                                                                             \
    int rc_ = (call);                                                                              \
    if (rc_ != (expected)) {                                                                       \
      fprintf(stderr, "rank %d: %s:%d: %s returned %d (%s), expected %d (%s); last: %s\n", g_rank, \
              __FILE__, __LINE__, #call, rc_, SRS_Error_string(rc_), (expected),                   \
              SRS_Error_string(expected), SRS_Last_error());                                       \
      g_failures++;                                                                                \
    }                                                                                              \
  } while (0)

#define EXPECT_TRUE(cond)                                                                  \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "rank %d: %s:%d: expected %s\n", g_rank, __FILE__, __LINE__, #cond); \
      g_failures++;                                                                        \
    }                                                                                      \
  } while (0)

/* SRS_Last_error() must mention `text`. */
#define EXPECT_LAST_ERROR_HAS(text)                                                                \
  do {                                                                                             \
    if (strstr(SRS_Last_error(), (text)) == NULL) {                                                \
      fprintf(stderr, "rank %d: %s:%d: last error '%s' does not mention '%s'\n", g_rank, __FILE__, \
              __LINE__, SRS_Last_error(), (text));                                                 \
      g_failures++;                                                                                \
    }                                                                                              \
  } while (0)

#endif /* SRS_TESTS_LIBSRS_C_TEST_UTIL_H_ */
