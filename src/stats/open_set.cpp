#include "stats/open_set.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace midge::stats {

std::vector<double> open_set_scores(const std::vector<float>& logits, int classes,
                                    const std::string& method, double temperature) {
  if (method != "msp" && method != "energy")
    throw std::invalid_argument("open set: unknown score '" + method + "' (msp|energy)");
  if (classes < 1 || logits.size() % static_cast<std::size_t>(classes) != 0) {
    throw std::invalid_argument("open set: " + std::to_string(logits.size()) +
                                " logits are not rows of " + std::to_string(classes));
  }
  const auto c = static_cast<std::size_t>(classes);
  const double t = method == "msp" ? temperature : 1.0;
  std::vector<double> out;
  out.reserve(logits.size() / c);
  for (std::size_t i = 0; i < logits.size(); i += c) {
    const float* z = logits.data() + i;
    const auto argmax = static_cast<std::size_t>(std::max_element(z, z + c) - z);
    const double top = z[argmax] / t;
    if (method == "energy") {
      // sum of exp(z_k - max) >= 1: no overflow, and its log is exact.
      double sum = 0;
      for (std::size_t k = 0; k < c; ++k) sum += std::exp(z[k] / t - top);
      out.push_back(top + std::log(sum));
      continue;
    }
    // log(p / (1 - p)) of the top probability p = log-sum of the others'
    // exp((z_k - z_top) / t), negated: the others' largest term factored
    // out, so nothing underflows however far ahead the top class is.
    if (c == 1) {
      out.push_back(std::numeric_limits<double>::infinity());
      continue;
    }
    double second = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < c; ++k)
      if (k != argmax) second = std::max(second, z[k] / t);
    double rest = 0;
    for (std::size_t k = 0; k < c; ++k)
      if (k != argmax) rest += std::exp(z[k] / t - second);
    out.push_back(top - second - std::log(rest));
  }
  return out;
}

double acceptance_threshold(const std::vector<double>& scores, double rate) {
  if (scores.empty()) throw std::invalid_argument("open set: no scores to choose a threshold on");
  if (!(rate > 0 && rate <= 1))
    throw std::invalid_argument("open set: acceptance rate must be in (0, 1]");
  std::vector<double> sorted = scores;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const auto n = static_cast<double>(sorted.size());
  const auto k = static_cast<std::size_t>(
      std::clamp(std::llround(rate * n), 1LL, static_cast<long long>(sorted.size())));
  return sorted[k - 1];
}

double share_accepted(const std::vector<double>& scores, double threshold) {
  if (scores.empty()) return 0;
  const auto n =
      std::count_if(scores.begin(), scores.end(), [threshold](double s) { return s >= threshold; });
  return static_cast<double>(n) / static_cast<double>(scores.size());
}

double auroc(const std::vector<double>& known, const std::vector<double>& unknown) {
  if (known.empty() || unknown.empty()) return std::numeric_limits<double>::quiet_NaN();
  // Rank-sum form: sort the unknown scores once, then each known score
  // beats the unknown ones below it and ties with those equal to it.
  std::vector<double> u = unknown;
  std::sort(u.begin(), u.end());
  double wins = 0;
  for (double s : known) {
    const auto below = std::lower_bound(u.begin(), u.end(), s) - u.begin();
    const auto equal = std::upper_bound(u.begin(), u.end(), s) - u.begin() - below;
    wins += static_cast<double>(below) + 0.5 * static_cast<double>(equal);
  }
  return wins / (static_cast<double>(known.size()) * static_cast<double>(u.size()));
}

}  // namespace midge::stats
