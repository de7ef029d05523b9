// Reference layouts for the libsrs tests, written from DESIGN.md §2 by brute force (owner and
// local index of every global element), independently of libsrs/src/layout, so a planner or
// distribution bug cannot hide behind the same code computing the expectation.
#ifndef SRS_TESTS_LIBSRS_LAYOUTS_REFERENCE_H_
#define SRS_TESTS_LIBSRS_LAYOUTS_REFERENCE_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "srs/srs.h"

namespace srs_test {

// The kinds every redistribution test crosses.
enum class Kind { kBlock, kCyclic, kBlockCyclic, k2D, kFunc, kMap };
inline const std::vector<Kind>& AllKinds() {
  static const std::vector<Kind> kinds = {Kind::kBlock, Kind::kCyclic, Kind::kBlockCyclic,
                                          Kind::k2D,    Kind::kFunc,   Kind::kMap};
  return kinds;
}
inline std::string KindName(Kind k) {
  static const char* names[] = {"block", "cyclic", "block_cyclic", "2d", "func", "map"};
  return names[static_cast<int>(k)];
}

// Arrays are rows x cols matrices so that every kind, 2-D included, applies to them.
constexpr int64_t kRows = 31, kCols = 33, kCount = kRows * kCols;
constexpr int64_t kBlockSize = 7, kMb = 4, kNb = 5, kFuncBlock = 3;

struct Grid {
  int nprow, npcol, rsrc, csrc;
};
// The most square grid for p processes; the first block on the last process row.
inline Grid GridFor(int p) {
  int nprow = 1;
  for (int d = 1; d * d <= p; ++d) {
    if (p % d == 0) nprow = d;
  }
  return {nprow, p / nprow, nprow - 1, 0};
}

inline int64_t BcLocal(int64_t g, int64_t b, int p) { return (g / b) / p * b + g % b; }
inline int64_t BcCount(int64_t n, int64_t b, int p, int r) {
  int64_t count = 0;
  for (int64_t g = 0; g < n; ++g) count += ((g / b) % p) == r;
  return count;
}
inline int MapOwner(int64_t g, int p) { return static_cast<int>((g * g + 3 * g + 1) % p); }

// The user function: blocks of kFuncBlock dealt round-robin, each rank's piece REVERSED.
inline int ReverseFunc(int64_t g, int p, void* user, int* owner, int64_t* local) {
  int64_t n = *static_cast<const int64_t*>(user);
  if (g < 0 || g >= n) return 1;
  *owner = static_cast<int>((g / kFuncBlock) % p);
  *local = BcCount(n, kFuncBlock, p, *owner) - 1 - BcLocal(g, kFuncBlock, p);
  return 0;
}
inline int64_t* FuncUser() {
  static int64_t n = kCount;
  return &n;
}

// Owner and local index of global element g under kind k over p ranks.
inline void Locate(Kind k, int64_t g, int p, int* owner, int64_t* local) {
  const int64_t n = kCount;
  switch (k) {
    case Kind::kBlock: {
      int64_t q = n / p, rem = n % p;
      if (g < rem * (q + 1)) {
        *owner = static_cast<int>(g / (q + 1));
        *local = g % (q + 1);
      } else {
        *owner = static_cast<int>(rem + (g - rem * (q + 1)) / q);
        *local = (g - rem * (q + 1)) % q;
      }
      return;
    }
    case Kind::kCyclic:
      *owner = static_cast<int>(g % p);
      *local = g / p;
      return;
    case Kind::kBlockCyclic:
      *owner = static_cast<int>((g / kBlockSize) % p);
      *local = BcLocal(g, kBlockSize, p);
      return;
    case Kind::k2D: {
      Grid grid = GridFor(p);
      int64_t i = g % kRows, j = g / kRows;
      int pr = static_cast<int>(((i / kMb) + grid.rsrc) % grid.nprow);
      int pc = static_cast<int>(((j / kNb) + grid.csrc) % grid.npcol);
      int64_t ld = 0;
      for (int64_t r = 0; r < kRows; ++r) ld += (((r / kMb) + grid.rsrc) % grid.nprow) == pr;
      *owner = pr * grid.npcol + pc;
      *local =
          (i / kMb) / grid.nprow * kMb + i % kMb + ((j / kNb) / grid.npcol * kNb + j % kNb) * ld;
      return;
    }
    case Kind::kFunc:
      ReverseFunc(g, p, FuncUser(), owner, local);
      return;
    case Kind::kMap: {
      *owner = MapOwner(g, p);
      int64_t before = 0;
      for (int64_t h = 0; h < g; ++h) before += MapOwner(h, p) == *owner;
      *local = before;
      return;
    }
  }
}

// Global index of each of rank r's local elements (brute force).
inline std::vector<int64_t> GlobalsOfLocal(Kind k, int p, int r) {
  std::vector<int64_t> out;
  std::vector<std::pair<int64_t, int64_t>> mine;
  for (int64_t g = 0; g < kCount; ++g) {
    int owner = -1;
    int64_t local = -1;
    Locate(k, g, p, &owner, &local);
    if (owner == r) mine.push_back({local, g});
  }
  out.assign(mine.size(), -1);
  for (const auto& [local, g] : mine) out.at(static_cast<size_t>(local)) = g;
  return out;
}

// The SRS handle of kind k for a run of p ranks (caller frees).
inline SRS_Distribution MakeDistribution(Kind k, int p) {
  SRS_Distribution d = nullptr;
  switch (k) {
    case Kind::kBlock:
      SRS_Distribution_block(&d);
      break;
    case Kind::kCyclic:
      SRS_Distribution_cyclic(&d);
      break;
    case Kind::kBlockCyclic:
      SRS_Distribution_block_cyclic(kBlockSize, &d);
      break;
    case Kind::k2D: {
      Grid g = GridFor(p);
      SRS_Distribution_block_cyclic_2d(kRows, kCols, kMb, kNb, g.nprow, g.npcol, g.rsrc, g.csrc,
                                       &d);
      break;
    }
    case Kind::kFunc:
      SRS_DistributeFunc_Create(ReverseFunc, FuncUser(), &d);
      break;
    case Kind::kMap: {
      std::vector<int> owner(kCount);
      for (int64_t g = 0; g < kCount; ++g) owner[g] = MapOwner(g, p);
      SRS_DistributeMap_Create(kCount, owner.data(), &d);
      break;
    }
  }
  return d;
}

}  // namespace srs_test

#endif  // SRS_TESTS_LIBSRS_LAYOUTS_REFERENCE_H_
