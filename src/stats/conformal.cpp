#include "stats/conformal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace midge::stats {

std::vector<double> lac_scores(const std::vector<float>& probabilities,
                               const std::vector<std::int64_t>& labels,
                               const std::vector<std::int64_t>& predicted, int classes) {
  const auto c = static_cast<std::size_t>(classes);
  if (probabilities.size() != labels.size() * c || predicted.size() != labels.size()) {
    throw std::invalid_argument("lac_scores: sizes");
  }
  std::vector<double> out;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (predicted[i] < 0) continue;
    out.push_back(1.0 - probabilities[i * c + static_cast<std::size_t>(labels[i])]);
  }
  return out;
}

namespace {

// ceil((n + 1)(1 - alpha)), the 1-based rank of the threshold among n
// scores; computed with a tolerance so that (n+1)(1-alpha) landing on an
// integer in exact arithmetic is not pushed one rank up by rounding.
std::size_t threshold_rank(std::size_t n, double alpha) {
  const double r = (static_cast<double>(n) + 1) * (1 - alpha);
  return static_cast<std::size_t>(std::ceil(r - 1e-9));
}

}  // namespace

double conformal_threshold(std::vector<double> scores, double alpha) {
  if (!(alpha > 0 && alpha < 1)) throw std::invalid_argument("conformal: alpha outside (0, 1)");
  const std::size_t rank = threshold_rank(scores.size(), alpha);
  if (rank == 0) return -std::numeric_limits<double>::infinity();
  if (rank > scores.size()) return std::numeric_limits<double>::infinity();
  std::nth_element(scores.begin(), scores.begin() + static_cast<long>(rank - 1), scores.end());
  return scores[rank - 1];
}

std::vector<int> prediction_set(const float* probabilities, int classes, double threshold) {
  std::vector<int> out;
  for (int k = 0; k < classes; ++k) {
    if (1.0 - static_cast<double>(probabilities[k]) <= threshold) out.push_back(k);
  }
  std::stable_sort(out.begin(), out.end(),
                   [&](int a, int b) { return probabilities[a] > probabilities[b]; });
  return out;
}

ConformalSummary leave_one_out(const std::vector<float>& probabilities,
                               const std::vector<std::int64_t>& labels,
                               const std::vector<std::int64_t>& predicted, int classes,
                               double alpha) {
  if (!(alpha > 0 && alpha < 1)) throw std::invalid_argument("conformal: alpha outside (0, 1)");
  const auto c = static_cast<std::size_t>(classes);
  const std::vector<double> scores = lac_scores(probabilities, labels, predicted, classes);
  std::vector<double> sorted = scores;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  ConformalSummary s;
  s.coverage_per_taxon.assign(c, 0);
  s.mean_size_per_taxon.assign(c, 0);
  std::vector<std::int64_t> count(c, 0);
  if (n < 2) return s;
  // Without image i the threshold is the r-th smallest of the other n - 1
  // scores (r from n - 1): the r-th smallest of all when i's score lies
  // above it, else the (r+1)-th.
  const std::size_t r = threshold_rank(n - 1, alpha);
  std::size_t j = 0;  // index into scores (rows with a prediction)
  std::int64_t covered = 0;
  std::int64_t size_sum = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (predicted[i] < 0) continue;
    const double own = scores[j++];
    double q = std::numeric_limits<double>::infinity();
    if (r == 0) {
      q = -std::numeric_limits<double>::infinity();
    } else if (r <= n - 1) {
      // Position of own among the sorted scores (any equal one will do:
      // removing an equal value leaves the same sorted values).
      const auto pos = static_cast<std::size_t>(
          std::lower_bound(sorted.begin(), sorted.end(), own) - sorted.begin());
      q = pos >= r ? sorted[r - 1] : sorted[r];
    }
    const std::vector<int> set = prediction_set(probabilities.data() + i * c, classes, q);
    const auto t = static_cast<std::size_t>(labels[i]);
    const bool hit = std::find(set.begin(), set.end(), static_cast<int>(t)) != set.end();
    covered += hit ? 1 : 0;
    size_sum += static_cast<std::int64_t>(set.size());
    s.coverage_per_taxon[t] += hit ? 1 : 0;
    s.mean_size_per_taxon[t] += static_cast<double>(set.size());
    ++count[t];
  }
  s.images = static_cast<std::int64_t>(n);
  s.coverage = static_cast<double>(covered) / static_cast<double>(n);
  s.mean_size = static_cast<double>(size_sum) / static_cast<double>(n);
  for (std::size_t k = 0; k < c; ++k) {
    if (count[k] == 0) {
      s.coverage_per_taxon[k] = std::numeric_limits<double>::quiet_NaN();
      s.mean_size_per_taxon[k] = std::numeric_limits<double>::quiet_NaN();
    } else {
      s.coverage_per_taxon[k] /= static_cast<double>(count[k]);
      s.mean_size_per_taxon[k] /= static_cast<double>(count[k]);
    }
  }
  return s;
}

}  // namespace midge::stats
