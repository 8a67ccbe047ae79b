#include "stats/metrics.h"

#include <stdexcept>

namespace midge::stats {

Metrics compute_metrics(const std::vector<std::int64_t>& confusion, int classes) {
  const auto c = static_cast<std::size_t>(classes);
  if (confusion.size() != c * c) throw std::invalid_argument("confusion matrix size");
  Metrics m;
  m.classes = classes;
  m.confusion = confusion;
  m.recall.assign(c, 0);
  m.precision.assign(c, 0);
  m.f1.assign(c, 0);
  m.support.assign(c, 0);
  std::vector<std::int64_t> predicted(c, 0);
  std::int64_t total = 0;
  std::int64_t correct = 0;
  for (std::size_t t = 0; t < c; ++t) {
    for (std::size_t p = 0; p < c; ++p) {
      const std::int64_t n = confusion[t * c + p];
      m.support[t] += n;
      predicted[p] += n;
      total += n;
      if (t == p) correct += n;
    }
  }
  double recall_sum = 0;
  double f1_sum = 0;
  int with_support = 0;
  for (std::size_t k = 0; k < c; ++k) {
    const double tp = static_cast<double>(confusion[k * c + k]);
    if (m.support[k] > 0) {
      m.recall[k] = tp / static_cast<double>(m.support[k]);
      recall_sum += m.recall[k];
      ++with_support;
    }
    if (predicted[k] > 0) m.precision[k] = tp / static_cast<double>(predicted[k]);
    const double pr = m.precision[k] + m.recall[k];
    m.f1[k] = pr > 0 ? 2 * m.precision[k] * m.recall[k] / pr : 0;
    if (m.support[k] > 0) f1_sum += m.f1[k];
  }
  m.accuracy = total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : 0;
  m.balanced_accuracy = with_support > 0 ? recall_sum / with_support : 0;
  m.macro_f1 = with_support > 0 ? f1_sum / with_support : 0;
  return m;
}

double top_k_accuracy(const std::vector<float>& probabilities,
                      const std::vector<std::int64_t>& labels,
                      const std::vector<std::int64_t>& predicted, int classes, int k) {
  const auto c = static_cast<std::size_t>(classes);
  if (probabilities.size() != labels.size() * c || predicted.size() != labels.size() || k < 1) {
    throw std::invalid_argument("top_k_accuracy: sizes");
  }
  std::int64_t rows = 0;
  std::int64_t hits = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (predicted[i] < 0) continue;
    ++rows;
    const float* p = probabilities.data() + i * c;
    const auto truth = static_cast<std::size_t>(labels[i]);
    // The true taxon's rank: taxa above it, by probability and, at equal
    // probability, by lower index.
    int above = 0;
    for (std::size_t j = 0; j < c; ++j) {
      if (p[j] > p[truth] || (p[j] == p[truth] && j < truth)) ++above;
    }
    if (above < k) ++hits;
  }
  return rows > 0 ? static_cast<double>(hits) / static_cast<double>(rows) : 0;
}

}  // namespace midge::stats
