// Planning at a billion elements: the plan's size and the memory the planner allocates must not
// depend on the array size (regular kinds) or only on the number of owned columns (2-D). The
// global operator new below counts every byte allocated, so a planner that expanded the array
// element by element would fail here (and time out), not just run slowly.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "gtest/gtest.h"
#include "libsrs/src/layout/planner.h"

namespace {
std::atomic<int64_t> g_allocated{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocated.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// The default operator delete (libstdc++: free) matches this malloc-based operator new.

namespace srs {
namespace layout {
namespace {

constexpr int64_t kBillion = 1000000000;

struct Measured {
  int64_t max_slabs = 0;
  int64_t max_bytes = 0;  // allocated while planning one new rank
};

Measured PlanAllRanks(const Distribution& od, int op, const Distribution& nd, int np, int64_t n) {
  Measured m;
  for (int r = 0; r < np; ++r) {
    int64_t before = g_allocated.load();
    absl::StatusOr<std::vector<Transfer>> plan = PlanRead(od, op, nd, np, r, n);
    m.max_bytes = std::max(m.max_bytes, g_allocated.load() - before);
    EXPECT_TRUE(plan.ok()) << plan.status();
    if (!plan.ok()) return m;
    int64_t elements = 0;
    for (const Transfer& t : *plan) elements += t.elements;
    EXPECT_EQ(elements, nd.LocalCount(n, r, np)) << "rank " << r;
    m.max_slabs = std::max(m.max_slabs, TotalSlabs(*plan));
  }
  return m;
}

struct Case {
  const char* what;
  Distribution od;
  int op;
  Distribution nd;
  int np;
  int64_t max_slabs;
};

TEST(PlannerScale, BillionElementPlansAreSmall) {
  const std::vector<Case> cases = {
      {"block/7 -> cyclic/5", Distribution::Block(), 7, Distribution::Cyclic(), 5, 32},
      {"cyclic/5 -> block/7", Distribution::Cyclic(), 5, Distribution::Block(), 7, 32},
      {"block/6 -> block/7", Distribution::Block(), 6, Distribution::Block(), 7, 8},
      {"bc(3)/4 -> bc(64)/3", Distribution::BlockCyclic(3), 4, Distribution::BlockCyclic(64), 3,
       2 * 4 * (2 * (192 / 12 + 1) + 16)},
      {"block/3 -> bc(1M)/7", Distribution::Block(), 3, Distribution::BlockCyclic(1 << 20), 7, 400},
      {"bc(64)/7 -> bc(100)/5", Distribution::BlockCyclic(64), 7, Distribution::BlockCyclic(100), 5,
       2 * 7 * (2 * (56000 / 448 + 56000 / 500) + 16)},
  };
  for (const Case& c : cases) {
    Measured small = PlanAllRanks(c.od, c.op, c.nd, c.np, kBillion / 100);
    Measured m = PlanAllRanks(c.od, c.op, c.nd, c.np, kBillion);
    std::printf("n = 1e9  %-24s max slabs per rank %lld, bytes allocated %lld (n = 1e7: %lld)\n",
                c.what, static_cast<long long>(m.max_slabs), static_cast<long long>(m.max_bytes),
                static_cast<long long>(small.max_bytes));
    EXPECT_LE(m.max_slabs, c.max_slabs) << c.what;
    // Scratch and plan memory must not scale with n (100x more elements here).
    EXPECT_LE(m.max_bytes, 2 * small.max_bytes + 65536) << c.what;
    EXPECT_LE(m.max_bytes, int64_t{1} << 20) << c.what;
  }
}

TEST(PlannerScale, BillionElement2DPlansGrowWithColumnsOnly) {
  // 40000 x 25000 on a 2 x 2 grid (rows not a whole number of mb*nprow periods: 2 segments per
  // owned column) -> block over 3, and back.
  Distribution grid = Distribution::BlockCyclic2D(40000, 25000, 64, 64, 2, 2, 0, 0);
  Measured to_block = PlanAllRanks(grid, 4, Distribution::Block(), 3, kBillion);
  Measured from_block = PlanAllRanks(Distribution::Block(), 3, grid, 4, kBillion);
  std::printf(
      "n = 1e9  2-D 2x2 -> block/3: max slabs %lld, bytes %lld; back: %lld, %lld\n",
      static_cast<long long>(to_block.max_slabs), static_cast<long long>(to_block.max_bytes),
      static_cast<long long>(from_block.max_slabs), static_cast<long long>(from_block.max_bytes));
  // Each column of a block rank's share meets two old grid rows, each at most 2 segments.
  const int64_t columns_per_block_rank = 25000 / 3 + 2;
  EXPECT_LE(to_block.max_slabs, 2 * 4 * columns_per_block_rank);
  EXPECT_LE(from_block.max_slabs, 2 * 4 * (25000 / 2));
  EXPECT_LE(to_block.max_bytes, int64_t{64} << 20);  // vs 8 GB for an element-wise plan
  EXPECT_LE(from_block.max_bytes, int64_t{64} << 20);
}

}  // namespace
}  // namespace layout
}  // namespace srs
