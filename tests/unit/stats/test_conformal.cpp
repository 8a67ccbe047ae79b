#include <gtest/gtest.h>

#include <algorithm>
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

// A trained model's validation scores: softmax regression (3 taxa, 2
// features: overlapping Gaussian clusters) fitted by gradient descent on
// 600 training points, then applied to 1000 validation points.
Simulated trained_validation_scores(double* accuracy) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1.0);
  const double centre[3][2] = {{0, 0}, {1.5, 0}, {0.75, 1.3}};
  auto draw = [&](std::size_t n, std::vector<double>* x, std::vector<std::int64_t>* y) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i % 3);
      x->push_back(centre[k][0] + noise(rng));
      x->push_back(centre[k][1] + noise(rng));
      y->push_back(static_cast<std::int64_t>(k));
    }
  };
  double w[3][3] = {};  // per taxon: two weights and a bias
  auto softmax = [&](double x0, double x1, double* p) {
    double z[3];
    double top = -1e300;
    for (int k = 0; k < 3; ++k) top = std::max(top, z[k] = w[k][0] * x0 + w[k][1] * x1 + w[k][2]);
    double sum = 0;
    for (int k = 0; k < 3; ++k) sum += (p[k] = std::exp(z[k] - top));
    for (int k = 0; k < 3; ++k) p[k] /= sum;
  };
  std::vector<double> x;
  std::vector<std::int64_t> y;
  draw(600, &x, &y);
  for (int step = 0; step < 300; ++step) {
    double grad[3][3] = {};
    for (std::size_t i = 0; i < y.size(); ++i) {
      double p[3];
      softmax(x[2 * i], x[2 * i + 1], p);
      for (int k = 0; k < 3; ++k) {
        const double d = p[k] - (y[i] == k ? 1.0 : 0.0);
        grad[k][0] += d * x[2 * i];
        grad[k][1] += d * x[2 * i + 1];
        grad[k][2] += d;
      }
    }
    for (int k = 0; k < 3; ++k)
      for (int j = 0; j < 3; ++j) w[k][j] -= 0.5 * grad[k][j] / static_cast<double>(y.size());
  }
  Simulated v;
  std::vector<double> vx;
  draw(1000, &vx, &v.labels);
  std::size_t right = 0;
  for (std::size_t i = 0; i < v.labels.size(); ++i) {
    double p[3];
    softmax(vx[2 * i], vx[2 * i + 1], p);
    for (double q : p) v.p.push_back(static_cast<float>(q));
    v.predicted.push_back(std::max_element(p, p + 3) - p);
    right += v.predicted.back() == v.labels[i] ? 1 : 0;
  }
  *accuracy = static_cast<double>(right) / static_cast<double>(v.labels.size());
  return v;
}

// The rows `rows` of `s`.
Simulated subset(const Simulated& s, const std::vector<std::size_t>& rows, int classes) {
  Simulated out;
  for (std::size_t i : rows) {
    const auto c = static_cast<std::size_t>(classes);
    out.p.insert(out.p.end(), s.p.begin() + static_cast<long>(i * c),
                 s.p.begin() + static_cast<long>((i + 1) * c));
    out.labels.push_back(s.labels[i]);
    out.predicted.push_back(s.predicted[i]);
  }
  return out;
}

TEST(Conformal, TwentyRandomSplitsOfATrainedModelsValidationScores) {
  // As above, but the scores are a trained classifier's, and each split
  // divides its 1000 validation images at random into n = 500 calibration
  // and m = 500 test images. Given the 1000 scores, a random split makes
  // calibration and test images exchangeable, so the mean coverage over
  // splits has the same bound, and the 20 splits are independent draws.
  double accuracy = 0;
  const Simulated v = trained_validation_scores(&accuracy);
  ASSERT_GT(accuracy, 0.6) << "the classifier did not learn";
  ASSERT_LT(accuracy, 0.95) << "too easy: sets of one taxon would hide the bound";
  const std::size_t n = 500;
  const std::size_t m = 500;
  const int splits = 20;
  std::mt19937_64 rng(5);
  std::vector<std::size_t> order(v.labels.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  double previous_size = 4;
  for (double alpha : {0.05, 0.1, 0.2}) {
    double sum = 0;
    double size = 0;
    for (int split = 0; split < splits; ++split) {
      std::shuffle(order.begin(), order.end(), rng);
      const Simulated cal = subset(v, {order.begin(), order.begin() + n}, 3);
      const Simulated test = subset(v, {order.begin() + n, order.end()}, 3);
      const double q = conformal_threshold(lac_scores(cal.p, cal.labels, cal.predicted, 3), alpha);
      sum += coverage(test, 3, q);
      for (std::size_t i = 0; i < m; ++i)
        size += static_cast<double>(prediction_set(test.p.data() + i * 3, 3, q).size());
    }
    const double mean = sum / splits;
    const double sigma = std::sqrt(alpha * (1 - alpha) * (1.0 / n + 1.0 / m) / splits);
    EXPECT_GE(mean, 1 - alpha - 4 * sigma) << "alpha " << alpha;
    EXPECT_LE(mean, 1 - alpha + 1.0 / (n + 1) + 4 * sigma) << "alpha " << alpha;
    // A lower coverage gives smaller sets on the same scores.
    size /= static_cast<double>(splits * m);
    EXPECT_LT(size, previous_size) << "alpha " << alpha;
    previous_size = size;
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
