#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "stats/conformal.h"

namespace midge::stats {
namespace {

// A calibrated classifier by construction: each image's probabilities are
// a Dirichlet(0.5, ...) draw and its taxon is drawn from them, so scores of
// images are exchangeable, as conformal prediction assumes.
struct Simulated {
  std::vector<float> p;
  std::vector<std::int64_t> labels;
  std::vector<std::int64_t> predicted;
};

Simulated simulate(std::mt19937_64& rng, std::size_t n, int classes) {
  std::gamma_distribution<double> gamma(0.5, 1.0);
  std::uniform_real_distribution<double> u(0, 1);
  Simulated s;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> g(static_cast<std::size_t>(classes));
    double sum = 0;
    for (auto& v : g) sum += (v = gamma(rng) + 1e-12);
    double draw = u(rng) * sum;
    std::int64_t label = classes - 1;
    for (int k = 0; k < classes; ++k) {
      if ((draw -= g[static_cast<std::size_t>(k)]) < 0) {
        label = k;
        break;
      }
    }
    for (double v : g) s.p.push_back(static_cast<float>(v / sum));
    s.labels.push_back(label);
    s.predicted.push_back(0);
  }
  return s;
}

double coverage(const Simulated& test, int classes, double q) {
  std::size_t hit = 0;
  for (std::size_t i = 0; i < test.labels.size(); ++i) {
    const auto set =
        prediction_set(test.p.data() + i * static_cast<std::size_t>(classes), classes, q);
    for (int k : set) hit += k == test.labels[i] ? 1 : 0;
  }
  return static_cast<double>(hit) / static_cast<double>(test.labels.size());
}

TEST(Conformal, MeanCoverageOverTwentySplitsIsWithinTheFiniteSampleBound) {
  // n calibration and m test images per split, 20 independent splits.
  // For exchangeable scores without ties, the coverage of a split given
  // its calibration set is Beta(l, n + 1 - l) with l = ceil((n+1)(1-alpha)):
  // its mean l/(n+1) lies in [1 - alpha, 1 - alpha + 1/(n+1)], its variance
  // is at most alpha(1-alpha)/n, and the m test images add alpha(1-alpha)/m.
  // The mean of 20 independent splits then has a standard deviation of
  // sigma = sqrt(alpha(1-alpha)(1/n + 1/m) / 20); the test allows 4 sigma
  // beyond the bound on either side.
  const int classes = 6;
  const std::size_t n = 400;
  const std::size_t m = 400;
  const int splits = 20;
  std::mt19937_64 rng(2028);
  for (double alpha : {0.05, 0.1, 0.2}) {
    double sum = 0;
    for (int split = 0; split < splits; ++split) {
      const Simulated cal = simulate(rng, n, classes);
      const Simulated test = simulate(rng, m, classes);
      const double q =
          conformal_threshold(lac_scores(cal.p, cal.labels, cal.predicted, classes), alpha);
      sum += coverage(test, classes, q);
    }
    const double mean = sum / splits;
    const double sigma = std::sqrt(alpha * (1 - alpha) * (1.0 / n + 1.0 / m) / splits);
    const double low = 1 - alpha - 4 * sigma;
    const double high = 1 - alpha + 1.0 / (n + 1) + 4 * sigma;
    EXPECT_GE(mean, low) << "alpha " << alpha;
    EXPECT_LE(mean, high) << "alpha " << alpha;
  }
}

TEST(Conformal, SetsShrinkAsTheCoverageIsLowered) {
  const int classes = 6;
  std::mt19937_64 rng(7);
  const Simulated cal = simulate(rng, 500, classes);
  const Simulated test = simulate(rng, 500, classes);
  const auto scores = lac_scores(cal.p, cal.labels, cal.predicted, classes);
  double previous = classes + 1.0;
  for (double alpha : {0.02, 0.05, 0.1, 0.2, 0.4}) {
    const double q = conformal_threshold(scores, alpha);
    double size = 0;
    for (std::size_t i = 0; i < test.labels.size(); ++i) {
      size += static_cast<double>(prediction_set(test.p.data() + i * classes, classes, q).size());
    }
    size /= static_cast<double>(test.labels.size());
    EXPECT_LE(size, previous) << "alpha " << alpha;
    if (alpha == 0.4) EXPECT_LT(size, 1.5);  // near one taxon at 60% coverage
    if (alpha == 0.02) EXPECT_GT(size, 3.0);
    previous = size;
  }
}

TEST(Conformal, ThresholdRankAndEdgeCases) {
  // n = 9, alpha = 0.1: rank ceil(10 * 0.9) = 9, the largest score.
  std::vector<double> s = {0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6};
  EXPECT_DOUBLE_EQ(conformal_threshold(s, 0.1), 0.9);
  // alpha = 0.5: rank ceil(10 * 0.5) = 5, exactly (no rounding up to 6).
  EXPECT_DOUBLE_EQ(conformal_threshold(s, 0.5), 0.5);
  // Too few images for 99%: rank 10 > 9, every taxon in every set.
  EXPECT_TRUE(std::isinf(conformal_threshold(s, 0.01)));
  EXPECT_THROW(conformal_threshold(s, 0.0), std::invalid_argument);
  const float p[] = {0.1F, 0.6F, 0.3F};
  EXPECT_EQ(prediction_set(p, 3, 0.75), (std::vector<int>{1, 2}));  // p >= 0.25
  EXPECT_EQ(prediction_set(p, 3, 0.0), (std::vector<int>{}));
}

TEST(Conformal, LeaveOneOutMatchesRecomputingWithoutEachImage) {
  const int classes = 4;
  std::mt19937_64 rng(3);
  Simulated s = simulate(rng, 60, classes);
  s.predicted[5] = -1;  // an unreadable image is left out
  const double alpha = 0.2;
  const ConformalSummary loo = leave_one_out(s.p, s.labels, s.predicted, classes, alpha);
  std::size_t covered = 0;
  std::size_t size = 0;
  std::size_t images = 0;
  for (std::size_t i = 0; i < s.labels.size(); ++i) {
    if (s.predicted[i] < 0) continue;
    Simulated others;
    for (std::size_t j = 0; j < s.labels.size(); ++j) {
      if (j == i || s.predicted[j] < 0) continue;
      others.labels.push_back(s.labels[j]);
      others.predicted.push_back(0);
      others.p.insert(others.p.end(), s.p.begin() + static_cast<long>(j * classes),
                      s.p.begin() + static_cast<long>((j + 1) * classes));
    }
    const double q =
        conformal_threshold(lac_scores(others.p, others.labels, others.predicted, classes), alpha);
    const auto set = prediction_set(s.p.data() + i * classes, classes, q);
    for (int k : set) covered += k == s.labels[i] ? 1 : 0;
    size += set.size();
    ++images;
  }
  EXPECT_EQ(loo.images, 59);
  EXPECT_DOUBLE_EQ(loo.coverage, static_cast<double>(covered) / images);
  EXPECT_DOUBLE_EQ(loo.mean_size, static_cast<double>(size) / images);
}

}  // namespace
}  // namespace midge::stats
