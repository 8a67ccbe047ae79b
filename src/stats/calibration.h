// Calibration of the validation probabilities (issue #15, first part):
// temperature scaling and the expected calibration error.
//
// A network's softmax outputs are often over-confident: of the images it
// gives 0.9, fewer than 90% are right. Temperature scaling (Guo et al.
// 2017) divides the logits by one number T > 0, chosen to minimise the
// mean negative log-likelihood of the validation labels; the argmax, and
// so every prediction and accuracy, stays the same. The expected
// calibration error (ECE) measures what is left: the images are put in 15
// equal-width bins by their top probability (bin k holds (k-1)/15 < p <=
// k/15), and ECE = sum over bins of (share of images) x |accuracy -
// mean top probability|. 0 is perfect.
//
// Plain vectors in and out (no torch), so the numbers are testable alone.
#pragma once

#include <cstdint>
#include <vector>

namespace midge::stats {

struct ReliabilityTable {
  std::vector<double> upper;        // bins: upper edge of each bin (k/15)
  std::vector<std::int64_t> count;  // images whose top probability falls in the bin
  std::vector<double> confidence;   // their mean top probability (0 for an empty bin)
  std::vector<double> accuracy;     // the share of them predicted right (0 for an empty bin)
  double ece = 0;
};

// The reliability table of N x C probabilities against N labels.
ReliabilityTable reliability(const std::vector<float>& probabilities,
                             const std::vector<std::int64_t>& labels, int classes, int bins = 15);

// softmax(logits / t), N x C.
std::vector<float> softmax_at(const std::vector<float>& logits, int classes, double t);

// Mean negative log-likelihood of the labels under softmax(logits / t).
double mean_nll(const std::vector<float>& logits, const std::vector<std::int64_t>& labels,
                int classes, double t);

// True when no image has a wrong logit above its label's (ties allowed):
// then the likelihood only grows as t falls to 0 (to 1 / the number tied
// at the top), and no temperature is the maximum-likelihood one.
bool all_right(const std::vector<float>& logits, const std::vector<std::int64_t>& labels,
               int classes);

// The temperature in [0.01, 100] minimising mean_nll. The NLL is convex in
// 1/t, so a golden-section search on log(1/t) finds it. When all_right(),
// it returns 1 (no scaling): the minimum would be t -> 0, which makes every
// probability 1 and says nothing the validation images can support.
double fit_temperature(const std::vector<float>& logits, const std::vector<std::int64_t>& labels,
                       int classes);

}  // namespace midge::stats
