// train_one_epoch (train/epoch_loop.h) with a stand-in engine and batch
// source: no network, no files, no MPI (a world of one rank).
#include <gtest/gtest.h>

#include <csignal>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "core/stop_request.h"
#include "train/epoch_loop.h"

namespace midge::train {
namespace {

// Batches of the given sizes; `bad` unreadable images appear after batch
// `bad_after`.
class ScriptedSource final : public BatchSource {
 public:
  explicit ScriptedSource(std::vector<int> sizes, std::int64_t first = 0)
      : sizes_(std::move(sizes)), next_(first) {}
  bool next(data::Batch* out) override {
    if (next_ >= static_cast<std::int64_t>(sizes_.size())) return false;
    out->index = next_;
    out->size = sizes_[static_cast<std::size_t>(next_)];
    ++next_;
    if (next_ > bad_after) found_ = bad;
    return true;
  }
  std::int64_t unreadable() const override { return known + found_; }
  std::int64_t known = 0;
  std::int64_t bad = 0;
  std::int64_t bad_after = 1 << 30;

 private:
  std::vector<int> sizes_;
  std::int64_t next_;
  std::int64_t found_ = 0;
};

// Loss 1 + batch index, batch.size - 1 right, an update counted per step.
class StandInEngine final : public StepEngine {
 public:
  StepForward forward(data::Batch& b, int, std::int64_t) override {
    forwards.push_back(b.index);
    StepForward f;
    if (b.size == 0) return f;
    f.loss = b.index == nan_at ? std::numeric_limits<double>::quiet_NaN() : 1.0 + b.index;
    f.correct = b.size - 1;
    f.updated = captured;
    if (b.index == stop_at) set_stop_request_for_testing(SIGUSR2);
    return f;
  }
  void update(const data::Batch& b, const StepForward&) override { updates.push_back(b.index); }
  std::vector<std::int64_t> forwards;
  std::vector<std::int64_t> updates;
  std::int64_t nan_at = -1;
  std::int64_t stop_at = -1;
  bool captured = false;
};

struct EpochLoopTest : ::testing::Test {
  void TearDown() override { set_stop_request_for_testing(0); }
  distributed::SelfComm world;
  distributed::Agreement agree{world, 10};
};

TEST_F(EpochLoopTest, SumsEveryStepAndUpdatesOncePerBatch) {
  ScriptedSource source({4, 4, 3});
  StandInEngine engine;
  EpochPlan plan;
  plan.before[kLossSum] = 0.5;  // resumed sums carry on
  std::vector<double> losses;
  EpochHooks hooks;
  hooks.after_step = [&](const data::Batch&, double mean) { losses.push_back(mean); };
  const EpochEnd end = train_one_epoch(plan, source, engine, agree, hooks);
  EXPECT_FALSE(end.stopped);
  EXPECT_EQ(engine.updates, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(end.sums[kLossSum], 0.5 + 1.0 * 4 + 2.0 * 4 + 3.0 * 3);
  EXPECT_DOUBLE_EQ(end.sums[kCorrect], 3 + 3 + 2);
  EXPECT_DOUBLE_EQ(end.sums[kSeen], 11);
  ASSERT_EQ(losses.size(), 3U);
  EXPECT_DOUBLE_EQ(losses[0], (0.5 + 4.0) / 4);
  EXPECT_GE(end.sums[kTrainSeconds], 0.0);
}

TEST_F(EpochLoopTest, AnEmptyShareStillTakesPartInTheUpdate) {
  ScriptedSource source({2, 0, 2});
  StandInEngine engine;
  const EpochEnd end = train_one_epoch({}, source, engine, agree, {});
  EXPECT_EQ(engine.updates, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(end.sums[kSeen], 4);
}

TEST_F(EpochLoopTest, ANonFiniteLossFailsTheStepBeforeItsUpdate) {
  ScriptedSource source({2, 2, 2});
  StandInEngine engine;
  engine.nan_at = 1;
  EpochPlan plan;
  plan.stage = 2;
  plan.epoch = 4;
  try {
    train_one_epoch(plan, source, engine, agree, {});
    FAIL() << "no error";
  } catch (const TrainError& e) {
    EXPECT_NE(std::string(e.what()).find("loss is NaN in stage 2, epoch 5, batch 2 on rank 0"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(engine.updates, (std::vector<std::int64_t>{0}));
}

TEST_F(EpochLoopTest, AStopEndsTheEpochAfterTheStepItWasAgreedIn) {
  ScriptedSource source({2, 2, 2, 2});
  StandInEngine engine;
  engine.stop_at = 2;
  const EpochEnd end = train_one_epoch({}, source, engine, agree, {});
  EXPECT_TRUE(end.stopped);
  EXPECT_EQ(end.next_batch, 3);  // batch 2 is finished, not done again
  EXPECT_EQ(engine.updates, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(engine.forwards, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(end.sums[kSeen], 6);
}

TEST_F(EpochLoopTest, AStopAfterACapturedStepKeepsThatStep) {
  ScriptedSource source({2, 2, 2, 2});
  StandInEngine engine;
  engine.captured = true;  // the engine updates inside forward
  engine.stop_at = 1;
  const EpochEnd end = train_one_epoch({}, source, engine, agree, {});
  EXPECT_TRUE(end.stopped);
  EXPECT_EQ(end.next_batch, 2);
  EXPECT_TRUE(engine.updates.empty());
  EXPECT_DOUBLE_EQ(end.sums[kSeen], 4);
}

TEST_F(EpochLoopTest, UnreadableImagesAreReportedFromKnownOnAndCanEndTheEpoch) {
  ScriptedSource source({2, 2, 2});
  source.known = 3;  // known from earlier epochs: not reported again
  source.bad = 2;
  source.bad_after = 1;  // found while batch 1 is read
  StandInEngine engine;
  EpochPlan plan;
  plan.known_bad = 3;
  std::vector<std::int64_t> reported;
  EpochHooks hooks;
  hooks.check_bad_images = [&](std::int64_t found) {
    reported.push_back(found);
    if (found > 1) throw DataError("too many unreadable images");
  };
  EXPECT_THROW(train_one_epoch(plan, source, engine, agree, hooks), DataError);
  EXPECT_EQ(reported, (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(engine.updates, (std::vector<std::int64_t>{0}));
}

TEST_F(EpochLoopTest, AResumedEpochStartsWhereTheSourceDoes) {
  ScriptedSource source({2, 2, 2}, 2);
  StandInEngine engine;
  EpochPlan plan;
  plan.first_batch = 2;
  plan.before[kSeen] = 4;
  plan.before[kTrainSeconds] = 100;
  const EpochEnd end = train_one_epoch(plan, source, engine, agree, {});
  EXPECT_EQ(engine.updates, (std::vector<std::int64_t>{2}));
  EXPECT_DOUBLE_EQ(end.sums[kSeen], 6);
  EXPECT_GE(end.sums[kTrainSeconds], 100.0);
}

}  // namespace
}  // namespace midge::train
