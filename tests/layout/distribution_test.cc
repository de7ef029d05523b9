// Distributions against hand computations (DESIGN.md §2) and against the brute-force references
// of layout_cases.h for every kind, size and process count.
#include "libsrs/src/layout/distribution.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/layout/layout_cases.h"

namespace srs {
namespace layout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<int64_t> Globals(const Distribution& d, int64_t n, int rank, int p) {
  return d.GlobalIndexOfLocal(n, rank, p);
}

TEST(Block, RemainderGoesToFirstRanks) {
  Distribution d = Distribution::Block();
  ASSERT_TRUE(d.Validate(10, 3).ok());
  EXPECT_EQ(d.LocalCount(10, 0, 3), 4);
  EXPECT_EQ(d.LocalCount(10, 1, 3), 3);
  EXPECT_EQ(d.LocalCount(10, 2, 3), 3);
  EXPECT_THAT(Globals(d, 10, 1, 3), ElementsAre(4, 5, 6));
  EXPECT_EQ(d.Locate(5, 10, 3), (Location{1, 1}));
  EXPECT_EQ(d.Locate(9, 10, 3), (Location{2, 2}));
  EXPECT_THAT(d.Segments(10, 2, 3), ElementsAre(Segment{7, 3, 1, 3, 0}));
}

TEST(Block, FewerElementsThanRanks) {
  Distribution d = Distribution::Block();
  EXPECT_EQ(d.LocalCount(2, 0, 5), 1);
  EXPECT_EQ(d.LocalCount(2, 1, 5), 1);
  EXPECT_EQ(d.LocalCount(2, 4, 5), 0);
  EXPECT_TRUE(d.Segments(2, 3, 5).empty());
  EXPECT_EQ(d.Locate(1, 2, 5), (Location{1, 0}));
}

TEST(Cyclic, ElementIOnRankIModP) {
  Distribution d = Distribution::Cyclic();
  EXPECT_THAT(Globals(d, 10, 0, 3), ElementsAre(0, 3, 6, 9));
  EXPECT_THAT(Globals(d, 10, 2, 3), ElementsAre(2, 5, 8));
  EXPECT_THAT(d.Segments(10, 0, 3), ElementsAre(Segment{0, 3, 4, 1, 0}));
  EXPECT_EQ(d.Locate(8, 10, 3), (Location{2, 2}));
  EXPECT_EQ(d.name(), "cyclic");
  EXPECT_TRUE(d.params().empty());
}

TEST(BlockCyclic, BlocksDealtRoundRobinWithShortLastBlock) {
  Distribution d = Distribution::BlockCyclic(2);
  EXPECT_THAT(Globals(d, 11, 0, 3), ElementsAre(0, 1, 6, 7));
  EXPECT_THAT(Globals(d, 11, 1, 3), ElementsAre(2, 3, 8, 9));
  EXPECT_THAT(Globals(d, 11, 2, 3), ElementsAre(4, 5, 10));
  EXPECT_THAT(d.Segments(11, 2, 3), ElementsAre(Segment{4, 2, 1, 2, 0}, Segment{10, 1, 1, 1, 2}));
  EXPECT_EQ(d.Locate(10, 11, 3), (Location{2, 2}));
  EXPECT_EQ(d.Locate(7, 11, 3), (Location{0, 3}));
  EXPECT_THAT(d.params(), ElementsAre(2));
  EXPECT_EQ(d.DebugString(), "block_cyclic(2)");
}

TEST(BlockCyclic, OneProcessIsOneContiguousSegment) {
  Distribution d = Distribution::BlockCyclic(3);
  EXPECT_THAT(d.Segments(1000, 0, 1), ElementsAre(Segment{0, 1000, 1, 1000, 0}));
}

TEST(Numroc, MatchesHandCountedBlocks) {
  // 10 rows in blocks of 3 over 2 processes: [0-2] p0, [3-5] p1, [6-8] p0, [9] p1.
  EXPECT_EQ(Numroc(10, 3, 0, 0, 2), 6);
  EXPECT_EQ(Numroc(10, 3, 1, 0, 2), 4);
  EXPECT_EQ(Numroc(10, 3, 1, 1, 2), 6);  // source process 1 takes the first block
  EXPECT_EQ(Numroc(10, 3, 0, 1, 2), 4);
  EXPECT_EQ(Numroc(5, 2, 0, 0, 3), 2);
  EXPECT_EQ(Numroc(5, 2, 1, 0, 3), 2);
  EXPECT_EQ(Numroc(5, 2, 2, 0, 3), 1);
  EXPECT_EQ(Numroc(7, 10, 0, 0, 2), 7);
  EXPECT_EQ(Numroc(7, 10, 1, 0, 2), 0);
  EXPECT_EQ(Numroc(0, 4, 0, 0, 2), 0);
}

TEST(BlockCyclic2D, IndexMapMatchesHandComputation) {
  // 5 x 4 matrix, mb 2, nb 1, 2 x 2 grid. Rows {0,1,4} on grid row 0 (lld 3), {2,3} on grid
  // row 1 (lld 2); columns {0,2} on grid column 0, {1,3} on grid column 1.
  Distribution d = Distribution::BlockCyclic2D(5, 4, 2, 1, 2, 2, 0, 0);
  ASSERT_TRUE(d.Validate(20, 4).ok());
  EXPECT_EQ(d.LocalCount(20, 0, 4), 6);
  EXPECT_EQ(d.LocalCount(20, 1, 4), 6);
  EXPECT_EQ(d.LocalCount(20, 2, 4), 4);
  EXPECT_EQ(d.LocalCount(20, 3, 4), 4);
  EXPECT_EQ(d.Locate(4 + 2 * 5, 20, 4), (Location{0, 2 + 1 * 3}));  // (4, 2)
  EXPECT_EQ(d.Locate(3 + 3 * 5, 20, 4), (Location{3, 1 + 1 * 2}));  // (3, 3)
  EXPECT_EQ(d.Locate(2 + 1 * 5, 20, 4), (Location{3, 0}));          // (2, 1)
  EXPECT_THAT(Globals(d, 20, 0, 4), ElementsAre(0, 1, 4, 10, 11, 14));
  EXPECT_THAT(Globals(d, 20, 3, 4), ElementsAre(7, 8, 17, 18));
  EXPECT_THAT(d.params(), ElementsAre(5, 4, 2, 1, 2, 2, 0, 0));
}

TEST(BlockCyclic2D, SourceProcessShiftsOwnership) {
  // rsrc 1: rows 0,1 now belong to grid row 1; csrc 1: column 0 to grid column 1.
  Distribution d = Distribution::BlockCyclic2D(5, 4, 2, 1, 2, 2, 1, 1);
  ASSERT_TRUE(d.Validate(20, 4).ok());
  EXPECT_EQ(d.Locate(0, 20, 4), (Location{3, 0}));
  EXPECT_EQ(d.LocalCount(20, 3, 4), 3 * 2);
  EXPECT_EQ(d.LocalCount(20, 0, 4), 2 * 2);
}

TEST(BlockCyclic2D, SegmentsStayFewWhenRowsAreWholePeriods) {
  // 1 x 4 grid: whole columns, a 1-D block-cyclic layout of 3-column blocks: O(1) segments.
  Distribution wide = Distribution::BlockCyclic2D(1000, 100000, 8, 3, 1, 4, 0, 0);
  ASSERT_TRUE(wide.Validate(100000000, 4).ok());
  EXPECT_LE(wide.Segments(100000000, 1, 4).size(), 2u);
  // 2 x 2 grid, rows a multiple of mb * nprow: one segment per owned column block.
  Distribution sq = Distribution::BlockCyclic2D(1000, 1000, 10, 50, 2, 2, 0, 0);
  ASSERT_TRUE(sq.Validate(1000000, 4).ok());
  EXPECT_EQ(sq.Segments(1000000, 3, 4).size(), 10u);
}

TEST(Map, RankKeepsItsElementsInGlobalOrder) {
  Distribution d = Distribution::Map({2, 0, 2, 1, 0});
  ASSERT_TRUE(d.Validate(5, 3).ok());
  EXPECT_THAT(Globals(d, 5, 0, 3), ElementsAre(1, 4));
  EXPECT_THAT(Globals(d, 5, 2, 3), ElementsAre(0, 2));
  EXPECT_EQ(d.Locate(2, 5, 3), (Location{2, 1}));
  EXPECT_TRUE(d.user_defined());
  EXPECT_TRUE(d.LocalOrderIsGlobalOrder(5, 3));
}

TEST(Func, UsesTheFunctionsLocalOrder) {
  // Reversed block over 2 ranks: rank r holds its run backwards.
  Distribution d = Distribution::Func([](int64_t g, int p, int* owner, int64_t* local) {
    *owner = g < 3 ? 0 : 1;
    *local = g < 3 ? 2 - g : 5 - g;
    return 0;
  });
  ASSERT_TRUE(d.Validate(6, 2).ok());
  EXPECT_THAT(Globals(d, 6, 1, 2), ElementsAre(5, 4, 3));
  EXPECT_EQ(d.Locate(4, 6, 2), (Location{1, 1}));
  EXPECT_FALSE(d.LocalOrderIsGlobalOrder(6, 2));
}

TEST(Explicit, RebuildsAStoredLayout) {
  Distribution d = Distribution::Explicit({{3, 0}, {}, {1, 2, 4}});
  ASSERT_TRUE(d.Validate(5, 3).ok());
  EXPECT_EQ(d.LocalCount(5, 1, 3), 0);
  EXPECT_EQ(d.Locate(0, 5, 3), (Location{0, 1}));
  EXPECT_THAT(Globals(d, 5, 2, 3), ElementsAre(1, 2, 4));
  EXPECT_EQ(d.name(), "explicit");
}

void ExpectInvalid(const absl::Status& s, const std::string& fragment) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(fragment));
}

