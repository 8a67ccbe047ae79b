#include <gtest/gtest.h>

#include <cmath>

#include "stats/fusion.h"

namespace midge::stats {
namespace {

TEST(Fusion, MeanLogProbabilityOfEachSpecimensImages) {
  // Specimen a (taxon 0): two images, one confidently right, one mildly
  // wrong; the mean log-probability picks taxon 0. Specimen b (taxon 1):
  // one image. Specimen c: its only image unreadable.
  const std::vector<std::string> specimens = {"a", "b", "a", "c"};
  const std::vector<std::int64_t> labels = {0, 1, 0, 1};
  const std::vector<std::int64_t> predicted = {0, 0, 1, -1};
  const std::vector<float> p = {0.9F, 0.1F,  //
                                0.6F, 0.4F,  //
                                0.4F, 0.6F,  //
                                0.0F, 0.0F};
  const SpecimenFusion f = fuse_specimens(specimens, labels, predicted, p, 2);
  ASSERT_EQ(f.names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(f.labels, (std::vector<std::int64_t>{0, 1, 1}));
  EXPECT_EQ(f.images, (std::vector<std::int64_t>{2, 1, 0}));
  EXPECT_EQ(f.predicted, (std::vector<std::int64_t>{0, 0, -1}));
  EXPECT_NEAR(f.log_probabilities[0], (std::log(0.9) + std::log(0.4)) / 2, 1e-6);
  EXPECT_NEAR(f.log_probabilities[1], (std::log(0.1) + std::log(0.6)) / 2, 1e-6);
  EXPECT_NEAR(f.log_probabilities[3], std::log(0.4), 1e-6);
  // Confusion over the specimens with an answer: a right, b wrong.
  EXPECT_EQ(f.confusion, (std::vector<std::int64_t>{1, 0, 1, 0}));
}

TEST(Fusion, AZeroProbabilityIsAStrongVoteNotMinusInfinity) {
  const SpecimenFusion f = fuse_specimens({"s", "s"}, {1, 1}, {1, 0}, {0.0F, 1.0F, 0.6F, 0.4F}, 2);
  EXPECT_TRUE(std::isfinite(f.log_probabilities[0]));
  EXPECT_EQ(f.predicted[0], 1);
}

TEST(Fusion, RefusesMismatchedSizesAndASpecimenOfTwoTaxa) {
  EXPECT_THROW(fuse_specimens({"a"}, {0, 1}, {0}, {1.0F, 0.0F}, 2), std::invalid_argument);
  EXPECT_THROW(fuse_specimens({"a", "a"}, {0, 1}, {0, 1}, {1, 0, 0, 1}, 2), std::invalid_argument);
}

TEST(Fusion, FusedProbabilitiesAreTheNormalisedGeometricMean) {
  // Specimen a: images (0.9, 0.1) and (0.6, 0.4): sqrt(0.54) : sqrt(0.04).
  // Specimen b: its only image unreadable: uniform.
  const SpecimenFusion f =
      fuse_specimens({"a", "a", "b"}, {0, 0, 1}, {0, 0, -1}, {0.9F, 0.1F, 0.6F, 0.4F, 0, 0}, 2);
  const std::vector<float> p = fused_probabilities(f, 2);
  ASSERT_EQ(p.size(), 4U);
  const double a0 = std::sqrt(0.9 * 0.6);
  const double a1 = std::sqrt(0.1 * 0.4);
  EXPECT_NEAR(p[0], a0 / (a0 + a1), 1e-6);
  EXPECT_NEAR(p[1], a1 / (a0 + a1), 1e-6);
  EXPECT_FLOAT_EQ(p[2], 0.5F);
  EXPECT_FLOAT_EQ(p[3], 0.5F);
  // Mean log-probabilities far below float range still give a distribution.
  SpecimenFusion g = f;
  g.log_probabilities = {-2000.0, -2001.0, 0, 0};
  const std::vector<float> q = fused_probabilities(g, 2);
  EXPECT_NEAR(q[0], 1 / (1 + std::exp(-1.0)), 1e-6);
}

}  // namespace
}  // namespace midge::stats
