// One checkpoint, all or nothing (docs/architecture.md "Checkpoint protocol"):
//   1. ranks agree they registered the same arrays; local counts gathered at rank 0;
//   2. rank 0 BeginCheckpoint -> epoch, broadcast;
//   3. every rank writes its piece to its depot (shared-host fast path: HDF5 written straight
//      into the depot's spool; else the file image streamed over gRPC);
//   4. agreement on success; rank 0 ReportPieces (all records at once) and CommitCheckpoint with
//      the timings, or AbortCheckpoint; the verdict is broadcast.
// Until the commit, the previous committed checkpoint stays the restart point.
#ifndef SRS_LIBSRS_SRC_CHECKPOINT_WRITER_H_
#define SRS_LIBSRS_SRC_CHECKPOINT_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libsrs/src/array_registry.h"
#include "libsrs/src/run_env.h"
#include "libsrs/src/write_grants.h"
#include "srs/depot/v1/depot.pb.h"

namespace srs {
namespace libsrs {

struct CheckpointResult {
  int64_t epoch = 0;
  double write_seconds = 0;  // slowest rank
  int64_t bytes = 0;         // all ranks
};

class CheckpointWriter {
 public:
  CheckpointWriter(RunEnv* env, const ArrayRegistry* registry) : env_(env), registry_(registry) {}

  // Collective. OK on every rank once the RSS committed the checkpoint.
  absl::StatusOr<CheckpointResult> Run(rss::v1::CheckpointReason reason, int64_t request_id);

  // The steps of Run, for asynchronous checkpoints (AsyncCheckpoints), whose RPCs run on rank
  // 0's background thread and whose local write runs on every rank's:
  //
  // Step 1 (collective): the array specs (with every rank's local count at rank 0), agreed on
  // all ranks; the same verdict on every rank. The same allreduce carries `vote`: `max_vote`
  // (if not null) gets its maximum over the ranks.
  absl::StatusOr<std::vector<rss::v1::ArraySpec>> AgreeOnArrays(uint64_t vote = 0,
                                                                uint64_t* max_vote = nullptr);
  // Step 2, rank 0 only, no MPI: BeginCheckpoint -> the epoch and one write grant per rank
  // (write_grants.h scatters them).
  absl::StatusOr<rss::v1::BeginCheckpointResponse> BeginRpc(
      const std::vector<rss::v1::ArraySpec>& arrays, rss::v1::CheckpointReason reason,
      int64_t request_id);
  // Step 4a (collective), once every rank's write of `epoch` ended (`record`: this rank's
  // outcome, `write_seconds`: its duration): agreement on success, then (if so) the records and
  // the timings (slowest write, total bytes) at rank 0; elsewhere the timings stay 0.
  struct Gathered {
    absl::Status agreed;               // OK on every rank iff every rank wrote its piece
    std::vector<std::string> records;  // rank 0: serialized PieceRecords, by rank
    CheckpointResult result;
  };
  Gathered Gather(int64_t epoch, const absl::StatusOr<rss::v1::PieceRecord>& record,
                  double write_seconds);
  // Step 4b, rank 0 only, no MPI: ReportPieces + CommitCheckpoint, or AbortCheckpoint when the
  // write or the commit failed. The verdict.
  absl::Status CommitOrAbortOnRoot(int64_t epoch, const Gathered& gathered);
  // Local: deletes every copy of this rank's piece of a checkpoint that was not committed (else
  // their leases reclaim them later).
  void DropPiece(const rss::v1::PieceRecord& record);

 private:
  // Step 2 (collective): rank 0 asks for an epoch; every rank gets it and its write grant
  // (scattered right after the epoch's broadcast).
  absl::StatusOr<int64_t> BeginOnRoot(const std::vector<rss::v1::ArraySpec>& arrays,
                                      rss::v1::CheckpointReason reason, int64_t request_id,
                                      RankWriteGrant* grant);
  absl::Status CommitOnRoot(int64_t epoch, const std::vector<std::string>& records,
                            const CheckpointResult& result);

  RunEnv* const env_;
  const ArrayRegistry* const registry_;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_CHECKPOINT_WRITER_H_
