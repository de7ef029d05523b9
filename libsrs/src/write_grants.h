// Write grants on their way from the RSS to the ranks: rank 0 gets one grant per rank with
// BeginCheckpoint and scatters them, so each rank can store its own piece (and only it) on a
// depot (common/grant.h, depot/grant_check.h). With redundancy the same scatter carries each
// rank's replica targets (the depots its piece is copied to; libsrs/src/piece_replication.h).
#ifndef SRS_LIBSRS_SRC_WRITE_GRANTS_H_
#define SRS_LIBSRS_SRC_WRITE_GRANTS_H_

#include <mpi.h>

#include "srs/depot/v1/depot.pb.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

// What one rank needs to write its piece of an epoch.
struct RankWriteGrant {
  depot::v1::WriteGrant grant;       // empty when the RSS sent none (the depot then refuses)
  rss::v1::ReplicaTargets replicas;  // where the piece is copied to; empty without redundancy
};

// Collective over `comm` (nprocs ranks). `begun` is rank 0's BeginCheckpoint answer (ignored
// elsewhere, may be null there). Returns this rank's grant and targets; an empty grant when the
// RSS sent none or not one per rank (then the depot refuses the put with a clear
// UNAUTHENTICATED); no targets unless the RSS sent one list per rank.
RankWriteGrant ScatterWriteGrants(MPI_Comm comm, int rank, int nprocs,
                                  const rss::v1::BeginCheckpointResponse* begun);

// Local, rank 0: its own grant and targets out of its BeginCheckpoint answer (what
// ScatterWriteGrants gives rank 0), so rank 0's asynchronous write can start before the others
// learn the epoch. Empty parts as above.
RankWriteGrant RootWriteGrant(const rss::v1::BeginCheckpointResponse& begun, int nprocs);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_WRITE_GRANTS_H_
