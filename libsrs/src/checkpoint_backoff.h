// Spacing between failed checkpoint attempts. A checkpoint that failed (depot full, depot or RSS
// down beyond rpc_timeout) is not tried again at the very next SRS_Check_Stop: that would rewrite
// the whole checkpoint at every iteration and fail the same way (issue 14 saw 800 failed writes
// in 40 s). After the k-th failure in a row the next attempt waits initial * 2^(k-1), at most
// `max`; a success resets it. Pending stops and checkpoint requests stay pending meanwhile.
//
// Used by rank 0 only (it decides what SRS_Check_Stop does); not thread-safe.
#ifndef SRS_LIBSRS_SRC_CHECKPOINT_BACKOFF_H_
#define SRS_LIBSRS_SRC_CHECKPOINT_BACKOFF_H_

#include "absl/time/time.h"

namespace srs {
namespace libsrs {

class CheckpointBackoff {
 public:
  explicit CheckpointBackoff(absl::Duration initial = absl::Seconds(1),
                             absl::Duration max = absl::Seconds(60))
      : initial_(initial), max_(max) {}

  // Whether a checkpoint may be attempted at `now`.
  bool Allowed(absl::Time now) const { return now >= next_allowed_; }
  // Records the outcome of an attempt that ended at `now`.
  void Record(bool ok, absl::Time now);
  int failures() const { return failures_; }
  absl::Time next_allowed() const { return next_allowed_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  int failures_ = 0;  // in a row
  absl::Time next_allowed_ = absl::InfinitePast();
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_CHECKPOINT_BACKOFF_H_
