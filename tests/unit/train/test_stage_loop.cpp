// run_stage_epochs (train/stage_loop.h) with stand-in parts: the learning
// rate per epoch, the history, early stopping and the best epoch, pausing
// and stopping, without a network, files or MPI.
#include <gtest/gtest.h>

#include <vector>

#include "train/stage_loop.h"

namespace midge::train {
namespace {

class StandInParts final : public StageParts {
 public:
  explicit StandInParts(std::vector<double> val_losses) : val_loss_(std::move(val_losses)) {}
  bool pause_before(std::int64_t epoch) override {
    asked.push_back(epoch);
    return epoch == pause_at;
  }
  void set_lr(double lr) override { lrs.push_back(lr); }
  bool train_epoch(std::int64_t epoch, EpochReport* r) override {
    if (epoch == stop_in_training) return false;
    r->train_loss = 10.0 - static_cast<double>(epoch);
    r->train_acc = 0.5;
    return true;
  }
  bool validate(std::int64_t epoch, EpochReport* r) override {
    if (epoch == stop_in_validation) return false;
    r->val_loss = val_loss_[static_cast<std::size_t>(epoch)];
    r->val_acc = 1.0 - r->val_loss;
    return true;
  }
  void keep_best() override { kept.push_back(static_cast<std::int64_t>(ended.size())); }
  bool end_epoch(std::int64_t epoch, const EpochReport&, bool last, bool early) override {
    ended.push_back(epoch);
    if (last) last_early = early;
    return epoch == stop_after;
  }
  std::vector<std::int64_t> asked, kept, ended;
  std::vector<double> lrs;
  std::int64_t pause_at = -1, stop_in_training = -1, stop_in_validation = -1, stop_after = -1;
  bool last_early = false;

 private:
  std::vector<double> val_loss_;
};

StageConfig stage_config(std::int64_t epochs, std::int64_t patience) {
  StageConfig c;
  c.epochs = epochs;
  c.lr = 0.1;
  c.schedule = "step";
  c.lr_step = 2;
  c.lr_decay = 0.5;
  c.early_stop_patience = patience;
  c.early_stop_metric = "val_loss";
  return c;
}

struct StageUnderTest {
  StageConfig config;
  ScheduleState schedule;
  EarlyStopState early;
  io::History history;
  StageLoop loop() {
    StageLoop l{config};
    l.stage = 2;
    l.schedule = &schedule;
    l.early = &early;
    l.history = &history;
    return l;
  }
};

TEST(StageLoop, EveryEpochWithItsLearningRateAndHistoryRow) {
  StageUnderTest run{stage_config(4, 0)};
  StandInParts parts({0.9, 0.8, 0.7, 0.6});
  EXPECT_EQ(run_stage_epochs(run.loop(), parts), StageEnd::kComplete);
  EXPECT_EQ(parts.asked, (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(parts.ended, (std::vector<std::int64_t>{0, 1, 2, 3}));
  ASSERT_EQ(parts.lrs.size(), 4U);
  EXPECT_DOUBLE_EQ(parts.lrs[0], 0.1);
  EXPECT_DOUBLE_EQ(parts.lrs[1], 0.1);
  EXPECT_DOUBLE_EQ(parts.lrs[2], 0.05);
  EXPECT_DOUBLE_EQ(parts.lrs[3], 0.05);
  EXPECT_EQ(run.history.epoch, (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(run.history.val_loss, (std::vector<double>{0.9, 0.8, 0.7, 0.6}));
  EXPECT_EQ(run.history.lr, parts.lrs);
  EXPECT_TRUE(parts.kept.empty());  // early stopping off: no best kept
  EXPECT_FALSE(parts.last_early);
}

TEST(StageLoop, EarlyStoppingEndsTheStageAndKeepsTheBestEpoch) {
  StageUnderTest run{stage_config(10, 2)};
  StandInParts parts({0.9, 0.5, 0.6, 0.7, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3});
  EXPECT_EQ(run_stage_epochs(run.loop(), parts), StageEnd::kComplete);
  // Improvements at epochs 0 and 1; none in 2 and 3: patience 2 ends it.
  EXPECT_EQ(parts.kept, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(parts.ended, (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_TRUE(parts.last_early);
  EXPECT_EQ(run.early.best_epoch, 1);
}

TEST(StageLoop, PausesStopsAndResumesInsideAnEpoch) {
  {
    StageUnderTest run{stage_config(4, 0)};
    StandInParts parts({0.9, 0.8, 0.7, 0.6});
    parts.pause_at = 2;
    EXPECT_EQ(run_stage_epochs(run.loop(), parts), StageEnd::kPaused);
    EXPECT_EQ(parts.ended, (std::vector<std::int64_t>{0, 1}));
  }
  for (int where = 0; where < 3; ++where) {
    StageUnderTest run{stage_config(4, 0)};
    StandInParts parts({0.9, 0.8, 0.7, 0.6});
    (where == 0   ? parts.stop_in_training
     : where == 1 ? parts.stop_in_validation
                  : parts.stop_after) = 1;
    EXPECT_EQ(run_stage_epochs(run.loop(), parts), StageEnd::kStopped) << where;
    EXPECT_EQ(run.history.epoch.size(), where == 2 ? 2U : 1U) << where;
  }
  {
    // A stop agreed after the last epoch changes nothing: the stage is done.
    StageUnderTest run{stage_config(2, 0)};
    StandInParts parts({0.9, 0.8});
    parts.stop_after = 1;
    EXPECT_EQ(run_stage_epochs(run.loop(), parts), StageEnd::kComplete);
  }
  {
    // Resumed inside epoch 2: no pause question for it.
    StageUnderTest run{stage_config(4, 0)};
    StandInParts parts({0.9, 0.8, 0.7, 0.6});
    StageLoop loop = run.loop();
    loop.first_epoch = 2;
    loop.resumed_inside = true;
    EXPECT_EQ(run_stage_epochs(loop, parts), StageEnd::kComplete);
    EXPECT_EQ(parts.asked, (std::vector<std::int64_t>{3}));
    EXPECT_EQ(parts.ended, (std::vector<std::int64_t>{2, 3}));
  }
}

}  // namespace
}  // namespace midge::train
