// Which samples an epoch visits, in what order, and which of them each rank
// reads.
//
// The epoch order is one global list drawn from (seed, epoch) alone, so it
// is the same on every rank. Ranks take it strided: rank r reads positions
// r, r + W, r + 2W, ... With a per-rank batch of B/W, the k-th batches of all
// ranks together hold exactly positions [kB, (k+1)B) - the k-th batch a
// single rank with batch B would read - which is what makes W-rank training
// match one-rank training. For training the list is cut to a multiple of W
// (at most W-1 samples of the shuffled order wait for the next epoch) so
// every rank gets the same number of batches and none waits forever in an
// allreduce; for evaluation nothing is cut and ranks differ by at most one
// sample (metrics are reduced, not averaged per batch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midge::data {

enum class Balance { kNone, kOversample, kWeighted };

// "none" | "oversample" | "weighted"; throws UsageError otherwise.
Balance parse_balance(const std::string& name);

// Independent random streams derived from the run seed.
enum class Stream : std::uint64_t { kOrder = 1, kOversample = 2, kAugment = 3 };

// Sample indices of one epoch. Oversampling repeats each taxon's samples up
// to the size of the largest taxon (every sample at least once, the
// remainder drawn without replacement); shuffle = false keeps the given
// order (evaluation).
std::vector<std::int64_t> epoch_order(const std::vector<int>& labels, int num_classes,
                                      std::uint64_t seed, std::int64_t epoch, bool shuffle,
                                      Balance balance);

// Positions (into the epoch order) read by `rank` of `world`.
std::vector<std::int64_t> shard_positions(std::int64_t total, int rank, int world, bool even);

// Loss weights for balance = weighted: n / (C * n_c) per taxon, so a
// balanced set gets all ones; 0 for a taxon without samples.
std::vector<float> class_weights(const std::vector<int>& labels, int num_classes);

}  // namespace midge::data
