// SRS_Read and SRS_Query: reading the checkpoint a restarted run resumes from. The manifest
// (broadcast at SRS_Init) gives the old layout and where every old piece lives; the planner says
// which selections of which pieces this rank needs; the fetcher reads them in parallel.
#ifndef SRS_LIBSRS_SRC_RESTART_READER_H_
#define SRS_LIBSRS_SRC_RESTART_READER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/datatype.h"
#include "libsrs/src/distribution_handle.h"
#include "libsrs/src/piece_fetcher.h"
#include "libsrs/src/restore_progress.h"
#include "libsrs/src/run_env.h"

namespace srs {
namespace libsrs {

class RestartReader {
 public:
  // On a restart, rank 0 shows the reads' progress when asked to (restore_progress.h).
  // On a restart, starts warming up in the background what every first SRS_Read would pay
  // for: one connection per depot the manifest names (and its data channel), and the verified
  // path of this rank's own old piece on a shared-host depot. Failures are left for the reads
  // to report.
  explicit RestartReader(RunEnv* env);
  ~RestartReader();  // waits for the warm-up (bounded by the RPC timeout)
  RestartReader(const RestartReader&) = delete;
  RestartReader& operator=(const RestartReader&) = delete;

  // Collective. See SRS_Read in srs.h. `precheck`: this rank's verdict on the call before any
  // byte moves (the buffer fits, Context::CheckReadAgainstRegistration); when it is an error
  // this rank reads nothing, and it takes part in the read's one agreement with that error, so
  // every rank fails alike without a collective of its own for the check.
  absl::Status Read(const std::string& name, void* data, int c_type, SRS_Distribution dist,
                    const absl::Status& precheck = absl::OkStatus());
  // Local. See SRS_Query in srs.h.
  absl::Status Query(const std::string& name, ElementType* type, int64_t* global_count) const;

  // Local totals over every Read so far (for ReportRestart).
  // Waits for the restart's preparation, started by the constructor on its own thread: the
  // connections to the depots that hold this run's pieces and, on a shared host, this rank's
  // own piece verified by its depot and its datasets located. SRS_Init waits for it, so the
  // SRS_Read calls pay only for their reads (a dead depot is probed once, boundedly:
  // DepotPool::kProbeTimeout). Idempotent.
  void FinishWarmUp();

  double read_seconds() const { return read_seconds_; }
  int64_t read_bytes() const { return read_bytes_; }

 private:
  absl::StatusOr<const rss::v1::ArraySpec*> FindArray(const std::string& name) const;
  // Every copy of old rank `old_rank`'s piece, in the manifest's order (none if it has no piece).
  PieceLocation PieceOf(int old_rank) const;
  // The fetch tasks of this rank (empty when it needs nothing); `elements` = what it reads.
  absl::StatusOr<std::vector<FetchTask>> Plan(const rss::v1::ArraySpec& spec, SRS_Distribution dist,
                                              int64_t* elements);
  absl::StatusOr<std::vector<FetchTask>> PlanDistributed(const rss::v1::ArraySpec& spec,
                                                         SRS_Distribution dist);
  // The old run's layout of `spec`; user-defined and per-rank layouts are rebuilt from the
  // pieces' index lists (cached per array).
  absl::StatusOr<layout::Distribution> OldLayout(const rss::v1::ArraySpec& spec);
  absl::Status ReadLocal(const std::string& name, void* data, int c_type, SRS_Distribution dist,
                         int64_t* bytes);

  void WarmUp();

  RunEnv* const env_;
  std::thread warm_up_;
  std::map<std::string, layout::Distribution> old_layouts_;
  // Fetch tasks this rank sent to each depot so far (its first choice), over every Read: the
  // "least loaded" of the copy choice (rss/client/copy_order.h).
  std::map<std::string, int> copy_load_;
  // Rank 0's progress line; never null (disabled unless asked for and large enough).
  std::unique_ptr<RestoreProgress> progress_;
  double read_seconds_ = 0;
  int64_t read_bytes_ = 0;
};

// INVALID_ARGUMENT when `stored` cannot be read as `wanted` (complex <-> real, char <->
// numeric), naming the array.
absl::Status CheckConvertible(const std::string& name, ElementType stored, ElementType wanted);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_RESTART_READER_H_
