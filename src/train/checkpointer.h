// state.h5 of a run as it goes (file format: train/checkpoint.h): what is
// saved when, where a resumed run goes on, and reading it back.
//
// Saved (rank 0 writes, then all ranks agree, so a failed write ends every
// rank alike):
// - every run.checkpoint_every epochs, but not sooner than
//   run.checkpoint_seconds after the last write (rank 0 decides inside its
//   write, so the ranks need not agree on a clock): a ResNet-50's state is
//   ~300 MB, and epochs of a few seconds would rewrite it (and hash it for
//   its seal) for much of the time they take, while a crash loses at most
//   that long plus an epoch;
// - at the end of each stage (unless run.checkpoint_every = 0), whatever
//   the time: twice a run, and after stage 2 the rerun of a run killed in
//   its final report only makes the report again (with any number of ranks);
// - whenever the run must be resumable at once, whatever the settings: a
//   stop on request, a pause at a halving rung, a stop during the report.
// A stop inside an epoch also saves what each rank had summed and each
// rank's BatchNorm buffers (collectives).
//
// Where a resumed run goes on is a ResumePoint: the stage, the epochs of it
// done and, inside the next epoch, the batches done with this rank's sums.
// The stage loop takes the inside-epoch part once (take_inside); after
// that the run is at epoch boundaries again.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>

#include "core/clock.h"
#include "train/checkpoint.h"
#include "train/epoch_loop.h"
#include "train/gradient_sync.h"
#include "train/recorder.h"
#include "train/session.h"

namespace midge::train {

// When a state.h5 is asked for (see above).
enum class SaveWhen {
  kEpochEnd,  // every run.checkpoint_every epochs, at most every run.checkpoint_seconds
  kStageEnd,  // unless run.checkpoint_every = 0
  kAlways,
};

struct ResumePoint {
  int stage = 1;           // 3: both stages done, the final report is next
  std::int64_t epoch = 0;  // epochs of `stage` done
  std::int64_t batch = 0;  // batches of the next epoch done (0: none)
};

// Inside an epoch: where the loop goes on, with this rank's sums so far.
struct InsideEpoch {
  std::int64_t first_batch = 0;
  double sums[kPartialSums] = {0, 0, 0, 0, 0};
};

class Checkpointer {
 public:
  Checkpointer(Session& s, Recorder& r) : s_(s), r_(r) {}
  TrainState& state() { return state_; }
  bool resumed() const { return resumed_; }
  const ResumePoint& resume_point() const { return at_; }

  // The run's identity in every state.h5 (configuration, taxa, ranks).
  void begin();
  // Reads state.h5 on this rank (every rank does: each needs the weights),
  // checks that it belongs to this run (train/resume.h), loads weights,
  // this rank's BatchNorm buffers and the loss scale, keeps its precision,
  // and puts its histories into run.h5's record.
  void resume_from(const std::string& file);
  // The inside-epoch position for (stage, epoch) of a run resumed there,
  // once; nullopt otherwise.
  std::optional<InsideEpoch> take_inside(int stage, std::int64_t epoch);

  // state.h5 at `at` (batch 0), if `when` asks for it now.
  void save(const ResumePoint& at, torch::optim::Optimizer* opt, SaveWhen when);
  // state.h5 at a stop inside an epoch: every rank's sums and BatchNorm
  // buffers too. `sync`: the stage's gradient reductions, settled first.
  void save_inside_epoch(const ResumePoint& at, torch::optim::Optimizer& opt,
                         const double (&sums)[kPartialSums], GradientSync* sync);

 private:
  Session& s_;
  Recorder& r_;
  TrainState state_;
  ResumePoint at_;
  bool resumed_ = false;
  Clock::time_point written_ = Clock::now();  // rank 0: the last state.h5, or the start
};

}  // namespace midge::train
