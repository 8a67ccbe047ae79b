// The sweep's ranking (sweep/summary.h): trials that differ only in
// run.seed form a configuration, ranked by mean accuracy over seeds, with
// each trial's Wilson interval and the best configuration's per-taxon
// accuracy pooled over its seeds.
#include <gtest/gtest.h>

#include <cmath>

#include "sweep/summary.h"

namespace midge::sweep {
namespace {

Trial trial(const std::string& id, const std::string& lr, const std::string& seed) {
  Trial t;
  t.id = id;
  t.params = {{"stage2.lr", lr}, {"run.seed", seed}};
  t.slug = "stage2.lr=" + lr + ",run.seed=" + seed;
  return t;
}

// Two taxa; `right0` of 4 images of taxon 0 and `right1` of 4 of taxon 1 correct.
collect::RunSummary run(const std::string& id, long long seed, int right0, int right1) {
  collect::RunSummary r;
  r.path = "sw/trials/" + id + "/run.h5";
  r.seed = seed;
  r.classes = {"a", "b"};
  r.confusion = {right0, 4 - right0, 4 - right1, right1};
  r.accuracy = (right0 + right1) / 8.0;
  r.balanced_accuracy = r.accuracy;
  return r;
}

TEST(SweepSummary, ConfigurationsRankedByMeanOverSeeds) {
  const std::vector<Trial> trials = {trial("t1", "0.0001", "1"), trial("t2", "0.0001", "2"),
                                     trial("t3", "0.001", "1"), trial("t4", "0.001", "2")};
  collect::Collection c;
  c.groups.resize(2);
  c.groups[0].classes = {"a", "b"};
  c.groups[0].runs = {run("t1", 1, 2, 2), run("t2", 2, 3, 3)};  // 0.5, 0.75
  c.groups[1].classes = {"a", "b"};
  c.groups[1].runs = {run("t3", 1, 4, 3), run("t4", 2, 4, 4)};  // 0.875, 1.0
  // As collect_runs would find on the same images: group 1 against the
  // best, group 2, per seed (p 0.031 and 0.5).
  c.paired = {{0, 1, 1, {6, 0, 0.03125}}, {0, 1, 2, {2, 0, 0.5}}};
  const SweepSummary s = summarize_sweep(trials, c);
  EXPECT_EQ(s.points[0].versus_best, "best");
  EXPECT_EQ(s.points[1].versus_best, "mixed");
  EXPECT_DOUBLE_EQ(s.points[1].smallest_p, 0.03125);
  EXPECT_DOUBLE_EQ(s.points[1].largest_p, 0.5);
  ASSERT_EQ(s.keys, std::vector<std::string>{"stage2.lr"});
  ASSERT_EQ(s.points.size(), 2U);
  EXPECT_EQ(s.points[0].parameters, "stage2.lr=0.001");
  EXPECT_EQ(s.points[0].group, 2);
  EXPECT_DOUBLE_EQ(s.points[0].accuracy_mean, 0.9375);
  EXPECT_NEAR(s.points[0].accuracy_sd, std::sqrt(2 * 0.0625 * 0.0625), 1e-12);
  EXPECT_EQ(s.points[1].values, std::vector<std::string>{"0.0001"});
  // Trial t1: 4 of 8 right; the interval is Wilson's around 0.5.
  const TrialResult& t1 = s.trials[s.points[1].trials[0]];
  EXPECT_EQ(t1.id, "t1");
  EXPECT_EQ(t1.point, 1U);
  const stats::Interval w = stats::wilson(4, 8);
  EXPECT_DOUBLE_EQ(t1.ci.low, w.low);
  EXPECT_DOUBLE_EQ(t1.ci.high, w.high);
  // The best configuration per taxon, over both seeds: a 8/8, b 7/8.
  EXPECT_EQ(s.taxa, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.correct, (std::vector<std::int64_t>{8, 7}));
  EXPECT_EQ(s.support, (std::vector<std::int64_t>{8, 8}));
  const std::string text = ranking_text(s);
  EXPECT_NE(text.find("stage2.lr=0.001"), std::string::npos) << text;
  EXPECT_NE(text.find("0.9375"), std::string::npos) << text;
  EXPECT_NE(text.find("mixed (p 0.031-0.5)"), std::string::npos) << text;
}

}  // namespace
}  // namespace midge::sweep
