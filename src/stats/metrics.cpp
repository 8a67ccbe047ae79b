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
  }
  m.accuracy = total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : 0;
  m.balanced_accuracy = with_support > 0 ? recall_sum / with_support : 0;
  return m;
}

}  // namespace midge::stats
