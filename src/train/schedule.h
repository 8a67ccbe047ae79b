// Learning-rate schedules and early stopping of one training stage.
//
// Both are plain state machines over epochs, so their whole state is a few
// numbers that a checkpoint stores and a resumed run restores exactly.
//   none     lr stays at stage.lr
//   cosine   lr = stage.lr * (1 + cos(pi * epoch / epochs)) / 2
//   step     lr multiplied by stage.lr_decay every stage.lr_step epochs
//            (lr_step = 0: a third of the stage's epochs)
//   plateau  lr multiplied by stage.lr_decay after stage.plateau_patience
//            epochs without improvement of stage.early_stop_metric
// Early stopping: stop after early_stop_patience epochs without improvement
// (0 = never), and train from the best epoch's weights onward.
#pragma once

#include <cstdint>
#include <limits>

#include "core/config.h"

namespace midge::train {

struct ScheduleState {
  double plateau_lr = 0;  // current lr under plateau
  double plateau_best = 0;
  std::int64_t plateau_bad = 0;  // epochs without improvement
  bool plateau_started = false;
};

// Learning rate for `epoch` (0-based) of a stage.
double lr_for_epoch(const StageConfig& stage, std::int64_t epoch, const ScheduleState& state);

// After an epoch: feeds the watched metric to the plateau schedule.
void schedule_observe(const StageConfig& stage, double metric, ScheduleState* state);

// True when `metric` improves on `best` for the stage's early_stop_metric
// by more than a tiny margin: val_acc must exceed best + 1e-9 (an absolute
// margin; accuracies lie in [0, 1]), val_loss must fall below
// best - 1e-9 * |best| (a margin relative to the best loss). Both the
// plateau schedule and early stopping count improvement with it.
bool improves(const StageConfig& stage, double metric, double best);

struct EarlyStopState {
  bool has_best = false;
  double best = 0;
  std::int64_t best_epoch = -1;
  std::int64_t bad_epochs = 0;
};

// Records an epoch's metric; returns true when this epoch is the new best
// (the caller then keeps a copy of the weights).
bool early_stop_observe(const StageConfig& stage, std::int64_t epoch, double metric,
                        EarlyStopState* state);
// True when the stage should stop now.
bool early_stop_due(const StageConfig& stage, const EarlyStopState& state);

}  // namespace midge::train
