#include <gtest/gtest.h>

#include "train/schedule.h"

namespace midge::train {
namespace {

TEST(Schedule, CosineStepAndPlateau) {
  StageConfig s;
  s.lr = 0.1;
  s.epochs = 10;
  s.lr_decay = 0.1;
  s.lr_step = 0;
  s.plateau_patience = 2;
  s.early_stop_metric = "val_loss";
  ScheduleState st;
  s.schedule = "none";
  EXPECT_DOUBLE_EQ(lr_for_epoch(s, 7, st), 0.1);
  s.schedule = "cosine";
  EXPECT_DOUBLE_EQ(lr_for_epoch(s, 0, st), 0.1);
  EXPECT_NEAR(lr_for_epoch(s, 5, st), 0.05, 1e-12);
  s.schedule = "step";  // lr_step 0: every 10/3 = 3 epochs
  EXPECT_DOUBLE_EQ(lr_for_epoch(s, 2, st), 0.1);
  EXPECT_NEAR(lr_for_epoch(s, 3, st), 0.01, 1e-15);
  EXPECT_NEAR(lr_for_epoch(s, 6, st), 0.001, 1e-15);
  s.schedule = "plateau";
  for (double loss : {1.0, 0.9, 0.95, 0.92}) schedule_observe(s, loss, &st);
  EXPECT_NEAR(lr_for_epoch(s, 4, st), 0.01, 1e-15);  // two epochs without beating 0.9
}

TEST(Schedule, EarlyStoppingWatchesTheChosenMetric) {
  StageConfig s;
  s.early_stop_patience = 2;
  s.early_stop_metric = "val_acc";
  EarlyStopState st;
  EXPECT_TRUE(early_stop_observe(s, 0, 0.5, &st));
  EXPECT_TRUE(early_stop_observe(s, 1, 0.7, &st));
  EXPECT_FALSE(early_stop_observe(s, 2, 0.7, &st));
  EXPECT_FALSE(early_stop_due(s, st));
  EXPECT_FALSE(early_stop_observe(s, 3, 0.6, &st));
  EXPECT_TRUE(early_stop_due(s, st));
  EXPECT_EQ(st.best_epoch, 1);
  s.early_stop_patience = 0;
  EXPECT_FALSE(early_stop_due(s, st));
}

}  // namespace
}  // namespace midge::train
