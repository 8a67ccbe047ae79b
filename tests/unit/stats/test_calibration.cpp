#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "core/random.h"
#include "stats/calibration.h"

namespace midge::stats {
namespace {

TEST(Calibration, ReliabilityBinsTopProbabilitiesAndWeighsTheGaps) {
  // Three images, two classes: one sure and right (bin 15), two at 0.65
  // (bin 10: 9/15 < 0.65 <= 10/15), one right and one wrong.
  const std::vector<float> p = {1.0F, 0.0F, 0.65F, 0.35F, 0.35F, 0.65F};
  const std::vector<std::int64_t> y = {0, 1, 1};
  ReliabilityTable t = reliability(p, y, 2);
  ASSERT_EQ(t.count.size(), 15U);
  EXPECT_EQ(t.count[14], 1);
  EXPECT_EQ(t.count[9], 2);
  EXPECT_DOUBLE_EQ(t.upper[9], 10.0 / 15);
  EXPECT_NEAR(t.confidence[9], 0.65, 1e-7);
  EXPECT_DOUBLE_EQ(t.accuracy[9], 0.5);
  EXPECT_DOUBLE_EQ(t.accuracy[14], 1.0);
  EXPECT_EQ(t.count[0] + t.count[5] + t.count[13], 0);
  // ECE = 1/3 * |1 - 1| + 2/3 * |0.5 - 0.65| = 0.1
  EXPECT_NEAR(t.ece, 0.1, 1e-7);
  EXPECT_THROW(reliability(p, {0, 1}, 2), std::invalid_argument);
}

TEST(Calibration, FitTemperatureRecoversTheTemperatureTheLabelsWereDrawnAt) {
  // Labels drawn from softmax(z / 2): the maximum-likelihood temperature
  // of 20000 draws is 2 up to sampling noise (a few percent).
  Rng rng(7);
  const int c = 5;
  const int n = 20000;
  std::vector<float> z(static_cast<std::size_t>(n * c));
  for (float& v : z) v = static_cast<float>(3 * rng.normal());
  const std::vector<float> truth = softmax_at(z, c, 2.0);
  std::vector<std::int64_t> y(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    double u = rng.uniform();
    int k = 0;
    while (k < c - 1 && (u -= truth[static_cast<std::size_t>(i * c + k)]) > 0) ++k;
    y[static_cast<std::size_t>(i)] = k;
  }
  const double t = fit_temperature(z, y, c);
  EXPECT_NEAR(t, 2.0, 0.1);
  // A minimum: better than t = 1 and than 10% either side.
  const double best = mean_nll(z, y, c, t);
  EXPECT_LT(best, mean_nll(z, y, c, 1.0));
  EXPECT_LT(best, mean_nll(z, y, c, t * 1.1));
  EXPECT_LT(best, mean_nll(z, y, c, t / 1.1));
  // Calibrated probabilities are closer to calibrated than the raw ones.
  EXPECT_LT(reliability(softmax_at(z, c, t), y, c).ece,
            reliability(softmax_at(z, c, 1.0), y, c).ece);
}

TEST(Calibration, SoftmaxAtTemperatureKeepsTheArgmaxAndFlattensAsTGrows) {
  const std::vector<float> z = {2.0F, 0.0F, -1.0F};
  const std::vector<float> p1 = softmax_at(z, 3, 1.0);
  const double e = std::exp(2.0) + 1 + std::exp(-1.0);
  EXPECT_NEAR(p1[0], std::exp(2.0) / e, 1e-7);
  const std::vector<float> hot = softmax_at(z, 3, 1000.0);
  EXPECT_NEAR(hot[0], 1.0 / 3, 1e-3);
  EXPECT_GT(hot[0], hot[1]);
  // Every image right: the NLL falls as t falls, without a minimum; the
  // fit keeps t = 1 rather than run to the lower bound (where every
  // probability would be 1).
  EXPECT_TRUE(all_right({10.0F, 0.0F, 0.0F, 0.5F}, {0, 1}, 2));
  EXPECT_DOUBLE_EQ(fit_temperature({10.0F, 0.0F, 0.0F, 0.5F}, {0, 1}, 2), 1.0);
  // A tie at the top does not bound it either (its likelihood tends to
  // 1/2); one image wrong does: a finite fit below 1 here.
  EXPECT_TRUE(all_right({10.0F, 0.0F, 0.5F, 0.5F}, {0, 1}, 2));
  EXPECT_DOUBLE_EQ(fit_temperature({10.0F, 0.0F, 0.5F, 0.5F}, {0, 1}, 2), 1.0);
  EXPECT_FALSE(all_right({10.0F, 0.0F, 0.5F, 0.4F}, {0, 1}, 2));
  const double t = fit_temperature({10.0F, 0.0F, 9.0F, 0.0F, 0.0F, 1.0F}, {0, 0, 0}, 2);
  EXPECT_GT(t, 0.01);
  EXPECT_NE(t, 1.0);
}

}  // namespace
}  // namespace midge::stats
