#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "data/sampling.h"

namespace midge::data {
namespace {

std::vector<int> labels_of(const std::vector<int>& counts) {
  std::vector<int> labels;
  for (std::size_t c = 0; c < counts.size(); ++c)
    labels.insert(labels.end(), counts[c], static_cast<int>(c));
  return labels;
}

TEST(Sampling, EpochOrderIsASeededPermutation) {
  const auto labels = labels_of({10, 7, 13});
  auto a = epoch_order(labels, 3, 5, 0, true, Balance::kNone);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i)
    ASSERT_EQ(sorted[i], static_cast<std::int64_t>(i));
  EXPECT_EQ(a, epoch_order(labels, 3, 5, 0, true, Balance::kNone));
  EXPECT_NE(a, epoch_order(labels, 3, 5, 1, true, Balance::kNone));
  EXPECT_NE(a, epoch_order(labels, 3, 6, 0, true, Balance::kNone));
  auto fixed = epoch_order(labels, 3, 5, 0, false, Balance::kNone);
  EXPECT_EQ(fixed, sorted);
}

TEST(Sampling, OversampleBringsEveryTaxonToTheLargest) {
  const auto labels = labels_of({10, 3, 7});
  auto order = epoch_order(labels, 3, 1, 2, true, Balance::kOversample);
  ASSERT_EQ(order.size(), 30U);
  std::map<int, int> per_class;
  std::set<std::int64_t> distinct;
  for (auto i : order) {
    ++per_class[labels[static_cast<std::size_t>(i)]];
    distinct.insert(i);
  }
  EXPECT_EQ(per_class[0], 10);
  EXPECT_EQ(per_class[1], 10);
  EXPECT_EQ(per_class[2], 10);
  EXPECT_EQ(distinct.size(), 20U);  // every sample at least once
}

TEST(Sampling, TwoRankShardsAreDisjointAndCoverTheOrder) {
  for (std::int64_t total : {20, 21}) {
    auto r0 = shard_positions(total, 0, 2, true);
    auto r1 = shard_positions(total, 1, 2, true);
    EXPECT_EQ(r0.size(), r1.size()) << total;  // same number of batches on both ranks
    std::set<std::int64_t> all(r0.begin(), r0.end());
    for (auto p : r1) EXPECT_TRUE(all.insert(p).second) << "position " << p << " on both ranks";
    EXPECT_EQ(all.size(), static_cast<std::size_t>(total - total % 2));
    EXPECT_EQ(*all.rbegin(), total - total % 2 - 1);
  }
  // Evaluation keeps every sample; ranks differ by at most one.
  auto e0 = shard_positions(21, 0, 2, false);
  auto e1 = shard_positions(21, 1, 2, false);
  EXPECT_EQ(e0.size() + e1.size(), 21U);
}

TEST(Sampling, RankBatchesTogetherAreTheSingleRankBatch) {
  const int world = 4;
  const std::int64_t global_batch = 8;
  const std::int64_t per_rank = global_batch / world;
  std::vector<std::vector<std::int64_t>> shards;
  for (int r = 0; r < world; ++r) shards.push_back(shard_positions(40, r, world, true));
  for (std::int64_t k = 0; k < 5; ++k) {
    std::set<std::int64_t> together;
    for (const auto& s : shards) {
      for (std::int64_t j = 0; j < per_rank; ++j)
        together.insert(s[static_cast<std::size_t>(k * per_rank + j)]);
    }
    std::set<std::int64_t> single;
    for (std::int64_t p = k * global_batch; p < (k + 1) * global_batch; ++p) single.insert(p);
    EXPECT_EQ(together, single) << "batch " << k;
  }
}

TEST(Sampling, ClassWeightsAreInverseFrequency) {
  auto w = class_weights(labels_of({30, 10, 0}), 3);
  EXPECT_FLOAT_EQ(w[0], 40.0F / (3 * 30));
  EXPECT_FLOAT_EQ(w[1], 40.0F / (3 * 10));
  EXPECT_FLOAT_EQ(w[2], 0.0F);
  auto even = class_weights(labels_of({5, 5}), 2);
  EXPECT_FLOAT_EQ(even[0], 1.0F);
}

}  // namespace
}  // namespace midge::data
