#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/errors.h"
#include "io/compare.h"
#include "io/hdf5.h"
#include "io/run_file.h"
#include "support/temp_dir.h"

namespace midge::io {
namespace {

RunRecord example() {
  RunRecord r;
  r.config = "[run]\nseed = 3\n";
  r.status = RunStatus::kComplete;
  r.world_size = 2;
  r.started = "2026-11-27T07:00:00Z";
  r.finished = "2026-11-27T07:05:00Z";
  r.host = "node17";
  r.classes = {"Chironomus", "Procladius"};
  r.train_paths = {"a/1.png", "a/2.png", "b/1.png"};
  r.train_labels = {0, 0, 1};
  r.val_paths = {"a/3.png", "b/2.png"};
  r.val_labels = {0, 1};
  r.skipped = {"b/broken.jpg"};
  r.skipped_reasons = {"cannot decode image b/broken.jpg: truncated JPEG"};
  r.stage1.epoch = {1, 2};
  r.stage1.train_loss = {1.5, 1.2};
  r.stage1.train_acc = {0.5, 0.6};
  r.stage1.val_loss = {1.4, 1.1};
  r.stage1.val_acc = {0.5, 0.75};
  r.stage1.lr = {0.001, 0.001};
  r.stage1.seconds = {3, 3.5};
  r.stage1.images_per_second = {100, 98};
  r.stage1.data_wait_seconds = {0.25, 0.0};
  r.has_eval = true;
  r.eval.confusion = {1, 0, 1, 0};
  r.eval.per_class_accuracy = {1, 0};
  r.eval.precision = {0.5, 0};
  r.eval.f1 = {2.0 / 3, 0};
  r.eval.support = {1, 1};
  r.eval.accuracy = 0.5;
  r.eval.balanced_accuracy = 0.5;
  r.eval.loss = 0.9;
  r.eval.labels = {0, 1};
  r.eval.predicted = {0, 0};
  r.eval.probabilities = {0.9F, 0.1F, 0.6F, 0.4F};
  r.eval.paths = r.val_paths;
  r.has_gradcam = true;
  r.gradcam.layer = "layer4";
  r.gradcam.input_size = 2;
  r.gradcam.height = 2;
  r.gradcam.width = 2;
  r.gradcam.heatmaps = {0, 0.5F, 1, 0.25F, 1, 0, 0, 0};
  r.gradcam.paths = r.val_paths;
  r.gradcam.labels = {0, 1};
  r.gradcam.predicted = {0, 0};
  return r;
}

TEST(RunFile, EverySchemaPathIsWrittenAndReadBack) {
  testing::TempDir dir;
  const RunRecord r = example();
  write_run_file(dir.str("run.h5"), r);
  H5Reader f(dir.str("run.h5"));
  for (const char* path : {"classes",
                           "split/train/paths",
                           "split/train/labels",
                           "split/val/paths",
                           "split/val/labels",
                           "data/skipped",
                           "stage1/history/epoch",
                           "stage1/history/images_per_second",
                           "stage1/history/data_wait_seconds",
                           "stage2/history/val_acc",
                           "eval/confusion",
                           "eval/per_class_accuracy",
                           "eval/precision",
                           "eval/f1",
                           "eval/support",
                           "eval/accuracy",
                           "eval/balanced_accuracy",
                           "eval/labels",
                           "eval/predicted",
                           "eval/probabilities",
                           "eval/paths",
                           "gradcam/heatmaps",
                           "gradcam/paths",
                           "gradcam/labels",
                           "gradcam/predicted"}) {
    EXPECT_TRUE(f.exists(path)) << path;
  }
  for (const char* attr : {"schema_version", "midge_version", "config", "status", "error",
                           "world_size", "started", "finished", "host"}) {
    EXPECT_TRUE(f.has_attr("", attr)) << attr;
  }
  EXPECT_EQ(f.shape("eval/confusion"), (std::vector<std::uint64_t>{2, 2}));
  EXPECT_EQ(f.shape("eval/probabilities"), (std::vector<std::uint64_t>{2, 2}));
  EXPECT_EQ(f.shape("gradcam/heatmaps"), (std::vector<std::uint64_t>{2, 2, 2}));
  EXPECT_EQ(f.attr_string("gradcam/heatmaps", "layer"), "layer4");

  RunRecord back = read_run_file(dir.str("run.h5"));
  EXPECT_EQ(back.status, RunStatus::kComplete);
  EXPECT_EQ(back.config, r.config);
  EXPECT_EQ(back.world_size, 2);
  EXPECT_EQ(back.classes, r.classes);
  EXPECT_EQ(back.train_labels, r.train_labels);
  EXPECT_EQ(back.skipped_reasons, r.skipped_reasons);
  EXPECT_EQ(back.stage1.val_acc, r.stage1.val_acc);
  EXPECT_EQ(back.stage1.data_wait_seconds, r.stage1.data_wait_seconds);
  EXPECT_EQ(back.stage2.size(), 0U);
  EXPECT_EQ(back.eval.confusion, r.eval.confusion);
  EXPECT_EQ(back.eval.probabilities, r.eval.probabilities);
  EXPECT_DOUBLE_EQ(back.eval.balanced_accuracy, 0.5);
  EXPECT_EQ(back.gradcam.heatmaps, r.gradcam.heatmaps);
  EXPECT_EQ(back.gradcam.height, 2);
}

TEST(RunFile, HashesHeldOutTaxaAndOpenSetAreWrittenAndReadBack) {
  testing::TempDir dir;
  RunRecord r = example();
  r.device = "cpu: Example CPU (2 threads)";
  r.train_sha256 = {std::string(64, 'a'), std::string(64, 'b'), ""};
  r.val_sha256 = {std::string(64, 'c'), std::string(64, 'd')};
  r.holdout_taxa = {"Tanytarsus"};
  r.holdout_paths = {"t/1.png"};
  r.holdout_labels = {0};
  r.holdout_sha256 = {std::string(64, 'e')};
  r.eval.has_open_set = true;
  r.eval.open_set.method = "energy";
  r.eval.open_set.accept_rate = 0.9;
  for (const char* m : {"msp", "energy"}) {
    OpenSetScore s;
    s.method = m;
    s.threshold = s.method == "msp" ? 0.7 : 2.5;
    s.accepted_share = 0.5;
    s.accuracy_accepted = 1;
    s.known = {3.0, std::nan("")};
    s.has_holdout = true;
    s.auroc = 0.75;
    s.fpr_at_accept = 0.25;
    s.holdout = {1.0};
    r.eval.open_set.scores.push_back(s);
  }
  write_run_file(dir.str("run.h5"), r);
  H5Reader f(dir.str("run.h5"));
  EXPECT_EQ(f.attr_int64("", "schema_version"), 2);
  // The chosen score's figures, also at the top of /eval/open_set.
  EXPECT_DOUBLE_EQ(f.read_double("eval/open_set/threshold"), 2.5);
  EXPECT_DOUBLE_EQ(f.read_double("eval/open_set/auroc"), 0.75);
  const RunRecord back = read_run_file(dir.str("run.h5"));
  EXPECT_EQ(back.device, r.device);
  EXPECT_EQ(back.train_sha256, r.train_sha256);
  EXPECT_EQ(back.val_sha256, r.val_sha256);
  EXPECT_EQ(back.holdout_taxa, r.holdout_taxa);
  EXPECT_EQ(back.holdout_paths, r.holdout_paths);
  EXPECT_EQ(back.holdout_sha256, r.holdout_sha256);
  ASSERT_TRUE(back.eval.has_open_set);
  EXPECT_EQ(back.eval.open_set.method, "energy");
  ASSERT_EQ(back.eval.open_set.scores.size(), 2U);
  const OpenSetScore* chosen = back.eval.open_set.selected();
  ASSERT_NE(chosen, nullptr);
  EXPECT_DOUBLE_EQ(chosen->threshold, 2.5);
  EXPECT_TRUE(std::isnan(chosen->known[1]));
  EXPECT_EQ(chosen->holdout, std::vector<double>{1.0});
  // Without them (as in a schema-1 file) they read as absent.
  const RunRecord plain = [&] {
    write_run_file(dir.str("plain.h5"), example());
    return read_run_file(dir.str("plain.h5"));
  }();
  EXPECT_TRUE(plain.val_sha256.empty());
  EXPECT_TRUE(plain.holdout_taxa.empty());
  EXPECT_FALSE(plain.eval.has_open_set);
}

TEST(RunFile, AnUnreadableValidationImageIsNotACorruptFile) {
  // evaluation writes predicted = -1 and zero probabilities for an image
  // no rank could read: a whole run.h5, read back as written.
  testing::TempDir dir;
  RunRecord r = example();
  r.eval.predicted = {0, -1};
  r.eval.probabilities = {0.9F, 0.1F, 0.0F, 0.0F};
  write_run_file(dir.str("run.h5"), r);
  EXPECT_EQ(read_run_file(dir.str("run.h5")).eval.predicted, (std::vector<std::int64_t>{0, -1}));
  r.eval.predicted = {0, -2};
  write_run_file(dir.str("bad.h5"), r);
  try {
    (void)read_run_file(dir.str("bad.h5"));
    FAIL() << "predicted = -2 was read";
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/eval/predicted holds -2"), std::string::npos)
        << e.what();
  }
}

TEST(RunFile, ColumnsOfOtherLengthsAreRefusedNamingTheDataset) {
  testing::TempDir dir;
  RunRecord r = example();
  r.eval.f1.pop_back();  // one value for two taxa
  write_run_file(dir.str("run.h5"), r);
  try {
    (void)read_run_file(dir.str("run.h5"));
    FAIL() << "a short /eval/f1 was read";
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/eval/f1 has 1 values, 2 expected"), std::string::npos)
        << e.what();
  }
}

TEST(RunFile, HistoryOfAnOlderFileWithoutDataWaitReadsAsZeros) {
  testing::TempDir dir;
  {
    H5Writer w(dir.str("old.h5"));
    w.write("h/epoch", std::vector<std::int64_t>{1, 2, 3});
    for (const char* c :
         {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_second"}) {
      w.write(std::string("h/") + c, std::vector<double>{1, 2, 3});
    }
    w.commit();
  }
  H5Reader f(dir.str("old.h5"));
  const History h = read_history(f, "h");
  EXPECT_EQ(h.images_per_second, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(h.data_wait_seconds, (std::vector<double>{0, 0, 0}));
}

TEST(RunFile, ARunningRunHasNoEvaluationAndForeignFilesAreRefused) {
  testing::TempDir dir;
  RunRecord r = example();
  r.status = RunStatus::kRunning;
  r.has_eval = false;
  r.has_gradcam = false;
  write_run_file(dir.str("run.h5"), r);
  RunRecord back = read_run_file(dir.str("run.h5"));
  EXPECT_EQ(back.status, RunStatus::kRunning);
  EXPECT_FALSE(back.has_eval);
  EXPECT_FALSE(back.has_gradcam);
  {
    H5Writer other(dir.str("other.h5"));
    other.write("x", std::vector<double>{1.0});
    other.commit();
  }
  EXPECT_THROW(read_run_file(dir.str("other.h5")), IoError);
  EXPECT_THROW(read_run_file(dir.str("missing.h5")), IoError);
}

// Marking a run stopped (a sweep's halving) changes its status attributes
// and nothing else: not the datasets, not the version of the midge that
// wrote it.
TEST(RunFile, SettingTheStatusChangesOnlyTheStatusAttributes) {
  testing::TempDir dir;
  write_run_file(dir.str("run.h5"), example());
  {
    H5Editor old(dir.str("run.h5"));
    old.set_attr("", "midge_version", std::string("0.0.1"));
    old.commit();
  }
  std::filesystem::copy_file(dir.str("run.h5"), dir.str("before.h5"));
  set_run_status(dir.str("run.h5"), RunStatus::kStopped, "2026-12-03T00:00:00Z");
  const RunRecord back = read_run_file(dir.str("run.h5"));
  EXPECT_EQ(back.status, RunStatus::kStopped);
  EXPECT_EQ(back.finished, "2026-12-03T00:00:00Z");
  EXPECT_EQ(back.midge_version, "0.0.1");
  const FileComparison same =
      compare_h5(dir.str("before.h5"), dir.str("run.h5"), {"classes", "split", "eval", "stage1"});
  EXPECT_TRUE(same.equal());
  EXPECT_GT(same.compared, 5U);
  EXPECT_THROW(parse_run_status("done", "x.h5"), IoError);
}

TEST(RunFile, RanksPlacementIsWrittenReadBackAndCheckedPerRank) {
  testing::TempDir dir;
  RunRecord r = example();
  r.world_size = 3;
  r.rank_hosts = {"nodea", "nodea", "nodeb"};
  r.rank_local_ranks = {0, 1, 0};
  r.rank_threads = {2, 2, 4};
  r.rank_devices = {"cuda:0", "cuda:1", "cuda:0"};
  write_run_file(dir.str("run.h5"), r);
  const RunRecord back = read_run_file(dir.str("run.h5"));
  EXPECT_EQ(back.rank_hosts, r.rank_hosts);
  EXPECT_EQ(back.rank_local_ranks, r.rank_local_ranks);
  EXPECT_EQ(back.rank_threads, r.rank_threads);
  EXPECT_EQ(back.rank_devices, r.rank_devices);
  // A table of another length than world_size is refused, naming it.
  r.rank_threads = {2, 2};
  write_run_file(dir.str("short.h5"), r);
  try {
    read_run_file(dir.str("short.h5"));
    FAIL() << "a /ranks column of the wrong length was read";
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/ranks/threads has 2 values, 3 expected"),
              std::string::npos)
        << e.what();
  }
  // Files written before midge kept it read as without.
  EXPECT_TRUE(read_run_file([&] {
                write_run_file(dir.str("old.h5"), example());
                return dir.str("old.h5");
              }())
                  .rank_hosts.empty());
}

}  // namespace
}  // namespace midge::io
