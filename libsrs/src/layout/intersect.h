// Internal to srs_layout: the intersection of two segments (one per layout) as slab pairs.
#ifndef SRS_LIBSRS_SRC_LAYOUT_INTERSECT_H_
#define SRS_LIBSRS_SRC_LAYOUT_INTERSECT_H_

#include <vector>

#include "libsrs/src/layout/distribution.h"
#include "libsrs/src/layout/slab.h"

namespace srs {
namespace layout {
namespace internal {

// Appends to *out the global indices both `src` (an old rank's segment) and `dst` (the new
// rank's) hold, as (src local slab, dst local slab) pairs in increasing global order within each
// pair. Cost and output are independent of the segments' length when their combined pattern
// repeats (period lcm of the two strides) within the overlap; otherwise one to three pairs per
// block of the segment with fewer blocks.
void IntersectSegments(const Segment& src, const Segment& dst, std::vector<SlabPair>* out);

}  // namespace internal
}  // namespace layout
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_LAYOUT_INTERSECT_H_
