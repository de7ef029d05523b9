// Writes this rank's checkpoint piece (every registered array as one HDF5 dataset, DESIGN.md §5)
// to its depot. Shared host (and transport != grpc): PutLocal, HDF5 writes straight into the
// depot's spool file, no copy through a socket. Otherwise the file is built in memory and
// streamed with PutBytes.
#ifndef SRS_LIBSRS_SRC_PIECE_WRITER_H_
#define SRS_LIBSRS_SRC_PIECE_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/piece_format.h"
#include "depot/client/early_local_write.h"
#include "libsrs/src/array_registry.h"
#include "libsrs/src/run_env.h"
#include "libsrs/src/write_grants.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

// The datasets of this rank's piece, pointing at the application's arrays. `indices` receives the
// global index tables of map/func layouts (the datasets point into it: keep it alive and do not
// grow it while they are used).
absl::StatusOr<std::vector<piece::DatasetWrite>> BuildPieceDatasets(
    const RunEnv& env, const ArrayRegistry& registry, std::vector<std::vector<int64_t>>* indices);

// Local. Writes `datasets` as this rank's piece of `epoch` to its depot, then (with redundancy:
// grant.replicas not empty) has its depot copy it to every replica target
// (piece_replication.h); the record to report, listing every copy, its own first. Any failed
// copy fails the piece (the error names the target depot) and removes the copies made.
// Thread-safe with respect to the application's thread: it reads `env` only (the async flusher
// calls it from its own thread; no MPI). `grant`: this rank's write grant and replica targets.
// `done_bytes` (may be null) is kept at the piece's bytes done so far: on the disk (shared host:
// common/write_behind.h) or sent (a remote depot), for the checkpoint's progress
// (checkpoint_progress.h). `direct_io`: the datasets' memory is the caller's own page-aligned
// staging (an asynchronous checkpoint), written to a shared-host depot's spool with direct I/O
// (piece::WriteOptions::direct_io); the application's own arrays are written buffered.
// `early` (may be null): this piece of this epoch, started by StartEarlyPiece; its file is
// adopted instead of writing the piece again.
absl::StatusOr<rss::v1::PieceRecord> WritePieceDatasets(
    const RunEnv& env, const std::vector<piece::DatasetWrite>& datasets, int64_t epoch,
    const RankWriteGrant& grant, std::atomic<int64_t>* done_bytes = nullptr, bool direct_io = false,
    EarlyLocalWrite* early = nullptr);

// Local, no MPI. Starts writing `datasets` as this rank's piece of `epoch` into its depot's
// spool on a thread of its own, before the checkpoint is begun (the epoch is a guess:
// RunEnv::PredictedEpoch; early_local_write.h). Null, nothing started, when the depot is not on
// this host or the client has not learnt its spool yet (no local put so far), or epoch <= 0.
// `datasets` (and the memory they point at) and `done_bytes` (may be null) must outlive the
// result; destroying the result without handing it to WritePieceDatasets waits for the write
// and removes the file.
std::unique_ptr<EarlyLocalWrite> StartEarlyPiece(const RunEnv& env,
                                                 const std::vector<piece::DatasetWrite>& datasets,
                                                 int64_t epoch, std::atomic<int64_t>* done_bytes);

// Bytes of array data this rank's piece holds (for size hints and timings).
int64_t PieceDataBytes(const ArrayRegistry& registry);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_PIECE_WRITER_H_
