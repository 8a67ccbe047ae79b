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
  // Macro-F1: the mean over the taxa with support (0 and 1), by hand.
  const double f1_0 = 2 * (6.0 / 7.0) * 0.75 / (6.0 / 7.0 + 0.75);
  const double f1_1 = 2 * (1.0 / 3.0) * 0.5 / (1.0 / 3.0 + 0.5);
  EXPECT_NEAR(m.macro_f1, (f1_0 + f1_1) / 2, 1e-12);
  std::vector<std::int64_t> counted(9, 0);
  count(counted, 3, 1, 0);
  EXPECT_EQ(counted[3], 1);
}

TEST(Metrics, TopKCountsTheTrueTaxonAmongTheKMostProbable) {
  // 4 taxa; rows: truth ranked 1st, 2nd, 3rd, 4th, and an unreadable image.
  const std::vector<float> p = {0.7F, 0.1F, 0.1F, 0.1F,  //
                                0.5F, 0.3F, 0.1F, 0.1F,  //
                                0.4F, 0.3F, 0.2F, 0.1F,  //
                                0.4F, 0.3F, 0.2F, 0.1F,  //
                                0.0F, 0.0F, 0.0F, 0.0F};
  const std::vector<std::int64_t> labels = {0, 1, 2, 3, 3};
  const std::vector<std::int64_t> predicted = {0, 0, 0, 0, -1};
  EXPECT_DOUBLE_EQ(top_k_accuracy(p, labels, predicted, 4, 1), 0.25);
  EXPECT_DOUBLE_EQ(top_k_accuracy(p, labels, predicted, 4, 2), 0.5);
  EXPECT_DOUBLE_EQ(top_k_accuracy(p, labels, predicted, 4, 3), 0.75);
  EXPECT_DOUBLE_EQ(top_k_accuracy(p, labels, predicted, 4, 4), 1.0);
  // A tie goes to the lower index, as the predicted taxon does: taxon 1
  // tied with taxon 0 at the top is second.
  const std::vector<float> tie = {0.4F, 0.4F, 0.2F};
  EXPECT_DOUBLE_EQ(top_k_accuracy(tie, {1}, {0}, 3, 1), 0.0);
  EXPECT_DOUBLE_EQ(top_k_accuracy(tie, {1}, {0}, 3, 2), 1.0);
  EXPECT_THROW(top_k_accuracy(tie, {1, 0}, {0}, 3, 1), std::invalid_argument);
}

}  // namespace
}  // namespace midge::stats
