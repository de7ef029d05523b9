// What an SRS_Distribution handle points to: an immutable layout (shared, so an array record
// can keep it alive) and how many registered arrays use it (a used handle cannot be freed).
// SRS_DIST_NONE and SRS_DIST_SAME are sentinel pointer values, never dereferenced.
#ifndef SRS_LIBSRS_SRC_DISTRIBUTION_HANDLE_H_
#define SRS_LIBSRS_SRC_DISTRIBUTION_HANDLE_H_

#include <atomic>
#include <memory>

#include "libsrs/src/layout/distribution.h"
#include "srs/srs.h"

struct SRS_Distribution_s {
  std::shared_ptr<const srs::layout::Distribution> layout;
  std::atomic<int> registrations{0};
};

namespace srs {
namespace libsrs {

inline bool IsNone(SRS_Distribution d) { return d == SRS_DIST_NONE; }
inline bool IsSame(SRS_Distribution d) { return d == SRS_DIST_SAME; }
// A handle built by one of the SRS_Distribution_* constructors.
inline bool IsReal(SRS_Distribution d) { return d != nullptr && !IsNone(d) && !IsSame(d); }

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_DISTRIBUTION_HANDLE_H_
