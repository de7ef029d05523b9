// Test support: the layouts the property tests sweep, each with a brute-force reference that
// computes every element's (owner, local index) straight from DESIGN.md §2 — by counting, never
// through the library's segment arithmetic.
#ifndef SRS_TESTS_LAYOUT_LAYOUT_CASES_H_
#define SRS_TESTS_LAYOUT_LAYOUT_CASES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "libsrs/src/layout/distribution.h"

namespace srs {
namespace layout {
namespace testing {

// Every element's owner and local index, and each rank's elements in local order.
struct Reference {
  std::vector<int> owner;
  std::vector<int64_t> local;
  std::vector<std::vector<int64_t>> global_at;  // [rank][local] -> global
};

// Builds global_at from owner/local (fails the current test if they are not a bijection).
Reference FinishReference(std::vector<int> owner, std::vector<int64_t> local, int nprocs);

struct LayoutCase {
  std::string name;
  // The distribution for (G, P), or nullopt if the kind cannot describe that shape.
  std::function<std::optional<Distribution>(int64_t, int)> make;
  // The brute-force reference for the same (G, P).
  std::function<Reference(int64_t, int)> reference;
};

// block, cyclic, block_cyclic b in {1, 2, 3, 7}, three block_cyclic_2d shapes, map (seeded
// random owners), func (reversed cyclic: local order opposite to global order), explicit
// (a seeded random permutation dealt to ranks).
const std::vector<LayoutCase>& AllCases();

// The 2-D grid parameters the 2-D cases use for (G, P); rows * cols == G, nprow * npcol == P.
struct Grid2D {
  int64_t rows, cols, mb, nb;
  int nprow, npcol, rsrc, csrc;
};

// Brute-force 2-D reference: counts owned rows/columns instead of using NUMROC.
Reference Reference2D(const Grid2D& g);

}  // namespace testing
}  // namespace layout
}  // namespace srs

#endif  // SRS_TESTS_LAYOUT_LAYOUT_CASES_H_
