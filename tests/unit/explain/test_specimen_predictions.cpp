#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "explain/identify.h"
#include "explain/specimen_predictions.h"

namespace midge::explain {
namespace {

// Two images of specimen s (taxa x, y, z) and one unreadable image of t.
std::vector<Prediction> two_views() {
  Prediction a;
  a.path = "s_1.png";
  a.all = {0.7, 0.2, 0.1};
  Prediction b;
  b.path = "s_2.png";
  b.all = {0.5, 0.4, 0.1};
  Prediction c;
  c.path = "t_1.png";
  c.error = "cannot decode";
  return {a, b, c};
}

const std::vector<std::string> kTaxa = {"x", "y", "z"};

TEST(SpecimenPredictions, SetsFromTheThresholdOnTheFusedProbabilities) {
  // Fused: sqrt(.35), sqrt(.08), sqrt(.01) normalised = 0.6071, 0.2903, 0.1026.
  const auto p = two_views();
  const std::vector<std::string> specimens = {"s", "s", "t"};
  const auto with = fuse_predictions(p, specimens, kTaxa, 3, 0.75);  // p >= 0.25
  ASSERT_EQ(with.size(), 2U);
  EXPECT_EQ(with[0].images, 2);
  EXPECT_NEAR(with[0].probabilities[0], 0.6071, 1e-3);
  EXPECT_TRUE(with[0].has_set);
  EXPECT_EQ(with[0].set, (std::vector<std::string>{"x", "y"}));
  // t: no image read, no taxa and no set.
  EXPECT_EQ(with[1].images, 0);
  EXPECT_TRUE(with[1].taxa.empty());
  EXPECT_FALSE(with[1].has_set);
  // +inf (too few validation specimens): every taxon.
  const auto all =
      fuse_predictions(p, specimens, kTaxa, 3, std::numeric_limits<double>::infinity());
  EXPECT_EQ(all[0].set, (std::vector<std::string>{"x", "y", "z"}));
  // A threshold no taxon reaches: a set, empty.
  const auto empty = fuse_predictions(p, specimens, kTaxa, 3, 0.1);  // p >= 0.9
  EXPECT_TRUE(empty[0].has_set);
  EXPECT_TRUE(empty[0].set.empty());
  // NaN: the model has no specimen sets.
  const auto none =
      fuse_predictions(p, specimens, kTaxa, 3, std::numeric_limits<double>::quiet_NaN());
  EXPECT_FALSE(none[0].has_set);
  EXPECT_TRUE(none[0].set.empty());
}

}  // namespace
}  // namespace midge::explain
