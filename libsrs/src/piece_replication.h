// Redundant copies of this rank's checkpoint piece (config key `redundancy`, issue 13).
//
// After a rank's own put, its depot copies the piece to every replica target the RSS chose
// (BeginCheckpoint's replica_targets, scattered with the write grants): one Depot.Replicate per
// target, all in parallel, each verified by the source depot against the piece's checksum. The
// bytes go depot to depot: the rank sends its piece once, whatever the redundancy. The record
// the rank reports lists every copy, its own first (with its depot's id, learnt once from the
// depot's Info), so the RSS can check the copies' failure domains before it commits.
#ifndef SRS_LIBSRS_SRC_PIECE_REPLICATION_H_
#define SRS_LIBSRS_SRC_PIECE_REPLICATION_H_

#include "absl/status/statusor.h"
#include "libsrs/src/run_env.h"
#include "srs/depot/v1/depot.pb.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

// Local, no MPI (the async flusher calls it from its thread). `own`: the record of the piece
// just put on this rank's depot (legacy fields set). Returns `own` with copies = [own copy,
// one per target in order] and depot_id set. Any failed copy fails the whole piece with an error
// naming the target depot; the copies already made and the own piece are then deleted (best
// effort: their leases reclaim what a delete misses).
absl::StatusOr<rss::v1::PieceRecord> ReplicatePiece(const RunEnv& env,
                                                    const depot::v1::PieceKey& key,
                                                    rss::v1::PieceRecord own,
                                                    const rss::v1::ReplicaTargets& targets,
                                                    const depot::v1::WriteGrant& grant);

// Local, best effort: deletes every copy of `record` (a piece of a checkpoint that did not
// commit).
void DropCopies(const RunEnv& env, const rss::v1::PieceRecord& record);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_PIECE_REPLICATION_H_
