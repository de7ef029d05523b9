// Write grants on their way from the RSS to the ranks: rank 0 gets one grant per rank with
// BeginCheckpoint and scatters them, so each rank can store its own piece (and only it) on a
// depot (common/grant.h, depot/grant_check.h).
#ifndef SRS_LIBSRS_SRC_WRITE_GRANTS_H_
#define SRS_LIBSRS_SRC_WRITE_GRANTS_H_

#include <mpi.h>

#include "srs/depot/v1/depot.pb.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

// Collective over `comm` (nprocs ranks). `begun` is rank 0's BeginCheckpoint answer (ignored
// elsewhere, may be null there). Returns this rank's grant; an empty grant when the RSS sent
// none or not one per rank (then the depot refuses the put with a clear UNAUTHENTICATED).
depot::v1::WriteGrant ScatterWriteGrants(MPI_Comm comm, int rank, int nprocs,
                                         const rss::v1::BeginCheckpointResponse* begun);

// Local, rank 0: its own grant out of its BeginCheckpoint answer (what ScatterWriteGrants gives
// rank 0), so rank 0's asynchronous write can start before the others learn the epoch. Empty
// when the RSS did not send one grant per rank.
depot::v1::WriteGrant RootWriteGrant(const rss::v1::BeginCheckpointResponse& begun, int nprocs);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_WRITE_GRANTS_H_
