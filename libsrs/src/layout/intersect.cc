// Two strategies, chosen by estimated cost:
//  - periodic: both segments repeat with period L = lcm(stride_a, stride_b); the runs of one
//    period become slab families of `count` = number of whole periods, plus head and tail runs;
//  - nested: walk the blocks of the segment with fewer blocks and intersect each with the other
//    segment in closed form (a head run, a family of whole blocks, a tail run).
// Contiguous segments are seen as stride 1, block 1 (every index), so they never limit L.
#include "libsrs/src/layout/intersect.h"

#include <algorithm>
#include <numeric>

#include "libsrs/src/layout/impl.h"

namespace srs {
namespace layout {
namespace internal {
namespace {

// A segment as a periodic set of global indices: g is in it iff (g - gs) mod st < b, within
// [lo, hi). Outside [lo, hi) the same formula extends it, which is what period search needs.
struct Pattern {
  int64_t gs, st, b, ls, lo, hi;
  bool contiguous;

  static Pattern Of(const Segment& s) {
    Pattern p{s.global_start, s.global_stride, s.block, s.local_start, s.global_start, 0, false};
    if (s.count == 1 || s.global_stride == s.block) {
      p.contiguous = true;
      p.st = p.b = 1;
      p.hi = s.global_start + s.elements();
    } else {
      p.hi = s.global_start + (s.count - 1) * s.global_stride + s.block;
    }
    return p;
  }
  int64_t Local(int64_t g) const {
    int64_t d = g - gs;
    return ls + FloorDiv(d, st) * b + FloorMod(d, st);
  }
  // Calls f(start, end) for each block (unbounded pattern) clipped to [x0, x1), in order.
  template <typename F>
  void ForEachBlock(int64_t x0, int64_t x1, F f) const {
    if (x0 >= x1) return;
    if (contiguous) {
      f(x0, x1);
      return;
    }
    for (int64_t start = gs + FloorDiv(x0 - gs, st) * st; start < x1; start += st) {
      int64_t s = std::max(start, x0), e = std::min(start + b, x1);
      if (s < e) f(s, e);
    }
  }
  int64_t BlocksIn(int64_t lo_, int64_t hi_) const { return contiguous ? 1 : (hi_ - lo_) / st + 2; }
};

struct Run {
  int64_t start, length;
};

// The maximal runs of indices in both patterns within [x0, x1), in order.
std::vector<Run> RunsIn(const Pattern& a, const Pattern& b, int64_t x0, int64_t x1) {
  std::vector<Run> ra, rb, out;
  a.ForEachBlock(x0, x1, [&](int64_t s, int64_t e) { ra.push_back({s, e - s}); });
  b.ForEachBlock(x0, x1, [&](int64_t s, int64_t e) { rb.push_back({s, e - s}); });
  size_t i = 0, j = 0;
  while (i < ra.size() && j < rb.size()) {
    int64_t ea = ra[i].start + ra[i].length, eb = rb[j].start + rb[j].length;
    int64_t s = std::max(ra[i].start, rb[j].start), e = std::min(ea, eb);
    if (s < e) out.push_back({s, e - s});
    if (ea <= eb) ++i;
    if (eb <= ea) ++j;
  }
  return out;
}

void EmitRun(const Pattern& src, const Pattern& dst, int64_t x, int64_t length,
             std::vector<SlabPair>* out) {
  AppendPair(out, Contiguous(src.Local(x), length), Contiguous(dst.Local(x), length));
}

// One block [s, e) of the coarse pattern against the whole fine pattern.
void IntersectBlock(int64_t s, int64_t e, const Pattern& src, const Pattern& dst,
                    bool src_is_coarse, std::vector<SlabPair>* out) {
  const Pattern& fine = src_is_coarse ? dst : src;
  if (fine.contiguous) return EmitRun(src, dst, s, e - s, out);
  int64_t j0 = FloorDiv(s - fine.gs, fine.st), j1 = FloorDiv(e - 1 - fine.gs, fine.st);
  auto clipped = [&](int64_t j) {
    int64_t bs = std::max(fine.gs + j * fine.st, s),
            be = std::min(fine.gs + j * fine.st + fine.b, e);
    if (bs < be) EmitRun(src, dst, bs, be - bs, out);
  };
  clipped(j0);
  if (j1 > j0 + 1) {
    // Whole fine blocks: strided in the coarse block, contiguous in the fine segment's piece.
    int64_t g0 = fine.gs + (j0 + 1) * fine.st, m = j1 - j0 - 1;
    const Pattern& coarse = src_is_coarse ? src : dst;
    Hyperslab strided = MakeSlab(coarse.Local(g0), fine.st, m, fine.b);
    Hyperslab packed = Contiguous(fine.Local(g0), m * fine.b);
    if (src_is_coarse) {
      AppendPair(out, strided, packed);
    } else {
      AppendPair(out, packed, strided);
    }
  }
  if (j1 > j0) clipped(j1);
}

void IntersectNested(const Pattern& src, const Pattern& dst, int64_t lo, int64_t hi,
                     std::vector<SlabPair>* out) {
  bool src_is_coarse = src.BlocksIn(lo, hi) <= dst.BlocksIn(lo, hi);
  const Pattern& coarse = src_is_coarse ? src : dst;
  coarse.ForEachBlock(
      lo, hi, [&](int64_t s, int64_t e) { IntersectBlock(s, e, src, dst, src_is_coarse, out); });
}

bool InBoth(const Pattern& a, const Pattern& b, int64_t g) {
  return FloorMod(g - a.gs, a.st) < a.b && FloorMod(g - b.gs, b.st) < b.b;
}

// Returns false (nothing appended) if the pattern has no run start to anchor periods on.
bool IntersectPeriodic(const Pattern& src, const Pattern& dst, int64_t lo, int64_t hi,
                       int64_t period, std::vector<SlabPair>* out) {
  // Anchor the periods on a run that starts inside [lo, lo + period], so no run straddles two
  // periods; what comes before it is the tail of a run cut by lo.
  int64_t p0 = -1;
  for (const Run& r : RunsIn(src, dst, lo, lo + period + 1)) {
    if (r.start > lo || !InBoth(src, dst, lo - 1)) {
      p0 = r.start;
      break;
    }
  }
  if (p0 < 0) return false;
  for (const Run& r : RunsIn(src, dst, lo, std::min(p0, hi)))
    EmitRun(src, dst, r.start, r.length, out);
  if (p0 >= hi) return true;
  int64_t periods = (hi - p0) / period;
  if (periods > 0) {
    int64_t src_step = (period / src.st) * src.b, dst_step = (period / dst.st) * dst.b;
    for (const Run& r : RunsIn(src, dst, p0, p0 + period)) {
      AppendPair(out, MakeSlab(src.Local(r.start), src_step, periods, r.length),
                 MakeSlab(dst.Local(r.start), dst_step, periods, r.length));
    }
  }
  for (const Run& r : RunsIn(src, dst, p0 + periods * period, hi)) {
    EmitRun(src, dst, r.start, r.length, out);
  }
  return true;
}

// lcm(a, b), or 0 if it exceeds `limit` (then no whole period fits anyway).
int64_t LcmUpTo(int64_t a, int64_t b, int64_t limit) {
  int64_t g = std::gcd(a, b);
  int64_t a_over_g = a / g;
  if (a_over_g > limit / b) return 0;
  int64_t l = a_over_g * b;
  return l <= limit ? l : 0;
}

}  // namespace

void IntersectSegments(const Segment& src_seg, const Segment& dst_seg, std::vector<SlabPair>* out) {
  Pattern src = Pattern::Of(src_seg), dst = Pattern::Of(dst_seg);
  int64_t lo = std::max(src.lo, dst.lo), hi = std::min(src.hi, dst.hi);
  if (lo >= hi) return;
  // Estimated pairs: nested gives up to 3 per coarse block; periodic gives one family per run
  // of a period (at most L/st_src + L/st_dst) plus as many single runs in the last partial
  // period. The scans cost about as much as the output, so the smaller estimate wins both ways.
  int64_t nested_pairs = 3 * std::min(src.BlocksIn(lo, hi), dst.BlocksIn(lo, hi));
  if (!src.contiguous || !dst.contiguous) {
    int64_t period = LcmUpTo(src.st, dst.st, hi - lo);
    int64_t periodic_pairs = period > 0 ? 2 * (period / src.st + period / dst.st) + 4 : 0;
    if (period > 0 && periodic_pairs <= nested_pairs &&
        IntersectPeriodic(src, dst, lo, hi, period, out)) {
      return;
    }
  }
  IntersectNested(src, dst, lo, hi, out);
}

}  // namespace internal
}  // namespace layout
}  // namespace srs