TEST(Validate, RejectsBadShapesWithClearMessages) {
  ExpectInvalid(Distribution::Block().Validate(-1, 2), "global count must be >= 0, got -1");
  ExpectInvalid(Distribution::Cyclic().Validate(5, 0), "process count must be >= 1, got 0");
  ExpectInvalid(Distribution::BlockCyclic(0).Validate(5, 2), "block size must be >= 1, got 0");
  ExpectInvalid(Distribution::BlockCyclic2D(3, 4, 1, 1, 2, 2, 0, 0).Validate(13, 4),
                "rows * cols = 3 x 4 = 12, but the array has 13 elements");
  ExpectInvalid(Distribution::BlockCyclic2D(3, 4, 1, 1, 2, 2, 0, 0).Validate(12, 3),
                "process grid 2 x 2 = 4, but the run has 3 processes");
  ExpectInvalid(Distribution::BlockCyclic2D(3, 4, 0, 1, 2, 2, 0, 0).Validate(12, 4),
                "block sizes mb, nb must be >= 1");
  ExpectInvalid(Distribution::BlockCyclic2D(3, 4, 1, 1, 2, 2, 2, 0).Validate(12, 4),
                "source process (2, 0) outside the 2 x 2 grid");
  ExpectInvalid(Distribution::Map({0, 1, 0}).Validate(4, 2),
                "the map has 3 entries, but the array has 4 elements");
  ExpectInvalid(Distribution::Map({0, 3, 0}).Validate(3, 2), "global index 1 has owner 3");
  ExpectInvalid(Distribution::Explicit({{0, 1}, {1}}).Validate(3, 2),
                "global index 1 is held twice");
  ExpectInvalid(Distribution::Explicit({{0}, {1}}).Validate(3, 2),
                "the ranks hold 2 elements, but the array has 3");
  ExpectInvalid(Distribution::Explicit({{0}, {1}}).Validate(2, 3),
                "the layout has 2 ranks, but the run has 3");
}

