#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collect/summary.h"

namespace midge::collect {
namespace {

// One fold's run: validation images `paths` of taxa `labels`, predicted
// `predicted` (-1: unreadable).
RunSummary fold_run(const std::string& config, long long fold, long long folds,
                    const std::vector<std::string>& paths, const std::vector<std::int64_t>& labels,
                    const std::vector<std::int64_t>& predicted) {
  RunSummary r;
  r.path = config + "/fold" + std::to_string(fold) + "/run.h5";
  r.cv_key = config;
  r.seed = 1;
  r.folds = folds;
  r.fold = fold;
  r.classes = {"a", "b"};
  r.eval_paths = paths;
  r.eval_labels = labels;
  r.eval_predicted = predicted;
  return r;
}

// Six images x1..x6 (taxa a a a b b b) in three folds of two.
Group configuration(const std::string& name, const std::vector<std::int64_t>& predicted) {
  Group g;
  g.key = name;
  g.classes = {"a", "b"};
  const std::vector<std::vector<std::string>> paths = {{"x1", "x4"}, {"x2", "x5"}, {"x3", "x6"}};
  for (long long f = 0; f < 3; ++f) {
    const auto i = static_cast<std::size_t>(f);
    g.runs.push_back(fold_run(name, f, 3, paths[i], {0, 1}, {predicted[i], predicted[i + 3]}));
  }
  return g;
}

TEST(CrossValidation, PoolsEveryImageOnceAndRanksByOutOfFoldAccuracy) {
  Collection c;
  // good: x1..x6 predicted a a b | b b b -> 5 of 6 right.
  // poor: a b b | b a a -> 2 of 6 right (x1, x4).
  c.groups.push_back(configuration("poor", {0, 1, 1, 1, 0, 0}));
  c.groups.push_back(configuration("good", {0, 0, 1, 1, 1, 1}));
  pool_folds(&c);
  ASSERT_EQ(c.pooled.size(), 2U);
  const PooledFolds& best = c.pooled[0];
  EXPECT_EQ(best.cv_key, "good");
  EXPECT_TRUE(best.problem.empty());
  EXPECT_EQ(best.paths, (std::vector<std::string>{"x1", "x2", "x3", "x4", "x5", "x6"}));
  EXPECT_EQ(best.images, 6);
  EXPECT_NEAR(best.accuracy, 5.0 / 6.0, 1e-12);
  EXPECT_EQ(best.confusion, (std::vector<std::int64_t>{2, 1, 0, 3}));
  EXPECT_EQ(best.runs.size(), 3U);
  EXPECT_NEAR(c.pooled[1].accuracy, 2.0 / 6.0, 1e-12);
  // McNemar on the same six images: good alone is right on x2, x5 and x6;
  // poor is right only where good is too (x1, x4).
  ASSERT_EQ(c.pooled_paired.size(), 1U);
  EXPECT_EQ(c.pooled_paired[0].pooled, 1U);
  EXPECT_EQ(c.pooled_paired[0].best, 0U);
  EXPECT_EQ(c.pooled_paired[0].test.a_only, 3);
  EXPECT_EQ(c.pooled_paired[0].test.b_only, 0);
}

TEST(CrossValidation, AnUnreadableImageIsCountedButNotScored) {
  Collection c;
  c.groups.push_back(configuration("c", {0, -1, 0, 1, 1, 1}));
  pool_folds(&c);
  ASSERT_EQ(c.pooled.size(), 1U);
  EXPECT_EQ(c.pooled[0].images, 6);
  EXPECT_EQ(c.pooled[0].unread, 1);
  EXPECT_NEAR(c.pooled[0].accuracy, 5.0 / 5.0, 1e-12);
}

TEST(CrossValidation, AMissingFoldOrAnImageInTwoFoldsIsNotPooled) {
  Collection missing;
  missing.groups.push_back(configuration("c", {0, 0, 0, 1, 1, 1}));
  missing.groups[0].runs.erase(missing.groups[0].runs.begin() + 1);
  pool_folds(&missing);
  ASSERT_EQ(missing.pooled.size(), 1U);
  EXPECT_EQ(missing.pooled[0].problem, "2 of 3 folds present (missing: 1)");

  Collection twice;
  twice.groups.push_back(configuration("c", {0, 0, 0, 1, 1, 1}));
  twice.groups[0].runs[2].eval_paths[0] = "x1";
  pool_folds(&twice);
  ASSERT_EQ(twice.pooled.size(), 1U);
  EXPECT_EQ(twice.pooled[0].problem, "x1 is validated by fold 0 and fold 2");
}

TEST(CrossValidation, RunsOfOneFoldOnlyAreNoCrossValidation) {
  Collection c;
  Group g = configuration("c", {0, 0, 0, 1, 1, 1});
  g.runs.resize(1);
  g.runs.push_back(g.runs[0]);  // a copy of the same fold
  c.groups.push_back(g);
  pool_folds(&c);
  EXPECT_TRUE(c.pooled.empty());
}

}  // namespace
}  // namespace midge::collect
