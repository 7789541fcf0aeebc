// The checked arithmetic every parser combines untrusted numbers with.
#include "base/checked_math.h"

#include <gtest/gtest.h>

namespace vmc {
namespace {

TEST(CheckedMath, AddAndMulRefuseToWrap) {
  EXPECT_EQ(checked_add(1, 2), 3u);
  EXPECT_EQ(checked_add(UINT64_MAX - 1, 1), UINT64_MAX);
  EXPECT_FALSE(checked_add(18446744073709551612u, 8));  // OFFSET(page.flags) near 2^64
  EXPECT_EQ(checked_mul(1 << 20, 24), uint64_t{24} << 20);
  EXPECT_FALSE(checked_mul(uint64_t{1} << 40, uint64_t{1} << 30));
}

TEST(CheckedMath, FitsWithinHoldsWhereTheSumWouldWrap) {
  EXPECT_TRUE(fits_within(56, 8, 64));
  EXPECT_FALSE(fits_within(57, 8, 64));
  EXPECT_FALSE(fits_within(18446744073709551612u, 8, 64));  // 2^64 - 4 + 8 wraps to 4
  EXPECT_FALSE(fits_within(8, UINT64_MAX, 64));
  EXPECT_TRUE(fits_within(64, 0, 64));
}

}  // namespace
}  // namespace vmc
