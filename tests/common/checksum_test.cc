#include "common/checksum.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace srs {
namespace {

TEST(Xxh3, IncrementalEqualsOneShotForAnySplit) {
  std::vector<unsigned char> bytes(10000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 31 + 7);
  uint64_t whole = Xxh3(bytes.data(), bytes.size());
  for (size_t split : {0, 1, 63, 64, 4096, 9999, 10000}) {
    Xxh3Hasher hasher;
    hasher.Update(bytes.data(), split);
    hasher.Update(bytes.data() + split, bytes.size() - split);
    EXPECT_EQ(hasher.Digest(), whole) << "split at " << split;
  }
}

TEST(Xxh3, DetectsASingleFlippedBit) {
  std::string text(4096, 'a');
  uint64_t before = Xxh3(text.data(), text.size());
  text[2000] ^= 1;
  EXPECT_NE(Xxh3(text.data(), text.size()), before);
}

TEST(Xxh3, KnownValueOfEmptyInput) {
  // XXH3_64bits of zero bytes with the default seed, as the reference implementation gives.
  EXPECT_EQ(Xxh3("", 0), 0x2D06800538D394C2ULL);
  EXPECT_EQ(ChecksumToString(0x2D06800538D394C2ULL), "xxh3:2d06800538d394c2");
}

}  // namespace
}  // namespace srs
