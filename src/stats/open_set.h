// Open-set recognition (issue #15): telling a specimen of a taxon the
// model never saw from one it knows.
//
// A trained classifier always names one of its taxa. Each image gets a
// score of how "known" it looks, and images below a threshold are called
// unknown. Two published scores, both higher for known images:
//   msp    the maximum softmax probability p (Hendrycks & Gimpel 2017) of
//          the temperature-scaled logits (stats/calibration.h), as its
//          log-odds log(p / (1 - p)): the same order and thresholds as p,
//          but a well-trained network's top probabilities, which round to
//          1.0 in double precision once the top logit leads by ~37 / T,
//          stay distinct (a validation set the network gets all right
//          fits a small T, so this is common);
//   energy the negative free energy logsumexp(z) of the logits (Liu et al.
//          2020, at their energy temperature 1), which keeps the size of the
//          logits that the softmax normalizes away.
// The threshold is chosen on the validation images (all of known taxa) so
// that a target share of them is accepted (predict.accept_rate): accept
// score >= threshold, the threshold being the k-th highest score, k =
// round(rate x n). With taxa held out of training (data.holdout_taxa) the
// separation is measured: AUROC of known against held-out images, and the
// share of held-out images accepted at the threshold (false positives).
//
// Plain vectors, no torch, so every number is testable alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midge::stats {

// "msp" or "energy"; throws std::invalid_argument for anything else.
// `temperature` divides the logits for msp only.
std::vector<double> open_set_scores(const std::vector<float>& logits, int classes,
                                    const std::string& method, double temperature);

// The k-th highest score, k = max(1, round(rate x n)): accepting score >=
// it accepts k of the n images (more only when scores tie at it). Throws
// std::invalid_argument for no scores or a rate outside (0, 1].
double acceptance_threshold(const std::vector<double>& scores, double rate);

// Share of `scores` at or above `threshold` (0 for none).
double share_accepted(const std::vector<double>& scores, double threshold);

// Area under the ROC curve of `known` (positives) against `unknown`: the
// probability that a random known image scores above a random unknown one,
// ties counting one half (the Mann-Whitney U / (n1 n2)). NaN when either is
// empty.
double auroc(const std::vector<double>& known, const std::vector<double>& unknown);

}  // namespace midge::stats
