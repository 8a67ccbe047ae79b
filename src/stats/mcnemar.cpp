#include "stats/mcnemar.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"

namespace midge::stats {

double mcnemar_exact_p(std::int64_t b, std::int64_t c) {
  if (b < 0 || c < 0) throw UsageError("McNemar's test needs counts >= 0");
  const std::int64_t n = b + c;
  const std::int64_t m = std::min(b, c);
  if (2 * m >= n) return 1.0;  // no imbalance at all (also n = 0)
  // P[X <= m] for X ~ Binomial(n, 1/2), summed in log space: 2^-n
  // underflows a double beyond n = 1074, and C(n, k) overflows long before.
  const double log_half_n = -static_cast<double>(n) * std::log(2.0);
  const double lg_n1 = std::lgamma(static_cast<double>(n) + 1);
  auto log_term = [&](std::int64_t k) {
    return lg_n1 - std::lgamma(static_cast<double>(k) + 1) -
           std::lgamma(static_cast<double>(n - k) + 1) + log_half_n;
  };
  // The terms grow with k up to m < n/2, so the largest is the last one.
  const double top = log_term(m);
  double sum = 0;
  for (std::int64_t k = 0; k <= m; ++k) sum += std::exp(log_term(k) - top);
  return std::min(1.0, 2.0 * std::exp(top + std::log(sum)));
}

McNemar mcnemar(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct) {
  if (a_correct.size() != b_correct.size()) {
    throw UsageError(
        "McNemar's test needs the same images for both runs: " + std::to_string(a_correct.size()) +
        " against " + std::to_string(b_correct.size()) + " results");
  }
  McNemar r;
  for (std::size_t i = 0; i < a_correct.size(); ++i) {
    if (a_correct[i] && !b_correct[i]) ++r.a_only;
    if (!a_correct[i] && b_correct[i]) ++r.b_only;
  }
  r.p_value = mcnemar_exact_p(r.a_only, r.b_only);
  return r;
}

}  // namespace midge::stats
