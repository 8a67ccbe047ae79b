// McNemar's exact test on per-image correctness: the paired comparison of
// two configurations on the same validation images (collect/summary.h).
//
// Two runs evaluated on the same images disagree on some of them: b images
// A got right and B got wrong, c the reverse. Images both got right or both
// got wrong say nothing about which is better. Under "A and B are equally
// good" each disagreement goes either way with probability 1/2, so
// min(b, c) is Binomial(b + c, 1/2) and the two-sided exact p-value is
// p = min(1, 2 * P[X <= min(b, c)]). Exact rather than the chi-square
// approximation, because with a few hundred validation images b + c is
// often below 25, where the approximation is poor.
#pragma once

#include <cstdint>
#include <vector>

namespace midge::stats {

struct McNemar {
  std::int64_t a_only = 0;  // b: images A classified correctly and B did not
  std::int64_t b_only = 0;  // c: the reverse
  double p_value = 1;       // two-sided exact; 1 when they never disagree
};

// The two-sided exact p-value for b and c disagreements (b, c >= 0).
double mcnemar_exact_p(std::int64_t b, std::int64_t c);

// The test on two per-image correctness vectors over the same images, in
// the same order. Throws UsageError when their lengths differ.
McNemar mcnemar(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct);

}  // namespace midge::stats
