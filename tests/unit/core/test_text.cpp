#include <gtest/gtest.h>

#include "core/text.h"

namespace midge::text {
namespace {

TEST(Text, EditDistanceCountsSingleEdits) {
  EXPECT_EQ(edit_distance("stage1.lr", "stage1.lr"), 0U);
  EXPECT_EQ(edit_distance("stage1.l", "stage1.lr"), 1U);
  EXPECT_EQ(edit_distance("stgae1.lr", "stage1.lr"), 2U);
  EXPECT_EQ(edit_distance("", "abc"), 3U);
}

TEST(Text, FormatDoubleIsShortestRoundTrip) {
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(1e-4), "0.0001");
  EXPECT_EQ(format_double(25), "25");
  double back = 0;
  ASSERT_TRUE(parse_double(format_double(1.0 / 3.0), &back));
  EXPECT_EQ(back, 1.0 / 3.0);
}

TEST(Text, StrictParsersRejectJunk) {
  long long i = 0;
  EXPECT_TRUE(parse_int64(" 42 ", &i));
  EXPECT_EQ(i, 42);
  EXPECT_TRUE(parse_int64("+7", &i));
  EXPECT_EQ(i, 7);
  EXPECT_FALSE(parse_int64("12abc", &i));
  EXPECT_FALSE(parse_int64("1.5", &i));
  EXPECT_FALSE(parse_int64("", &i));
  EXPECT_FALSE(parse_int64("99999999999999999999", &i));
  double d = 0;
  EXPECT_TRUE(parse_double("1e-3", &d));
  EXPECT_DOUBLE_EQ(d, 1e-3);
  EXPECT_FALSE(parse_double("nan", &d));
  EXPECT_FALSE(parse_double("inf", &d));
  EXPECT_FALSE(parse_double("0.1x", &d));
  EXPECT_FALSE(parse_double("1e999", &d));
}

TEST(Text, SplitKeepsEmptyFields) {
  auto parts = split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3U);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(join(parts, "|"), "a||b");
}

}  // namespace
}  // namespace midge::text
