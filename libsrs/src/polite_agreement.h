// AgreeStatus (collective_status.h) for calls that come in long series, such as one SRS_Read
// per array on restart: the same agreement, waited for politely.
//
// A blocking MPI_Allreduce spins. When ranks outnumber the cores they run on (oversubscribed
// nodes, or a node shared with other work), a spinning rank holds a core the rank it waits for
// needs, and each collective costs a scheduler time slice: 25-35 ms per MPI_Allreduce on 3 ranks
// of a busy 2-core machine (measured), which made restoring 1000 small arrays take ~40 s. This
// one starts a non-blocking MPI_Iallreduce, polls it for a short while (no added latency when
// every rank has its own core), then sleeps briefly between polls so the late rank can run:
// ~0.4 ms per agreement on the same machine.
#ifndef SRS_LIBSRS_SRC_POLITE_AGREEMENT_H_
#define SRS_LIBSRS_SRC_POLITE_AGREEMENT_H_

#include <mpi.h>

#include "absl/status/status.h"

namespace srs {
namespace libsrs {

// Collective. Same result as AgreeStatus: OK on every rank if `local` is OK on every rank,
// otherwise the status of the lowest failing rank, on every rank.
absl::Status AgreeStatusPolitely(MPI_Comm comm, const absl::Status& local);

// Collective. An MPI_Barrier waited for the same way: for the ranks that wait while one rank
// talks to a service (rank 0's RSS calls in a checkpoint), so that they leave the cores to it
// and to the node's depot instead of spinning on them.
void PoliteBarrier(MPI_Comm comm);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_POLITE_AGREEMENT_H_
