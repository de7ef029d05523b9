#include "common/datatype.h"

#include "gtest/gtest.h"
#include "srs/srs.h"

namespace srs {
namespace {

TEST(Datatype, NamesRoundTripAndSizesMatchC) {
  for (int c = SRS_CHAR; c <= SRS_DOUBLE_COMPLEX; ++c) {
    absl::StatusOr<ElementType> type = ElementTypeFromC(c);
    ASSERT_TRUE(type.ok());
    EXPECT_EQ(*ElementTypeFromName(ElementTypeName(*type)), *type);
  }
  EXPECT_EQ(ElementSize(*ElementTypeFromC(SRS_DOUBLE_COMPLEX)), 16u);
  EXPECT_EQ(ElementSize(*ElementTypeFromC(SRS_INT)), sizeof(int));
  EXPECT_EQ(ElementSize(*ElementTypeFromC(SRS_LONG)), sizeof(long));
  EXPECT_FALSE(ElementTypeFromC(0).ok());
  EXPECT_FALSE(ElementTypeFromC(42).ok());
  EXPECT_FALSE(ElementTypeFromName("quad").ok());
}

}  // namespace
}  // namespace srs
