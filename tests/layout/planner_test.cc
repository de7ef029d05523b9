// The planner against a brute-force reference: for every pair of layouts, old and new process
// counts 1..7 and awkward sizes, every element of every new rank must come from the old rank and
// local position that hold it, exactly once. Plus the cost bounds that make plans independent of
// the array size for periodic layouts.
#include "libsrs/src/layout/planner.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/layout/layout_cases.h"

namespace srs {
namespace layout {
namespace {

using testing::AllCases;
using testing::LayoutCase;
using testing::Reference;

// The positions a slab selects, in its iteration order.
void Expand(const Hyperslab& h, std::vector<int64_t>* out) {
  for (int64_t j = 0; j < h.count; ++j) {
    for (int64_t k = 0; k < h.block; ++k) out->push_back(h.start + j * h.stride + k);
  }
}

void CheckNormalForm(const Hyperslab& h) {
  EXPECT_GE(h.count, 1);
  EXPECT_GE(h.block, 1);
  if (h.count > 1) {
    EXPECT_GE(h.stride, h.block);
  } else {
    EXPECT_EQ(h.stride, h.block);
  }
}

bool Increasing(const std::vector<int64_t>& v) { return std::is_sorted(v.begin(), v.end()); }

// A layout keeps local order = global order when every rank's globals increase.
bool KeepsGlobalOrder(const Reference& ref) {
  for (const auto& g : ref.global_at) {
    if (!Increasing(g)) return false;
  }
  return true;
}

// The header's promise for order-keeping layouts: sorting a transfer's (src, dst) position
// pairs by src sorts dst too, so HDF5 unions of src and of dst match element by element.
void CheckMonotone(const Transfer& t) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (size_t i = 0; i < t.src.size(); ++i) {
    std::vector<int64_t> src, dst;
    Expand(t.src[i], &src);
    Expand(t.dst[i], &dst);
    for (size_t k = 0; k < src.size() && k < dst.size(); ++k) pairs.push_back({src[k], dst[k]});
  }
  std::sort(pairs.begin(), pairs.end());
  for (size_t k = 1; k < pairs.size(); ++k) {
    ASSERT_LT(pairs[k - 1].second, pairs[k].second) << "src rank " << t.src_rank;
  }
}

// Checks one new rank's plan element by element against the references.
void CheckPlan(const std::vector<Transfer>& plan, const Reference& old_ref,
               const Reference& new_ref, int new_rank) {
  const bool monotone = KeepsGlobalOrder(old_ref) && KeepsGlobalOrder(new_ref);
  const std::vector<int64_t>& want = new_ref.global_at[new_rank];
  std::vector<int> filled(want.size(), 0);
  int last_src = -1;
  for (const Transfer& t : plan) {
    ASSERT_GT(t.src_rank, last_src) << "transfers must be by increasing src rank, once each";
    last_src = t.src_rank;
    ASSERT_EQ(t.src.size(), t.dst.size());
    ASSERT_GT(t.elements, 0) << "empty transfers are omitted";
    int64_t elements = 0;
    const std::vector<int64_t>& have = old_ref.global_at[t.src_rank];
    for (size_t i = 0; i < t.src.size(); ++i) {
      CheckNormalForm(t.src[i]);
      CheckNormalForm(t.dst[i]);
      ASSERT_EQ(t.src[i].elements(), t.dst[i].elements()) << "slab pair " << i;
      std::vector<int64_t> src, dst;
      Expand(t.src[i], &src);
      Expand(t.dst[i], &dst);
      for (size_t k = 0; k < src.size(); ++k) {
        ASSERT_TRUE(src[k] >= 0 && src[k] < static_cast<int64_t>(have.size())) << src[k];
        ASSERT_TRUE(dst[k] >= 0 && dst[k] < static_cast<int64_t>(want.size())) << dst[k];
        ASSERT_EQ(have[src[k]], want[dst[k]])
            << "src rank " << t.src_rank << " local " << src[k] << " -> local " << dst[k];
        ++filled[dst[k]];
      }
      elements += t.src[i].elements();
    }
    EXPECT_EQ(elements, t.elements);
    if (monotone) CheckMonotone(t);
  }
  for (size_t k = 0; k < filled.size(); ++k) {
    ASSERT_EQ(filled[k], 1) << "new local " << k << " (global " << want[k] << ")";
  }
}

struct KindPair {
  size_t old_kind, new_kind;
};

class PlannerProperty : public ::testing::TestWithParam<KindPair> {};

TEST_P(PlannerProperty, EveryElementLandsOnceInTheRightPlace) {
  const LayoutCase& oc = AllCases()[GetParam().old_kind];
  const LayoutCase& nc = AllCases()[GetParam().new_kind];
  for (int64_t n : {0, 1, 2, 5, 13, 97, 1000}) {
    std::vector<Reference> refs_old, refs_new;
    for (int p = 1; p <= 7; ++p) refs_old.push_back(oc.reference(n, p));
    for (int p = 1; p <= 7; ++p) refs_new.push_back(nc.reference(n, p));
    for (int op = 1; op <= 7; ++op) {
      Distribution od = *oc.make(n, op);
      for (int np = 1; np <= 7; ++np) {
        Distribution nd = *nc.make(n, np);
        for (int r = 0; r < np; ++r) {
          SCOPED_TRACE(oc.name + "/" + std::to_string(op) + " -> " + nc.name + "/" +
                       std::to_string(np) + " rank " + std::to_string(r) +
                       " n=" + std::to_string(n));
          absl::StatusOr<std::vector<Transfer>> plan = PlanRead(od, op, nd, np, r, n);
          ASSERT_TRUE(plan.ok()) << plan.status();
          CheckPlan(*plan, refs_old[op - 1], refs_new[np - 1], r);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

std::vector<KindPair> AllPairs() {
  std::vector<KindPair> pairs;
  for (size_t a = 0; a < AllCases().size(); ++a) {
    for (size_t b = 0; b < AllCases().size(); ++b) pairs.push_back({a, b});
  }
  return pairs;
}

INSTANTIATE_TEST_SUITE_P(AllKindPairs, PlannerProperty, ::testing::ValuesIn(AllPairs()),
                         [](const ::testing::TestParamInfo<KindPair>& info) {
                           return AllCases()[info.param.old_kind].name + "_to_" +
                                  AllCases()[info.param.new_kind].name;
                         });

TEST(Planner, SameLayoutIsOneContiguousCopy) {
  Distribution d = Distribution::BlockCyclic(5);
  for (int r = 0; r < 4; ++r) {
    auto plan = PlanRead(d, 4, d, 4, r, 1001);
    ASSERT_TRUE(plan.ok());
    ASSERT_EQ(plan->size(), 1u);
    EXPECT_EQ((*plan)[0].src_rank, r);
    EXPECT_EQ(TotalSlabs(*plan), 2);
  }
}

TEST(Planner, BlockToCyclicIsOneStridedSlabPerOldRank) {
  // 10 elements, block over 2 (0-4 | 5-9) -> cyclic over 3: new rank 1 holds 1, 4, 7.
  auto plan = PlanRead(Distribution::Block(), 2, Distribution::Cyclic(), 3, 1, 10);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].src_rank, 0);
  EXPECT_THAT((*plan)[0].src, ::testing::ElementsAre(Hyperslab{1, 3, 2, 1}));
  EXPECT_THAT((*plan)[0].dst, ::testing::ElementsAre(Hyperslab{0, 2, 1, 2}));
  EXPECT_THAT((*plan)[1].src, ::testing::ElementsAre(Hyperslab{2, 1, 1, 1}));
  EXPECT_THAT((*plan)[1].dst, ::testing::ElementsAre(Hyperslab{2, 1, 1, 1}));
}

TEST(Planner, WholeArrayPlanPutsEveryElementAtItsGlobalIndex) {
  Distribution d = Distribution::BlockCyclic2D(13, 7, 2, 3, 2, 3, 1, 2);
  auto plan = PlanReadWhole(d, 6, 91);
  ASSERT_TRUE(plan.ok()) << plan.status();
  Reference ref = testing::Reference2D({13, 7, 2, 3, 2, 3, 1, 2});
  Reference whole = testing::FinishReference(
      std::vector<int>(91, 0),
      [] {
        std::vector<int64_t> v(91);
        std::iota(v.begin(), v.end(), 0);
        return v;
      }(),
      1);
  CheckPlan(*plan, ref, whole, 0);
}

TEST(Planner, ReportsWhichLayoutIsInvalid) {
  auto plan = PlanRead(Distribution::Block(), 2,
                       Distribution::BlockCyclic2D(2, 2, 1, 1, 2, 2, 0, 0), 3, 0, 4);
  ASSERT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(plan.status().message()),
              ::testing::HasSubstr("new layout block_cyclic_2d(2, 2, 1, 1, 2, 2, 0, 0) on 3 "
                                   "processes: block_cyclic_2d: process grid 2 x 2 = 4"));
  auto old_bad = PlanRead(Distribution::Map({0, 0}), 1, Distribution::Block(), 1, 0, 3);
  EXPECT_THAT(std::string(old_bad.status().message()), ::testing::HasSubstr("old layout map()"));
  auto bad_rank = PlanRead(Distribution::Block(), 1, Distribution::Block(), 2, 2, 3);
  EXPECT_EQ(bad_rank.status().code(), absl::StatusCode::kInvalidArgument);
}

// Each rank's elements in local order from Locate alone (closed form per element; checked
// against the brute-force references by the distribution tests).
Reference ByLocate(const Distribution& d, int64_t n, int p) {
  std::vector<int> owner(n);
  std::vector<int64_t> local(n);
  for (int64_t g = 0; g < n; ++g) {
    Location l = d.Locate(g, n, p);
    owner[g] = l.rank;
    local[g] = l.local;
  }
  return testing::FinishReference(std::move(owner), std::move(local), p);
}

Distribution RandomRegular(std::mt19937_64& rng, int64_t rows, int64_t cols, int* p) {
  switch (rng() % 4) {
    case 0: {
      int pr = static_cast<int>(rng() % 3 + 1), pc = static_cast<int>(rng() % 3 + 1);
      *p = pr * pc;
      return Distribution::BlockCyclic2D(rows, cols, rng() % 9 + 1, rng() % 5 + 1, pr, pc,
                                         static_cast<int>(rng() % pr),
                                         static_cast<int>(rng() % pc));
    }
    case 1:
      *p = static_cast<int>(rng() % 9 + 1);
      return Distribution::Block();
    case 2:
      *p = static_cast<int>(rng() % 9 + 1);
      return Distribution::Cyclic();
    default:
      *p = static_cast<int>(rng() % 9 + 1);
      return Distribution::BlockCyclic(rng() % 3 == 0 ? rows * cols + 1 : rng() % 60 + 1);
  }
}

// Larger and less tidy shapes than the sweep: random grids with source offsets, block sizes up
// to 60 and beyond the array, P up to 9, up to ~18000 elements (periods shorter and longer than
// the overlaps, so both intersection strategies and their boundaries run).
TEST(PlannerFuzz, RandomRegularLayoutsAtLargerSizes) {
  std::mt19937_64 rng(20261122);
  for (int it = 0; it < 400; ++it) {
    int64_t rows = static_cast<int64_t>(rng() % 150 + 1),
            cols = static_cast<int64_t>(rng() % 120 + 1);
    int64_t n = rows * cols;
    int op = 1, np = 1;
    Distribution od = RandomRegular(rng, rows, cols, &op);
    Distribution nd = RandomRegular(rng, rows, cols, &np);
    Reference oref = ByLocate(od, n, op), nref = ByLocate(nd, n, np);
    for (int r = 0; r < np; ++r) {
      SCOPED_TRACE(od.DebugString() + "/" + std::to_string(op) + " -> " + nd.DebugString() + "/" +
                   std::to_string(np) + " rank " + std::to_string(r) + " n=" + std::to_string(n));
      auto plan = PlanRead(od, op, nd, np, r, n);
      ASSERT_TRUE(plan.ok()) << plan.status();
      CheckPlan(*plan, oref, nref, r);
      if (HasFatalFailure()) return;
    }
  }
}

// The largest plan any new rank gets.
int64_t MaxSlabs(const Distribution& od, int op, const Distribution& nd, int np, int64_t n) {
  int64_t worst = 0;
  for (int r = 0; r < np; ++r) {
    auto plan = PlanRead(od, op, nd, np, r, n);
    EXPECT_TRUE(plan.ok()) << plan.status();
    int64_t elements = 0;
    for (const Transfer& t : *plan) elements += t.elements;
    EXPECT_EQ(elements, nd.LocalCount(n, r, np));
    worst = std::max(worst, TotalSlabs(*plan));
  }
  return worst;
}

struct Periodic {
  const char* name;
  Distribution dist;
  int64_t stride;  // the layout's period for P = 1 (b), times P below
};

TEST(PlannerComplexity, PeriodicLayoutsPlanInSlabsIndependentOfSize) {
  const std::vector<Periodic> kinds = {
      {"block", Distribution::Block(), 0},      {"cyclic", Distribution::Cyclic(), 1},
      {"bc2", Distribution::BlockCyclic(2), 2}, {"bc3", Distribution::BlockCyclic(3), 3},
      {"bc7", Distribution::BlockCyclic(7), 7}, {"bc64", Distribution::BlockCyclic(64), 64}};
  const std::vector<std::pair<int, int>> counts = {{3, 5}, {4, 7}, {7, 2}, {1, 6}, {5, 5}};
  for (const Periodic& o : kinds) {
    for (const Periodic& w : kinds) {
      for (auto [op, np] : counts) {
        // A bound from the period alone: runs per period of lcm(b1*P1, b2*P2), plus boundary
        // pieces, per old rank; a block layout has no period (one run).
        int64_t s1 = o.stride * op, s2 = w.stride * np;
        int64_t per = (s1 && s2) ? std::lcm(s1, s2) / s1 + std::lcm(s1, s2) / s2 : 1;
        // Pairs per old rank: a family per run of one period and as many runs in the last
        // partial period, for each of the (at most 2 x 2) segment pairs; 2 slabs per pair.
        int64_t bound = 2 * op * (2 * per + 16);
        int64_t at_1e5 = 0;
        for (int64_t n : {int64_t{1000}, int64_t{10007}, int64_t{100003}, int64_t{1000000},
                          int64_t{10000000}}) {
          int64_t slabs = MaxSlabs(o.dist, op, w.dist, np, n);
          EXPECT_LE(slabs, bound) << o.name << "/" << op << " -> " << w.name << "/" << np
                                  << " n=" << n;
          if (n == 100003) at_1e5 = slabs;
          if (n == 10000000) {
            EXPECT_LE(slabs, 2 * at_1e5 + 16)
                << o.name << "/" << op << " -> " << w.name << "/" << np << " grows with n";
          }
        }
      }
    }
  }
}

TEST(PlannerComplexity, MeasuredSlabCounts) {
  // Recorded so the report quotes measured figures; the bounds are asserted above.
  struct Row {
    const char* what;
    Distribution od;
    int op;
    Distribution nd;
    int np;
  };
  const std::vector<Row> rows = {
      {"block/4 -> cyclic/7", Distribution::Block(), 4, Distribution::Cyclic(), 7},
      {"cyclic/7 -> block/4", Distribution::Cyclic(), 7, Distribution::Block(), 4},
      {"bc(2)/3 -> bc(3)/5", Distribution::BlockCyclic(2), 3, Distribution::BlockCyclic(3), 5},
      {"bc(64)/7 -> bc(100)/5", Distribution::BlockCyclic(64), 7, Distribution::BlockCyclic(100),
       5},
  };
  for (const Row& row : rows) {
    std::string line = std::string(row.what) + ":";
    for (int64_t n = 1000; n <= 10000000; n *= 10) {
      line += " " + std::to_string(MaxSlabs(row.od, row.op, row.nd, row.np, n));
    }
    RecordProperty(row.what, line);
    std::printf("max slabs per new rank, n = 1e3..1e7  %s\n", line.c_str());
  }
}

}  // namespace
}  // namespace layout
}  // namespace srs
