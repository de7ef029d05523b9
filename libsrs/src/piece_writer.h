// Writes this rank's checkpoint piece (every registered array as one HDF5 dataset, DESIGN.md §5)
// to its depot. Shared host (and transport != grpc): PutLocal, HDF5 writes straight into the
// depot's spool file, no copy through a socket. Otherwise the file is built in memory and
// streamed with PutBytes.
#ifndef SRS_LIBSRS_SRC_PIECE_WRITER_H_
#define SRS_LIBSRS_SRC_PIECE_WRITER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "libsrs/src/array_registry.h"
#include "libsrs/src/run_env.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

// Local. The record to report to the RSS (depot, capabilities, size, checksum of the file).
// `grant`: this rank's write grant for the epoch (from BeginCheckpoint, scattered by rank 0).
absl::StatusOr<rss::v1::PieceRecord> WriteRankPiece(const RunEnv& env,
                                                    const ArrayRegistry& registry, int64_t epoch,
                                                    const depot::v1::WriteGrant& grant);

// Bytes of array data this rank's piece holds (for size hints and timings).
int64_t PieceDataBytes(const ArrayRegistry& registry);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_PIECE_WRITER_H_
