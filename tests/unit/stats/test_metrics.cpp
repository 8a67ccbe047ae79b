#include <gtest/gtest.h>

#include "stats/metrics.h"

namespace midge::stats {
namespace {

TEST(Metrics, FromAKnownConfusionMatrix) {
  // rows = true: taxon 0 has 8 images (6 right), taxon 1 has 2 (1 right), taxon 2 none.
  std::vector<std::int64_t> cm = {6, 2, 0,  //
                                  1, 1, 0,  //
                                  0, 0, 0};
  Metrics m = compute_metrics(cm, 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.7);
  EXPECT_DOUBLE_EQ(m.recall[0], 0.75);
  EXPECT_DOUBLE_EQ(m.recall[1], 0.5);
  EXPECT_DOUBLE_EQ(m.recall[2], 0.0);
  EXPECT_DOUBLE_EQ(m.balanced_accuracy, 0.625);  // taxon 2 has no support
  EXPECT_DOUBLE_EQ(m.precision[0], 6.0 / 7.0);
  EXPECT_DOUBLE_EQ(m.precision[1], 1.0 / 3.0);
  EXPECT_NEAR(m.f1[0], 2 * (6.0 / 7.0) * 0.75 / (6.0 / 7.0 + 0.75), 1e-12);
  EXPECT_EQ(m.support, (std::vector<std::int64_t>{8, 2, 0}));
  std::vector<std::int64_t> counted(9, 0);
  count(counted, 3, 1, 0);
  EXPECT_EQ(counted[3], 1);
}

}  // namespace
}  // namespace midge::stats
