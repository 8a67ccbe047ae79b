// One stage's epochs as a plain loop: the learning rate of each epoch
// (train/schedule.h), the epoch's training and validation, its history row,
// the schedule and early stopping fed the watched metric, and the end of
// the stage (its last epoch, or early stopping). What happens to the
// weights and files is the caller's (StageParts): the trainer saves
// checkpoints and run.h5 and answers successive halving's question there.
//
// Why a loop of its own over an interface: its rules (which epoch pauses,
// when the best weights are kept, when early stopping ends the stage, what
// a stop in any part of an epoch does) are unit-tested with stand-in parts
// (tests/unit/train/test_stage_loop.cpp), no network, files or MPI.
#pragma once

#include <cstdint>

#include "core/config.h"
#include "io/run_file.h"
#include "train/progress.h"
#include "train/schedule.h"

namespace midge::train {

class StageParts {
 public:
  virtual ~StageParts() = default;
  // Asked before each epoch except one resumed in its middle: true pauses
  // the run there (the callee saved what resuming needs).
  virtual bool pause_before(std::int64_t epoch) = 0;
  virtual void set_lr(double lr) = 0;
  // Trains one epoch: fills train_loss, train_acc, images_per_second,
  // train_seconds and data_wait_seconds. False when a stop was agreed inside
  // it (the callee saved the position).
  virtual bool train_epoch(std::int64_t epoch, EpochReport* report) = 0;
  // Validates: fills val_loss, val_acc (and peak). False when a stop was
  // agreed during it (the callee saved the epoch as trained).
  virtual bool validate(std::int64_t epoch, EpochReport* report) = 0;
  // The weights now are the best so far (early stopping on).
  virtual void keep_best() = 0;
  // After the epoch's history row: checkpoint, run.h5, progress line.
  // `last`: no epoch of this stage follows (`early`: because early stopping
  // ends the stage). Unless last, returns true when a stop was agreed there
  // and the callee saved the state after this epoch.
  virtual bool end_epoch(std::int64_t epoch, const EpochReport& report, bool last, bool early) = 0;
};

enum class StageEnd {
  kComplete,  // every epoch, or early stopping
  kPaused,    // pause_before said so
  kStopped,   // a stop was agreed (the state is saved)
};

struct StageLoop {
  const StageConfig& config;
  int stage = 1;
  std::int64_t first_epoch = 0;
  bool resumed_inside = false;  // first_epoch was stopped in its middle
  ScheduleState* schedule = nullptr;
  EarlyStopState* early = nullptr;
  io::History* history = nullptr;
};

StageEnd run_stage_epochs(const StageLoop& loop, StageParts& parts);

}  // namespace midge::train
