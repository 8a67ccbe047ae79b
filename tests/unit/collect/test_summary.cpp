#include <gtest/gtest.h>

#include <filesystem>

#include "collect/summary.h"
#include "io/run_file.h"
#include "support/temp_dir.h"

namespace midge::collect {
namespace {

TEST(Collect, HigherLevelAccuracyFromTheSpeciesConfusionMatrix) {
  // Species a1, a2 (genus A), b1 (genus B). Confusing a1 with a2 is right
  // at genus level; a1 -> b1 is not.
  std::vector<std::int64_t> cm = {5, 3, 2,  //
                                  1, 8, 0,  //
                                  0, 1, 9};
  EXPECT_NEAR(merged_accuracy(cm, {"a1", "a2", "b1"}), 22.0 / 29.0, 1e-12);
  EXPECT_NEAR(merged_accuracy(cm, {"A", "A", "B"}), 26.0 / 29.0, 1e-12);
  EXPECT_NEAR(merged_accuracy(cm, {"X", "X", "X"}), 1.0, 1e-12);
}

// A complete run.h5 of 10 validation images of taxa a (0-4) and b (5-9)
// whose per-image correctness is `right` ('1' right, '0' wrong).
void write_run(const std::string& path, double dropout, long long seed, const std::string& right,
               const std::string& changed_hash = "", bool schema1 = false) {
  io::RunRecord r;
  r.config = "[data]\nroot = /data\n[model]\ndropout = " + std::to_string(dropout) +
             "\n[run]\nseed = " + std::to_string(seed) + "\n";
  r.status = io::RunStatus::kComplete;
  r.classes = {"a", "b"};
  r.has_eval = true;
  r.eval.confusion = {0, 0, 0, 0};
  std::int64_t correct = 0;
  for (int i = 0; i < 10; ++i) {
    const std::int64_t label = i < 5 ? 0 : 1;
    const std::int64_t predicted = right[static_cast<std::size_t>(i)] == '1' ? label : 1 - label;
    r.val_paths.push_back("/data/" + std::string(label == 0 ? "a" : "b") + "/" + std::to_string(i) +
                          ".png");
    r.val_labels.push_back(label);
    r.val_sha256.push_back(i == 0 && !changed_hash.empty() ? changed_hash
                                                           : std::string(64, 'a' + i));
    r.eval.confusion[static_cast<std::size_t>(label * 2 + predicted)] += 1;
    correct += predicted == label ? 1 : 0;
  }
  if (schema1) r.val_sha256.clear();
  r.eval.paths = r.val_paths;
  r.eval.labels = r.val_labels;
  r.eval.predicted.clear();
  for (std::size_t i = 0; i < 10; ++i) {
    r.eval.predicted.push_back(right[i] == '1' ? r.val_labels[i] : 1 - r.val_labels[i]);
  }
  r.eval.probabilities.assign(20, 0.5F);
  // Per-taxon columns: run.h5's schema has one value per taxon (read back checked).
  r.eval.per_class_accuracy.assign(2, 0.0);
  r.eval.precision.assign(2, 0.0);
  r.eval.f1.assign(2, 0.0);
  r.eval.support = {5, 5};
  r.eval.accuracy = static_cast<double>(correct) / 10;
  r.eval.balanced_accuracy = r.eval.accuracy;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  io::write_run_file(path, r);
}

TEST(Collect, GroupsOnTheSameImagesAreComparedWithTheBestSeedBySeed) {
  testing::TempDir dir;
  write_run(dir.str("a1/run.h5"), 0.5, 1, "1111111110");  // best: 0.95 over two seeds
  write_run(dir.str("a2/run.h5"), 0.5, 2, "1111111111");
  write_run(dir.str("b1/run.h5"), 0.2, 1, "1110000001");  // seed 1 matches a1
  write_run(dir.str("b3/run.h5"), 0.2, 3, "1111111111");  // seed 3: no partner
  // Same paths and taxa, but one image's content differs: another set.
  write_run(dir.str("c1/run.h5"), 0.1, 1, "0000000000", std::string(64, 'f'));
  const Collection c = collect_runs({dir.str()});
  ASSERT_EQ(c.groups.size(), 3U);
  ASSERT_EQ(c.paired.size(), 1U);
  const Comparison& x = c.paired[0];
  EXPECT_EQ(x.group, 1U);
  EXPECT_EQ(x.best, 0U);
  EXPECT_EQ(x.seed, 1);
  // b = 6 images only a1 got right (3-8), c = 1 only b1 (9):
  // p = 2 P[Binomial(7, 1/2) <= 1] = 2 * 8 / 128.
  EXPECT_EQ(x.test.a_only, 6);
  EXPECT_EQ(x.test.b_only, 1);
  EXPECT_NEAR(x.test.p_value, 0.125, 1e-12);
  EXPECT_EQ(verdict_against_best(c, 1), "indistinguishable");
  EXPECT_EQ(verdict_against_best(c, 1, 0.2), "worse");
  // Significant the other way round (the group ahead on its seed) is not
  // "worse".
  Collection flipped = c;
  std::swap(flipped.paired[0].test.a_only, flipped.paired[0].test.b_only);
  EXPECT_EQ(verdict_against_best(flipped, 1, 0.2), "better");
  flipped.paired.push_back(c.paired[0]);
  EXPECT_EQ(verdict_against_best(flipped, 1, 0.2), "mixed");
  EXPECT_EQ(verdict_against_best(c, 0), "");
  EXPECT_EQ(verdict_against_best(c, 2), "");
  EXPECT_EQ(c.groups[0].runs[0].val_set, c.groups[2].runs[0].val_set);  // same paths
  EXPECT_NE(c.groups[0].runs[0].val_content, c.groups[2].runs[0].val_content);
  const std::string text = format_tables(c);
  EXPECT_NE(text.find("group 2 vs group 1: seed 1: 6 only the best right, 1 only this, p = 0.125 "
                      "-> indistinguishable from the best"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2 different validation sets"), std::string::npos) << text;
}

TEST(Collect, RunFilesItCannotUseAreListedAndSkipped) {
  testing::TempDir dir;
  write_run(dir.str("a1/run.h5"), 0.5, 1, "1111111111");
  // A configuration key this midge does not know (a newer version's).
  {
    io::RunRecord r = io::read_run_file(dir.str("a1/run.h5"));
    r.config += "[data]\nfuture_key = 1\n";
    std::filesystem::create_directories(dir.str("new"));
    io::write_run_file(dir.str("new/run.h5"), r);
  }
  // Not an HDF5 file at all.
  std::filesystem::create_directories(dir.str("junk"));
  testing::write_text(dir.str("junk/run.h5"), "not a run");
  const Collection c = collect_runs({dir.str()});
  ASSERT_EQ(c.groups.size(), 1U);
  EXPECT_EQ(c.groups[0].runs.size(), 1U);
  ASSERT_EQ(c.skipped.size(), 2U);
  const std::string all = c.skipped[0] + "|" + c.skipped[1];
  EXPECT_NE(all.find("new/run.h5: unreadable configuration"), std::string::npos) << all;
  EXPECT_NE(all.find("future_key"), std::string::npos) << all;
  EXPECT_NE(all.find("junk/run.h5: unreadable"), std::string::npos) << all;
}

TEST(Collect, TheSameConfigurationOnOtherTaxaIsAnotherGroup) {
  testing::TempDir dir;
  write_run(dir.str("a1/run.h5"), 0.5, 1, "1111111111");
  write_run(dir.str("a2/run.h5"), 0.5, 2, "1111111110");
  io::RunRecord r = io::read_run_file(dir.str("a2/run.h5"));
  r.classes = {"a", "c"};
  std::filesystem::create_directories(dir.str("c3"));
  io::write_run_file(dir.str("c3/run.h5"), r);
  const Collection c = collect_runs({dir.str()});
  ASSERT_EQ(c.groups.size(), 2U);
  EXPECT_EQ(c.groups[0].runs.size(), 2U);
  EXPECT_EQ(c.groups[1].classes, (std::vector<std::string>{"a", "c"}));
}

TEST(Collect, RunsWithoutImageHashesAreComparedByPathsAndTaxa) {
  // A run of schema 1 (no hashes) on the same paths and taxa as a hashed
  // one is compared with it.
  testing::TempDir dir;
  write_run(dir.str("a1/run.h5"), 0.5, 1, "1111111111");
  write_run(dir.str("b1/run.h5"), 0.2, 1, "0000011111", "", true);
  const Collection c = collect_runs({dir.str()});
  ASSERT_EQ(c.groups.size(), 2U);
  EXPECT_TRUE(c.groups[1].runs[0].val_content.empty());
  ASSERT_EQ(c.paired.size(), 1U);
  EXPECT_EQ(c.paired[0].test.a_only, 5);
  EXPECT_EQ(verdict_against_best(c, 1), "indistinguishable");  // p = 0.0625
}

}  // namespace
}  // namespace midge::collect