TEST(Validate, ChecksUserFunctions) {
  auto failing = Distribution::Func([](int64_t g, int, int* o, int64_t* l) {
    *o = 0;
    *l = g;
    return g == 3 ? 7 : 0;
  });
  ExpectInvalid(failing.Validate(5, 1), "returned 7 for global index 3");
  auto bad_owner = Distribution::Func([](int64_t g, int, int* o, int64_t* l) {
    *o = static_cast<int>(g);
    *l = 0;
    return 0;
  });
  ExpectInvalid(bad_owner.Validate(3, 2), "global index 2 has owner 2, outside 0..1");
  auto past_end = Distribution::Func([](int64_t g, int, int* o, int64_t* l) {
    *o = 0;
    *l = g + 1;
    return 0;
  });
  ExpectInvalid(past_end.Validate(4, 1),
                "global index 3 has local index 4 on rank 0, which holds 4 elements");
  auto twice = Distribution::Func([](int64_t g, int, int* o, int64_t* l) {
    *o = 0;
    *l = g == 1 ? 0 : g;
    return 0;
  });
  ExpectInvalid(twice.Validate(3, 1), "global indices 0 and 1 both map to rank 0 local index 0");
  EXPECT_TRUE(Distribution::Func(nullptr).Validate(0, 1).code() ==
              absl::StatusCode::kInvalidArgument);
}

