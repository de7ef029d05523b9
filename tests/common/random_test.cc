#include "common/random.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace srs {
namespace {

TEST(RandomHex, LengthAndAlphabet) {
  for (size_t bytes : {0, 1, 8, 16, 33}) {
    std::string hex = RandomHex(bytes);
    EXPECT_EQ(hex.size(), 2 * bytes);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  }
}

TEST(RandomHex, DrawsDoNotRepeat) {
  // 1000 draws of 128 bits: a repeat would mean the generator is not random at all.
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(RandomHex(16)).second);
}

}  // namespace
}  // namespace srs
