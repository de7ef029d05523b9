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

 private:
  // Step 1: the array specs (with every rank's local count at rank 0), agreed on all ranks.
  absl::StatusOr<std::vector<rss::v1::ArraySpec>> AgreeOnArrays();
  // Step 2 (collective): rank 0 asks for an epoch; every rank gets it and its write grant.
  absl::StatusOr<int64_t> BeginOnRoot(const std::vector<rss::v1::ArraySpec>& arrays,
                                      rss::v1::CheckpointReason reason, int64_t request_id,
                                      depot::v1::WriteGrant* grant);
  // Step 3 (local): write this rank's piece; returns its record.
  absl::StatusOr<rss::v1::PieceRecord> WritePiece(int64_t epoch,
                                                  const depot::v1::WriteGrant& grant);
  // Step 4 (collective): report, commit or abort, broadcast the verdict.
  absl::Status Finalize(int64_t epoch, const absl::Status& written,
                        const rss::v1::PieceRecord& record, CheckpointResult* result);
  absl::Status CommitOnRoot(int64_t epoch, const std::vector<std::string>& records,
                            const CheckpointResult& result);

  RunEnv* const env_;
  const ArrayRegistry* const registry_;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_CHECKPOINT_WRITER_H_
