// Sweep specs: expansion (grid x random x repeat), stable ids, values
// checked by the option table of `midge train` before anything runs.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/errors.h"
#include "sweep/spec.h"

namespace midge::sweep {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_sweep_spec(text, "spec.ini");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SweepSpec, GridTimesRandomTimesSeeds) {
  const SweepSpec s = parse_sweep_spec(
      "# learning rates x dropout\n"
      "[grid]\n"
      "stage2.lr = 0.0001, 3e-4\n"
      "model.arch = resnet18, ResNet50\n"
      "[random]\n"
      "trials = 3\n"
      "model.dropout = uniform(0.1, 0.6)\n"
      "stage1.lr = loguniform(1e-4, 1e-2)\n"
      "stage2.epochs = int(2, 5)\n"
      "data.balance = choice(none, weighted)\n"
      "[repeat]\n"
      "seeds = 1, 2\n",
      "spec.ini");
  const auto trials = expand(s, 7);
  ASSERT_EQ(trials.size(), 2U * 2U * 3U * 2U);
  std::set<std::string> ids;
  for (const auto& t : trials) {
    ids.insert(t.id);
    ASSERT_EQ(t.params.size(), 7U) << t.slug;
    EXPECT_EQ(t.params.back().first, "run.seed");
    const double dropout = std::stod(t.params[2].second);
    EXPECT_GE(dropout, 0.1);
    EXPECT_LT(dropout, 0.6);
    const double lr1 = std::stod(t.params[3].second);
    EXPECT_GE(lr1, 1e-4);
    EXPECT_LT(lr1, 1e-2);
    const int epochs = std::stoi(t.params[4].second);
    EXPECT_GE(epochs, 2);
    EXPECT_LE(epochs, 5);
    EXPECT_TRUE(t.params[5].second == "none" || t.params[5].second == "weighted");
  }
  EXPECT_EQ(ids.size(), trials.size());
  // Values are canonical (3e-4 -> 0.0003, ResNet50 -> resnet50); the last
  // grid key varies fastest, then seeds; a draw is shared by its grid points.
  EXPECT_EQ(trials[0].params[0], (std::pair<std::string, std::string>{"stage2.lr", "0.0001"}));
  EXPECT_EQ(trials[2].params[1].second, "resnet50");
  EXPECT_EQ(trials[4].params[0].second, "0.0003");
  EXPECT_EQ(trials[0].params[2], trials[7].params[2]);
  EXPECT_NE(trials[0].params[2], trials[8].params[2]);
  EXPECT_EQ(trials[1].params.back().second, "2");
  // The same spec and seed give the same trials; another seed other draws.
  const auto again = expand(s, 7);
  for (std::size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(trials[i].id, again[i].id);
  EXPECT_NE(expand(s, 8)[0].id, trials[0].id);
}

TEST(SweepSpec, FoldsExpandEveryConfigurationIntoKTrials) {
  const auto t =
      expand(parse_sweep_spec(
                 "[grid]\nstage2.lr = 0.0001, 0.0003\n[repeat]\nseeds = 7\n[folds]\nk = 5\n", "s"),
             0);
  ASSERT_EQ(t.size(), 10U);
  // Configuration by configuration, the folds fastest: offsets 0..4.
  for (std::size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(t[i].slug,
              std::string("stage2.lr=") + (i < 5 ? "0.0001" : "0.0003") +
                  ",run.seed=7,data.split_every=5,data.split_offset=" + std::to_string(i % 5));
  }
  std::set<std::string> ids;
  for (const auto& trial : t) ids.insert(trial.id);
  EXPECT_EQ(ids.size(), 10U);
  // Folds alone are a sweep: the paper's split is fold 4 of 5.
  EXPECT_EQ(expand(parse_sweep_spec("[folds]\nk = 5\n", "s"), 0).back().slug,
            "data.split_every=5,data.split_offset=4");
  EXPECT_NE(error_of("[folds]\nk = 1\n").find("[2, 1000]"), std::string::npos);
  EXPECT_NE(error_of("[folds]\nfolds = 5\n").find("takes only 'k'"), std::string::npos);
  EXPECT_NE(error_of("[grid]\ndata.split_offset = 0, 1\n[folds]\nk = 5\n").find("do not sweep"),
            std::string::npos);
}

TEST(SweepSpec, IdsArePinned) {
  // Trial folders of past sweeps are found again by id: the hash (mix64 of
  // the slug's FNV-1a 64, 12 hex digits) must not change.
  const auto t =
      expand(parse_sweep_spec("[grid]\nstage2.lr = 0.0003\n[repeat]\nseeds = 2\n", "s"), 0);
  ASSERT_EQ(t.size(), 1U);
  EXPECT_EQ(t[0].slug, "stage2.lr=0.0003,run.seed=2");
  EXPECT_EQ(t[0].id, "4afcbbb027ff");  // computed separately (Python)
  EXPECT_EQ(t[0].overrides(), (std::vector<std::string>{"stage2.lr=0.0003", "run.seed=2"}));
}

TEST(SweepSpec, BadKeysAndValuesAreNamed) {
  EXPECT_NE(error_of("[grid]\nstage2.lrr = 0.1\n")
                .find("spec.ini:2: [grid]: unknown key 'stage2.lrr' (did you mean 'stage2.lr'"),
            std::string::npos)
      << error_of("[grid]\nstage2.lrr = 0.1\n");
  // One sweep, one seed and one halving policy.
  EXPECT_NE(error_of("[grid]\nsweep.halving_rate = 2, 3\n").find("cannot vary between trials"),
            std::string::npos)
      << error_of("[grid]\nsweep.halving_rate = 2, 3\n");
  const std::string range = error_of("[grid]\nmodel.dropout = 0.5, 1.5\n");
  EXPECT_NE(range.find("spec.ini:2: [grid] model.dropout"), std::string::npos) << range;
  EXPECT_NE(range.find("1.5"), std::string::npos) << range;
  EXPECT_NE(error_of("[random]\ntrials = 2\nmodel.dropout = gauss(0, 1)\n")
                .find("unknown distribution 'gauss'"),
            std::string::npos);
  EXPECT_NE(error_of("[random]\ntrials = 2\nmodel.dropout = uniform(0.5, 0.1)\n").find("a < b"),
            std::string::npos);
  EXPECT_NE(error_of("[random]\nmodel.dropout = uniform(0.1, 0.5)\n").find("needs 'trials = N'"),
            std::string::npos);
  EXPECT_NE(error_of("[grid]\nrun.seed = 1, 2\n[repeat]\nseeds = 3\n").find("use one of them"),
            std::string::npos);
  EXPECT_NE(error_of("[sweep]\n").find("unknown section [sweep]"), std::string::npos);
  EXPECT_NE(error_of("[grid]\nmodel.arch = resnet18\nmodel.arch = resnet50\n").find("swept twice"),
            std::string::npos);
  EXPECT_NE(error_of("# nothing\n").find("nothing to sweep"), std::string::npos);
}

TEST(SweepSpec, ListKeysTakeSemicolonSeparatedValues) {
  const auto t = expand(parse_sweep_spec("[grid]\ndata.mean = 0.5,0.5,0.5; 0.4,0.4,0.4\n", "s"), 0);
  ASSERT_EQ(t.size(), 2U);
  EXPECT_EQ(t[1].params[0].second, "0.4,0.4,0.4");
}

TEST(SweepSpec, EveryTrialConfigurationIsResolvedAndValidated) {
  // stage2.batch_size 8 does not split over 3 ranks: the trial is named.
  const auto trials = expand(parse_sweep_spec("[grid]\nstage2.batch_size = 6, 8\n", "s"), 0);
  try {
    resolve_trials(std::nullopt, {"data.root=/", "stage1.batch_size=6"}, trials, 3);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("stage2.batch_size=8): stage2.batch_size (8) must be "
                                         "divisible by the number of ranks (3)"),
              std::string::npos)
        << e.what();
  }
  const auto configs =
      resolve_trials(std::nullopt, {"data.root=/", "stage1.batch_size=6"}, trials, 2);
  ASSERT_EQ(configs.size(), 2U);
  EXPECT_EQ(configs[1].stage2.batch_size, 8);
}

}  // namespace
}  // namespace midge::sweep
