#include "libsrs/src/checkpoint_backoff.h"

#include <algorithm>

namespace srs {
namespace libsrs {

void CheckpointBackoff::Record(bool ok, absl::Time now) {
  if (ok) {
    failures_ = 0;
    next_allowed_ = absl::InfinitePast();
    return;
  }
  ++failures_;
  absl::Duration wait = initial_;
  for (int i = 1; i < failures_ && wait < max_; ++i) wait *= 2;
  next_allowed_ = now + std::min(wait, max_);
}

}  // namespace libsrs
}  // namespace srs
