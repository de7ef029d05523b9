// Internal to srs_layout: building and merging hyperslabs so plans stay short.
#ifndef SRS_LIBSRS_SRC_LAYOUT_SLAB_H_
#define SRS_LIBSRS_SRC_LAYOUT_SLAB_H_

#include <cstdint>
#include <vector>

#include "libsrs/src/layout/distribution.h"

namespace srs {
namespace layout {
namespace internal {

// A slab in normal form: count 1 has stride == block; stride == block folds into one block.
// count or block 0 gives an empty slab (elements() == 0).
Hyperslab MakeSlab(int64_t start, int64_t stride, int64_t count, int64_t block);
inline Hyperslab Contiguous(int64_t start, int64_t length) {
  return MakeSlab(start, length, 1, length);
}

// If the elements of `a` followed by those of `b` (each in iteration order) are, in that order,
// the elements of one hyperslab, stores it in *out and returns true. Both in normal form.
bool MergeSlabs(const Hyperslab& a, const Hyperslab& b, Hyperslab* out);

// src[i] <-> dst[i] element by element, as in Transfer.
struct SlabPair {
  Hyperslab src;
  Hyperslab dst;
};

// Appends (src, dst), equal in element count, merging it into the last pair when both sides
// continue it.
void AppendPair(std::vector<SlabPair>* out, const Hyperslab& src, const Hyperslab& dst);

}  // namespace internal
}  // namespace layout
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_LAYOUT_SLAB_H_
