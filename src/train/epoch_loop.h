// One training epoch on this rank, as a plain loop: batches from a
// BatchSource, each step's local work (forward, loss) from a StepEngine,
// one agreement of all ranks per step, then the engine's update.
//
// Why a plain function over two small interfaces: the loop's rules (when
// the ranks agree, when a stop takes effect, what a failure on one rank
// does, how unreadable images are counted, what the sums are) are tested
// with a stand-in engine and batch source, without MPI, files or a network
// (tests/unit/train/test_epoch_loop.cpp); the trainer's engine
// (train/engine.h) does the tensor work.
//
// A step:
//   1. the next batch (no collective);
//   2. engine.forward: forward pass and loss of this rank's share, which
//      may be empty (no collective; may throw);
//   3. the agreement (distributed/agreement.h): stop requested, this rank's
//      error (a non-finite loss is one), unreadable images found since
//      `known_bad`; any rank's error is raised on every rank here;
//      `check_bad_images` gets the agreed count (and may throw, alike);
//   4. engine.update: backward and the update, whose gradient reduction is
//      collective, on every rank (also with an empty share), unless the
//      engine updated already (a captured CUDA graph step);
//   5. on a stop agreed at 3: the epoch ends after this step (its forward
//      pass moved BatchNorm's running statistics, so it is finished rather
//      than done again on resume); the resumed run goes on with the next.
// Every rank gets the same number of batches, so all leave the loop
// together. Faults for tests (core/fault.h): loss, loader, hang.
#pragma once

#include <cstdint>
#include <functional>

#include "data/loader.h"
#include "distributed/agreement.h"

namespace midge::train {

// What the loop sums over an epoch, per rank (also what state.h5 keeps
// when a run stops inside an epoch: train/checkpoint.h).
enum PartialSum { kLossSum, kCorrect, kSeen, kDataWait, kTrainSeconds, kPartialSums };

// Where the batches come from (data::Loader through LoaderSource).
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // The next batch of this rank's share of the epoch; false at its end.
  virtual bool next(data::Batch* out) = 0;
  // Distinct unreadable images found so far (also by earlier epochs).
  virtual std::int64_t unreadable() const = 0;
};

// A data::Loader as a BatchSource.
class LoaderSource final : public BatchSource {
 public:
  explicit LoaderSource(data::Loader& loader) : loader_(loader) {}
  bool next(data::Batch* out) override { return loader_.next(out); }
  std::int64_t unreadable() const override {
    return static_cast<std::int64_t>(loader_.skipped_count());
  }

 private:
  data::Loader& loader_;
};

// What a step's forward pass left for the rest of the step.
struct StepForward {
  double loss = 0;           // mean loss of this rank's share (0 when empty)
  std::int64_t correct = 0;  // right predictions in it
  bool updated = false;      // the engine already updated the weights
};

class StepEngine {
 public:
  virtual ~StepEngine() = default;
  // Forward pass and loss of this rank's share of the batch. May set
  // batch.size to 0 to leave the share out of this step (it then trains
  // nothing, but still takes part in update()). No collective.
  virtual StepForward forward(data::Batch& batch, int stage, std::int64_t epoch) = 0;
  // Backward (when the share was not empty) and the update; collective
  // (gradient reduction) on every rank alike.
  virtual void update(const data::Batch& batch, const StepForward& forward) = 0;
};

struct EpochPlan {
  int stage = 1;
  std::int64_t epoch = 0;
  std::int64_t first_batch = 0;  // > 0: resumed inside the epoch
  // This rank's sums from before first_batch (kPartialSums numbers).
  double before[kPartialSums] = {0, 0, 0, 0, 0};
  // Unreadable images every rank knows of already; only more are reported.
  std::int64_t known_bad = 0;
};

struct EpochHooks {
  // Gets the unreadable images of all ranks found since known_bad, after
  // each agreement (alike on every rank); throws when over the limit.
  std::function<void(std::int64_t found)> check_bad_images;
  // After each step's update: progress display.
  std::function<void(const data::Batch& batch, double mean_loss)> after_step;
};

struct EpochEnd {
  bool stopped = false;                         // a stop was agreed: the epoch is not done
  std::int64_t next_batch = 0;                  // with stopped: where the resumed run goes on
  double sums[kPartialSums] = {0, 0, 0, 0, 0};  // this rank's, before included
};

// Throws the agreed error (RankFailure, or the rank's own with one rank).
EpochEnd train_one_epoch(const EpochPlan& plan, BatchSource& batches, StepEngine& engine,
                         distributed::Agreement& agree, const EpochHooks& hooks);

}  // namespace midge::train
