#include "libsrs/src/layout/slab.h"

#include "libsrs/src/layout/impl.h"

namespace srs {
namespace layout {
namespace internal {

Hyperslab MakeSlab(int64_t start, int64_t stride, int64_t count, int64_t block) {
  if (count <= 0 || block <= 0) return Hyperslab{start, 1, 0, 1};
  if (count == 1 || stride == block) {
    int64_t length = count * block;
    return Hyperslab{start, length, 1, length};
  }
  return Hyperslab{start, stride, count, block};
}

bool MergeSlabs(const Hyperslab& a, const Hyperslab& b, Hyperslab* out) {
  if (a.elements() == 0 || b.elements() == 0) return false;
  if (a.count == 1 && b.count == 1 && b.start == a.start + a.block) {
    *out = Contiguous(a.start, a.block + b.block);
    return true;
  }
  if (a.block != b.block) return false;
  if (a.count > 1 && b.count > 1 && a.stride != b.stride) return false;
  int64_t stride = a.count > 1 ? a.stride : (b.count > 1 ? b.stride : b.start - a.start);
  // stride == block would be contiguous (handled above, or not in normal form).
  if (stride <= a.block) return false;
  if (b.start != a.start + a.count * stride) return false;
  *out = Hyperslab{a.start, stride, a.count + b.count, a.block};
  return true;
}

void AppendPair(std::vector<SlabPair>* out, const Hyperslab& src, const Hyperslab& dst) {
  if (src.elements() == 0) return;
  if (!out->empty()) {
    SlabPair& last = out->back();
    Hyperslab merged_src, merged_dst;
    if (MergeSlabs(last.src, src, &merged_src) && MergeSlabs(last.dst, dst, &merged_dst)) {
      last.src = merged_src;
      last.dst = merged_dst;
      return;
    }
  }
  out->push_back(SlabPair{src, dst});
}

void AppendSegment(std::vector<Segment>* out, Segment s) {
  Hyperslab g = MakeSlab(s.global_start, s.global_stride, s.count, s.block);
  if (g.elements() == 0) return;
  if (!out->empty()) {
    Segment& last = out->back();
    Hyperslab prev{last.global_start, last.global_stride, last.count, last.block};
    Hyperslab merged;
    // Locally a segment is always contiguous, so it continues the last one only if its local
    // range follows directly.
    if (s.local_start == last.local_start + last.elements() && MergeSlabs(prev, g, &merged)) {
      last = Segment{merged.start, merged.stride, merged.count, merged.block, last.local_start};
      return;
    }
  }
  out->push_back(Segment{g.start, g.stride, g.count, g.block, s.local_start});
}

}  // namespace internal
}  // namespace layout
}  // namespace srs
