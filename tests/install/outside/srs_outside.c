/* A user's program built against the installed SRS: local calls only (no daemons needed),
 * checking the results so a broken install cannot pass. */
#include <mpi.h>
#include <srs/srs.h>
#include <stdio.h>
#include <string.h>

static int check(int ok, const char *what) {
  if (!ok) fprintf(stderr, "srs_outside: FAILED %s\n", what);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int failures = 0;

  SRS_Distribution block = NULL;
  failures += check(SRS_Distribution_block(&block) == SRS_OK, "SRS_Distribution_block");
  int64_t count = -1, total = 0;
  failures += check(SRS_Local_count(block, 10, rank, size, &count) == SRS_OK, "SRS_Local_count");
  /* 10 elements over `size` ranks: the first 10 % size ranks hold one more. */
  int64_t expected = 10 / size + (rank < 10 % size ? 1 : 0);
  failures += check(count == expected, "block local count");
  MPI_Allreduce(&count, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  failures += check(total == 10, "block counts add up");
  failures += check(SRS_Distribution_free(&block) == SRS_OK && block == NULL, "free");
  failures += check(strstr(SRS_Error_string(SRS_ERR_NOT_FOUND), "NOT_FOUND") != NULL,
                    "SRS_Error_string");
  failures += check(SRS_Restart_Value() < 0, "SRS_Restart_Value before SRS_Init is an error");

  MPI_Finalize();
  return failures == 0 ? 0 : 1;
}
