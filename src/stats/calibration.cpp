#include "stats/calibration.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace midge::stats {
namespace {

std::size_t rows_of(std::size_t values, int classes, std::size_t labels) {
  const auto c = static_cast<std::size_t>(classes);
  if (classes < 1 || values != labels * c) {
    throw std::invalid_argument("calibration: " + std::to_string(values) + " values for " +
                                std::to_string(labels) + " labels of " + std::to_string(classes) +
                                " classes");
  }
  return labels;
}

}  // namespace

ReliabilityTable reliability(const std::vector<float>& probabilities,
                             const std::vector<std::int64_t>& labels, int classes, int bins) {
  const std::size_t n = rows_of(probabilities.size(), classes, labels.size());
  const auto c = static_cast<std::size_t>(classes);
  ReliabilityTable t;
  t.count.assign(static_cast<std::size_t>(bins), 0);
  t.confidence.assign(static_cast<std::size_t>(bins), 0);
  t.accuracy.assign(static_cast<std::size_t>(bins), 0);
  for (int k = 0; k < bins; ++k) t.upper.push_back(static_cast<double>(k + 1) / bins);
  for (std::size_t i = 0; i < n; ++i) {
    const float* p = probabilities.data() + i * c;
    const auto top = static_cast<std::size_t>(std::max_element(p, p + c) - p);
    const double conf = p[top];
    // (k-1)/M < conf <= k/M; a confidence of 0 (impossible for a softmax)
    // would go to the first bin.
    const auto k = static_cast<std::size_t>(
        std::clamp(static_cast<int>(std::ceil(conf * bins)) - 1, 0, bins - 1));
    ++t.count[k];
    t.confidence[k] += conf;
    t.accuracy[k] += static_cast<std::int64_t>(top) == labels[i] ? 1.0 : 0.0;
  }
  for (std::size_t k = 0; k < t.count.size(); ++k) {
    if (t.count[k] == 0) continue;
    const auto m = static_cast<double>(t.count[k]);
    t.confidence[k] /= m;
    t.accuracy[k] /= m;
    t.ece += m / static_cast<double>(n) * std::abs(t.accuracy[k] - t.confidence[k]);
  }
  return t;
}

std::vector<float> softmax_at(const std::vector<float>& logits, int classes, double t) {
  const auto c = static_cast<std::size_t>(classes);
  std::vector<float> out(logits.size());
  for (std::size_t i = 0; i + c <= logits.size(); i += c) {
    const float* z = logits.data() + i;
    const double top = *std::max_element(z, z + c);
    double sum = 0;
    for (std::size_t k = 0; k < c; ++k) sum += std::exp((z[k] - top) / t);
    for (std::size_t k = 0; k < c; ++k) {
      out[i + k] = static_cast<float>(std::exp((z[k] - top) / t) / sum);
    }
  }
  return out;
}

double mean_nll(const std::vector<float>& logits, const std::vector<std::int64_t>& labels,
                int classes, double t) {
  const std::size_t n = rows_of(logits.size(), classes, labels.size());
  const auto c = static_cast<std::size_t>(classes);
  if (n == 0) return 0;
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* z = logits.data() + i * c;
    const auto top = static_cast<std::size_t>(std::max_element(z, z + c) - z);
    // -log softmax(z / t)[y] = log(1 + rest) - (z_y - z_top) / t, with rest
    // the sum over the other classes of exp((z_k - z_top) / t): log1p keeps
    // the tiny losses of confident right answers, which log(1 + rest)
    // would round to 0 and so flatten the search.
    double rest = 0;
    for (std::size_t k = 0; k < c; ++k) {
      if (k != top) rest += std::exp((z[k] - z[top]) / t);
    }
    total += std::log1p(rest) - (z[static_cast<std::size_t>(labels[i])] - z[top]) / t;
  }
  return total / static_cast<double>(n);
}

bool all_right(const std::vector<float>& logits, const std::vector<std::int64_t>& labels,
               int classes) {
  const std::size_t n = rows_of(logits.size(), classes, labels.size());
  const auto c = static_cast<std::size_t>(classes);
  for (std::size_t i = 0; i < n; ++i) {
    const float* z = logits.data() + i * c;
    const auto y = static_cast<std::size_t>(labels[i]);
    for (std::size_t k = 0; k < c; ++k)
      if (k != y && z[k] > z[y]) return false;
  }
  return true;
}

double fit_temperature(const std::vector<float>& logits, const std::vector<std::int64_t>& labels,
                       int classes) {
  if (all_right(logits, labels, classes)) return 1.0;
  // Search u = log(1/t) in [log 0.01, log 100]; 80 golden-section steps
  // shrink the interval by 0.618^80 ~ 2e-17 of its width.
  auto f = [&](double u) { return mean_nll(logits, labels, classes, std::exp(-u)); };
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double lo = std::log(0.01);
  double hi = std::log(100.0);
  double a = hi - ratio * (hi - lo);
  double b = lo + ratio * (hi - lo);
  double fa = f(a);
  double fb = f(b);
  for (int step = 0; step < 80; ++step) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = f(b);
    }
  }
  return std::exp(-(lo + hi) / 2);
}

}  // namespace midge::stats