TEST(FromSpec, RoundTripsRegularKinds) {
  for (const Distribution& d :
       {Distribution::Block(), Distribution::Cyclic(), Distribution::BlockCyclic(64),
        Distribution::BlockCyclic2D(6, 5, 2, 2, 2, 1, 1, 0)}) {
    absl::StatusOr<Distribution> back = Distribution::FromSpec(d.name(), d.params());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->kind(), d.kind());
    EXPECT_EQ(back->DebugString(), d.DebugString());
    EXPECT_EQ(back->Segments(30, 1, 2), d.Segments(30, 1, 2));
  }
}

TEST(FromSpec, RejectsWhatItCannotRebuild) {
  ExpectInvalid(Distribution::FromSpec("blocky", {}).status(), "unknown distribution kind");
  ExpectInvalid(Distribution::FromSpec("block_cyclic", {}).status(), "takes 1 parameter(s), got 0");
  ExpectInvalid(Distribution::FromSpec("block", {3}).status(), "takes 0 parameter(s), got 1");
  ExpectInvalid(Distribution::FromSpec("map", {}).status(), "Distribution::Explicit");
  ExpectInvalid(
      Distribution::FromSpec("block_cyclic_2d", {1, 1, 1, 1, 1LL << 40, 1, 0, 0}).status(),
      "out of int range");
}

TEST(Segments, RegularKindsNeedAtMostTwoSegmentsAtAnySize) {
  const int64_t n = 1000000007;  // prime: every kind has a short last block somewhere
  for (const Distribution& d : {Distribution::Block(), Distribution::Cyclic(),
                                Distribution::BlockCyclic(7), Distribution::BlockCyclic(1 << 20)}) {
    for (int p : {1, 3, 7}) {
      int64_t total = 0;
      for (int r = 0; r < p; ++r) {
        std::vector<Segment> segs = d.Segments(n, r, p);
        EXPECT_LE(segs.size(), 2u) << d.DebugString() << " rank " << r << " of " << p;
        for (const Segment& s : segs) total += s.elements();
      }
      EXPECT_EQ(total, n) << d.DebugString();
    }
  }
}

// Every kind x size x process count against its brute-force reference: counts, Locate, the
// local order, and the segment invariants the planner relies on.
class DistributionProperty : public ::testing::TestWithParam<size_t> {};

void CheckSegments(const std::vector<Segment>& segs, int64_t count) {
  int64_t next_local = 0;
  for (const Segment& s : segs) {
    EXPECT_GE(s.count, 1);
    EXPECT_GE(s.block, 1);
    if (s.count > 1) {
      EXPECT_GT(s.global_stride, s.block);
    } else {
      EXPECT_EQ(s.global_stride, s.block);
    }
    EXPECT_EQ(s.local_start, next_local);  // segments tile the local piece in order
    next_local += s.elements();
  }
  EXPECT_EQ(next_local, count);
}

TEST_P(DistributionProperty, MatchesBruteForceReference) {
  const testing::LayoutCase& c = testing::AllCases()[GetParam()];
  for (int64_t n : {0, 1, 2, 5, 13, 97, 1000}) {
    for (int p = 1; p <= 7; ++p) {
      SCOPED_TRACE(c.name + " n=" + std::to_string(n) + " p=" + std::to_string(p));
      std::optional<Distribution> d = c.make(n, p);
      ASSERT_TRUE(d.has_value());
      ASSERT_TRUE(d->Validate(n, p).ok()) << d->Validate(n, p);
      testing::Reference ref = c.reference(n, p);
      for (int r = 0; r < p; ++r) {
        ASSERT_EQ(d->LocalCount(n, r, p), static_cast<int64_t>(ref.global_at[r].size()));
        ASSERT_EQ(d->GlobalIndexOfLocal(n, r, p), ref.global_at[r]) << "rank " << r;
        CheckSegments(d->Segments(n, r, p), d->LocalCount(n, r, p));
      }
      bool keeps_order = true;
      for (const auto& g : ref.global_at) keeps_order &= std::is_sorted(g.begin(), g.end());
      EXPECT_EQ(d->LocalOrderIsGlobalOrder(n, p), keeps_order);
      for (int64_t g = 0; g < n; ++g) {
        ASSERT_EQ(d->Locate(g, n, p), (Location{ref.owner[g], ref.local[g]})) << "global " << g;
      }
      EXPECT_EQ(d->Locate(n, n, p), Location{});
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, DistributionProperty,
                         ::testing::Range<size_t>(0, testing::AllCases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return testing::AllCases()[info.param].name;
                         });

}  // namespace
}  // namespace layout
}  // namespace srs
