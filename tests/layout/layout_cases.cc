#include "tests/layout/layout_cases.h"

#include <algorithm>
#include <random>

#include "gtest/gtest.h"

namespace srs {
namespace layout {
namespace testing {

Reference FinishReference(std::vector<int> owner, std::vector<int64_t> local, int nprocs) {
  Reference ref;
  ref.global_at.resize(nprocs);
  std::vector<int64_t> count(nprocs, 0);
  for (int o : owner) ++count[o];
  for (int r = 0; r < nprocs; ++r) ref.global_at[r].assign(count[r], -1);
  for (size_t g = 0; g < owner.size(); ++g) {
    int64_t& slot = ref.global_at[owner[g]].at(local[g]);
    EXPECT_EQ(slot, -1) << "reference is not a bijection at global " << g;
    slot = static_cast<int64_t>(g);
  }
  ref.owner = std::move(owner);
  ref.local = std::move(local);
  return ref;
}

namespace {

// Assigns ranks in a fixed order of global indices: each rank's local index is the number of
// its elements seen before (the "increasing global order" rule of block, cyclic, map ...).
Reference ByOwner(int64_t n, int nprocs, const std::function<int(int64_t)>& owner_of) {
  std::vector<int> owner(n);
  std::vector<int64_t> local(n);
  std::vector<int64_t> next(nprocs, 0);
  for (int64_t g = 0; g < n; ++g) {
    owner[g] = owner_of(g);
    local[g] = next[owner[g]]++;
  }
  return FinishReference(std::move(owner), std::move(local), nprocs);
}

Reference BlockRef(int64_t n, int p) {
  // The first n % p ranks hold one more: walk the ranks filling their counts.
  std::vector<int> owner;
  for (int r = 0; r < p; ++r) {
    int64_t count = n / p + (r < n % p ? 1 : 0);
    for (int64_t k = 0; k < count; ++k) owner.push_back(r);
  }
  return ByOwner(n, p, [&](int64_t g) { return owner[g]; });
}

LayoutCase BlockCyclicCase(int64_t b) {
  return LayoutCase{
      "block_cyclic" + std::to_string(b),
      [b](int64_t, int) { return Distribution::BlockCyclic(b); },
      [b](int64_t n, int p) { return ByOwner(n, p, [&](int64_t g) { return int((g / b) % p); }); }};
}

// Picks a rows x cols shape for n elements (rows a divisor of n near sqrt(n); rows 0 for n 0).
int64_t RowsFor(int64_t n, int64_t wanted) {
  if (n == 0) return 0;
  int64_t best = 1;
  for (int64_t d = 1; d * d <= n; ++d) {
    if (n % d == 0 && std::abs(d - wanted) < std::abs(best - wanted)) best = d;
  }
  return best;
}

// variant 0: nprow = smallest factor of P, mb 2 nb 3, rsrc 1; variant 1: P x 1 grid, mb 3,
// rsrc P-1; variant 2: 1 x P grid, nb 2, csrc P-1, tall matrix.
Grid2D GridFor(int64_t n, int p, int variant) {
  Grid2D g{};
  int small = p;
  for (int d = 2; d <= p; ++d) {
    if (p % d == 0) {
      small = d;
      break;
    }
  }
  if (p == 1) small = 1;
  switch (variant) {
    case 0:
      g = Grid2D{RowsFor(n, 8), 0, 2, 3, small, p / small, 1 % small, 0};
      break;
    case 1:
      g = Grid2D{RowsFor(n, 30), 0, 3, 1, p, 1, p - 1, 0};
      break;
    default:
      g = Grid2D{RowsFor(n, 1000), 0, 1, 2, 1, p, 0, p - 1};
      break;
  }
  g.cols = g.rows == 0 ? 3 : n / g.rows;
  return g;
}

LayoutCase Case2D(int variant) {
  return LayoutCase{"block_cyclic_2d_v" + std::to_string(variant),
                    [variant](int64_t n, int p) -> std::optional<Distribution> {
                      Grid2D g = GridFor(n, p, variant);
                      return Distribution::BlockCyclic2D(g.rows, g.cols, g.mb, g.nb, g.nprow,
                                                         g.npcol, g.rsrc, g.csrc);
                    },
                    [variant](int64_t n, int p) { return Reference2D(GridFor(n, p, variant)); }};
}

std::vector<int> RandomOwners(int64_t n, int p) {
  std::mt19937_64 rng(static_cast<uint64_t>(n * 131 + p));
  std::vector<int> owner(n);
  for (auto& o : owner) o = static_cast<int>(rng() % p);
  return owner;
}

// Reversed cyclic: element g on rank g % P, stored from the rank's last element to its first.
int ReversedCyclic(int64_t g, int p, int* owner, int64_t* local, int64_t n) {
  int r = static_cast<int>(g % p);
  int64_t count = n / p + (r < n % p ? 1 : 0);
  *owner = r;
  *local = count - 1 - g / p;
  return 0;
}

std::vector<std::vector<int64_t>> RandomLists(int64_t n, int p) {
  std::mt19937_64 rng(static_cast<uint64_t>(n * 7 + p));
  std::vector<int64_t> perm(n);
  for (int64_t g = 0; g < n; ++g) perm[g] = g;
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<std::vector<int64_t>> lists(p);
  for (int64_t k = 0; k < n; ++k) lists[rng() % p].push_back(perm[k]);
  return lists;
}

// The user-defined kinds: map, func, explicit.
void AddTableCases(std::vector<LayoutCase>* cases) {
  cases->push_back({"map", [](int64_t n, int p) { return Distribution::Map(RandomOwners(n, p)); },
                    [](int64_t n, int p) {
                      std::vector<int> owner = RandomOwners(n, p);
                      return ByOwner(n, p, [&](int64_t g) { return owner[g]; });
                    }});
  cases->push_back({"func_reversed_cyclic",
                    [](int64_t n, int) {
                      return Distribution::Func([n](int64_t g, int p, int* o, int64_t* l) {
                        return ReversedCyclic(g, p, o, l, n);
                      });
                    },
                    [](int64_t n, int p) {
                      std::vector<int> owner(n);
                      std::vector<int64_t> local(n);
                      for (int64_t g = 0; g < n; ++g) ReversedCyclic(g, p, &owner[g], &local[g], n);
                      return FinishReference(std::move(owner), std::move(local), p);
                    }});
  cases->push_back({"explicit",
                    [](int64_t n, int p) { return Distribution::Explicit(RandomLists(n, p)); },
                    [](int64_t n, int p) {
                      std::vector<int> owner(n);
                      std::vector<int64_t> local(n);
                      auto lists = RandomLists(n, p);
                      for (int r = 0; r < p; ++r) {
                        for (size_t k = 0; k < lists[r].size(); ++k) {
                          owner[lists[r][k]] = r;
                          local[lists[r][k]] = static_cast<int64_t>(k);
                        }
                      }
                      return FinishReference(std::move(owner), std::move(local), p);
                    }});
}

std::vector<LayoutCase> MakeCases() {
  std::vector<LayoutCase> cases;
  cases.push_back({"block", [](int64_t, int) { return Distribution::Block(); }, BlockRef});
  cases.push_back(
      {"cyclic", [](int64_t, int) { return Distribution::Cyclic(); },
       [](int64_t n, int p) { return ByOwner(n, p, [&](int64_t g) { return int(g % p); }); }});
  for (int64_t b : {1, 2, 3, 7}) cases.push_back(BlockCyclicCase(b));
  for (int v = 0; v < 3; ++v) cases.push_back(Case2D(v));
  AddTableCases(&cases);
  return cases;
}

}  // namespace

Reference Reference2D(const Grid2D& g) {
  int64_t n = g.rows * g.cols;
  auto row_owner = [&](int64_t i) { return int((i / g.mb + g.rsrc) % g.nprow); };
  auto col_owner = [&](int64_t j) { return int((j / g.nb + g.csrc) % g.npcol); };
  // Local row/column index = how many earlier rows/columns the same grid row/column owns.
  std::vector<int64_t> li(g.rows), lj(g.cols), rows_of(g.nprow, 0), cols_of(g.npcol, 0);
  for (int64_t i = 0; i < g.rows; ++i) li[i] = rows_of[row_owner(i)]++;
  for (int64_t j = 0; j < g.cols; ++j) lj[j] = cols_of[col_owner(j)]++;
  std::vector<int> owner(n);
  std::vector<int64_t> local(n);
  for (int64_t j = 0; j < g.cols; ++j) {
    for (int64_t i = 0; i < g.rows; ++i) {
      int pr = row_owner(i);
      owner[i + j * g.rows] = pr * g.npcol + col_owner(j);
      local[i + j * g.rows] = li[i] + lj[j] * rows_of[pr];  // column-major, lld = own rows
    }
  }
  return FinishReference(std::move(owner), std::move(local), g.nprow * g.npcol);
}

const std::vector<LayoutCase>& AllCases() {
  static const std::vector<LayoutCase>* cases = new std::vector<LayoutCase>(MakeCases());
  return *cases;
}

}  // namespace testing
}  // namespace layout
}  // namespace srs
