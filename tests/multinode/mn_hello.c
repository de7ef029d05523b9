/* The harness self-test's MPI program: every rank says which host it runs on (gethostname, the
 * name `depot = auto` compares), then the ranks pass a token around a ring and sum their ranks,
 * so a node that cannot reach another fails the run. Rank 0 prints "ring ok N" on success. */
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  printf("rank %d on %s\n", rank, host);
  fflush(stdout);
  int token = rank == 0 ? 1 : 0;
  int next = (rank + 1) % size, prev = (rank + size - 1) % size;
  if (rank == 0) {
    MPI_Send(&token, 1, MPI_INT, next, 0, MPI_COMM_WORLD);
    MPI_Recv(&token, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  } else {
    MPI_Recv(&token, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    ++token;
    MPI_Send(&token, 1, MPI_INT, next, 0, MPI_COMM_WORLD);
  }
  int sum = 0;
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  /* Only rank 0 holds the token that went all the way round: it decides for everyone. */
  int ok = token == size && sum == size * (size - 1) / 2;
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank == 0 && ok) printf("ring ok %d\n", size);
  if (rank == 0 && !ok) printf("ring BROKEN: token %d, sum %d\n", token, sum);
  MPI_Finalize();
  return ok ? 0 : 1;
}
