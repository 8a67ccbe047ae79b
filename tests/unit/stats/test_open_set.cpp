#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "stats/open_set.h"

namespace midge::stats {
namespace {

TEST(OpenSet, ScoresAreTheCalibratedTopProbabilityAndTheLogSumExp) {
  // Reference values from numpy/scipy: max softmax(z / 1.5) and
  // logsumexp(z) per row.
  const std::vector<float> z = {2.0F, 0.5F, -1.0F, 0.1F, 0.2F, 0.3F, 10.0F, 0.0F, 0.0F};
  const auto msp = open_set_scores(z, 3, "msp", 1.5);
  ASSERT_EQ(msp.size(), 3U);
  auto odds = [](double p) { return std::log(p / (1 - p)); };
  EXPECT_NEAR(msp[0], odds(0.66524096), 1e-6);
  EXPECT_NEAR(msp[1], odds(0.35578575), 1e-6);
  EXPECT_NEAR(msp[2], odds(0.99746119), 1e-5);
  // Far ahead at a small temperature: p rounds to 1 in double, the
  // log-odds do not (exactly (10 - 0) / 0.01 - log 2 here).
  const auto sure = open_set_scores({10.0F, 0.0F, 0.0F, 9.0F, 0.0F, 0.0F}, 3, "msp", 0.01);
  EXPECT_NEAR(sure[0], 1000 - std::log(2.0), 1e-9);
  EXPECT_NEAR(sure[1], 900 - std::log(2.0), 1e-9);
  // The energy score ignores the temperature (Liu et al. use 1).
  const auto energy = open_set_scores(z, 3, "energy", 1.5);
  EXPECT_NEAR(energy[0], 2.2413113, 1e-6);
  EXPECT_NEAR(energy[1], 1.30194285, 1e-6);
  EXPECT_NEAR(energy[2], 10.0000908, 1e-6);
  EXPECT_THROW(open_set_scores(z, 3, "odin", 1), std::invalid_argument);
  EXPECT_THROW(open_set_scores(z, 4, "msp", 1), std::invalid_argument);
}

TEST(OpenSet, ThresholdAcceptsTheTargetShareWithinOneImage) {
  std::vector<double> s;
  for (int i = 0; i < 37; ++i) s.push_back(std::sin(i * 1.7));  // distinct, unordered
  for (double rate : {0.05, 0.5, 0.8, 0.95, 0.99, 1.0}) {
    const double t = acceptance_threshold(s, rate);
    const double accepted = share_accepted(s, t) * 37;
    EXPECT_LE(std::abs(accepted - rate * 37), 1.0) << "rate " << rate;
  }
  // All accepted at rate 1: the threshold is the lowest score.
  EXPECT_DOUBLE_EQ(share_accepted(s, acceptance_threshold(s, 1.0)), 1.0);
  // A tiny rate still accepts one image, never none.
  EXPECT_DOUBLE_EQ(share_accepted(s, acceptance_threshold(s, 0.001)) * 37, 1.0);
  EXPECT_THROW(acceptance_threshold({}, 0.9), std::invalid_argument);
  EXPECT_THROW(acceptance_threshold(s, 0.0), std::invalid_argument);
  EXPECT_THROW(acceptance_threshold(s, 1.5), std::invalid_argument);
}

TEST(OpenSet, AurocMatchesScikitLearnWithTies) {
  // sklearn.metrics.roc_auc_score([1]*6 + [0]*5, known + unknown) = 0.76666...
  const std::vector<double> known = {0.9, 0.8, 0.7, 0.6, 0.5, 0.5};
  const std::vector<double> unknown = {0.75, 0.55, 0.4, 0.5, 0.2};
  EXPECT_NEAR(auroc(known, unknown), 0.7666666666666666, 1e-12);
  EXPECT_DOUBLE_EQ(auroc({2, 3}, {0, 1}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({0, 1}, {2, 3}), 0.0);
  EXPECT_DOUBLE_EQ(auroc({1, 1}, {1}), 0.5);
  EXPECT_TRUE(std::isnan(auroc({}, {1})));
}

}  // namespace
}  // namespace midge::stats
