#include <gtest/gtest.h>

#include "stats/describe.h"

namespace midge::stats {
namespace {

TEST(Describe, WilsonIntervalMatchesTheFormula) {
  // 8 of 10: centre (0.8 + 1.9208/10) / 1.38416 = 0.7167, half-width 0.2373.
  Interval i = wilson(8, 10);
  EXPECT_NEAR(i.low, 0.4902, 1e-4);
  EXPECT_NEAR(i.high, 0.9433, 1e-4);
  Interval all = wilson(12, 12);
  EXPECT_NEAR(all.high, 1.0, 1e-12);
  EXPECT_NEAR(all.low, 0.7575, 1e-4);
  Interval none = wilson(0, 0);
  EXPECT_EQ(none.low, 0);
  EXPECT_EQ(none.high, 1);
}

TEST(Describe, MeanAndSampleStandardDeviation) {
  EXPECT_EQ(mean({}), 0);
  EXPECT_EQ(sample_sd({3.0}), 0);
  EXPECT_DOUBLE_EQ(mean({1, 2, 3, 4}), 2.5);
  // Deviations -1.5, -0.5, 0.5, 1.5: squares sum to 5, over n - 1 = 3.
  EXPECT_NEAR(sample_sd({1, 2, 3, 4}), 1.2909944487358056, 1e-15);
}

}  // namespace
}  // namespace midge::stats
