#include "libsrs/src/polite_agreement.h"

#include <time.h>

#include <climits>

#include "libsrs/src/collective_status.h"

namespace srs {
namespace libsrs {
namespace {

// Poll without sleeping this long first: on dedicated cores the agreement completes within it.
constexpr double kSpinSeconds = 50e-6;
// Then sleep this long between polls: short against a time slice, long enough to yield the core.
constexpr long kNapNanoseconds = 20000;

// Waits for `request` to complete, spinning first, then napping between tests.
void WaitPolitely(MPI_Request* request) {
  const double start = MPI_Wtime();
  int done = 0;
  for (;;) {
    MPI_Test(request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    if (MPI_Wtime() - start > kSpinSeconds) {
      timespec nap{0, kNapNanoseconds};
      nanosleep(&nap, nullptr);
    }
  }
}

}  // namespace

void PoliteBarrier(MPI_Comm comm) {
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Ibarrier(comm, &request);
  WaitPolitely(&request);
}

absl::Status AgreeStatusPolitely(MPI_Comm comm, const absl::Status& local) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // The lowest failing rank speaks for everyone, as in AgreeStatus.
  int mine = local.ok() ? INT_MAX : rank;
  int first_failed = INT_MAX;
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Iallreduce(&mine, &first_failed, 1, MPI_INT, MPI_MIN, comm, &request);
  WaitPolitely(&request);
  if (first_failed == INT_MAX) return absl::OkStatus();
  return BroadcastStatus(comm, first_failed, local);
}

}  // namespace libsrs
}  // namespace srs
