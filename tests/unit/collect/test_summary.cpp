#include <gtest/gtest.h>

#include "collect/summary.h"

namespace midge::collect {
namespace {

TEST(Collect, WilsonIntervalMatchesTheFormula) {
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

TEST(Collect, HigherLevelAccuracyFromTheSpeciesConfusionMatrix) {
  // Species a1, a2 (genus A), b1 (genus B). Confusing a1 with a2 is right
  // at genus level; a1 -> b1 is not.
  std::vector<std::int64_t> cm = {5, 3, 2,  //
                                  1, 8, 0,  //
                                  0, 1, 9};
  EXPECT_NEAR(merged_accuracy(cm, {"a1", "a2", "b1"}), 22.0 / 29.0, 1e-12);
  EXPECT_NEAR(merged_accuracy(cm, {"A", "A", "B"}), 26.0 / 29.0, 1e-12);
  EXPECT_NEAR(merged_accuracy(cm, {"X", "X", "X"}), 1.0, 1e-12);
}

}  // namespace
}  // namespace midge::collect
