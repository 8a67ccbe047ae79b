// `midge train`: one two-stage fine-tuning run, on one rank or many.
//
// Stage 1 trains the head on a frozen backbone (BatchNorm statistics kept);
// stage 2 trains the whole network at its own (smaller) rate. Each stage
// has its own optimizer, schedule and early stopping (train/schedule.h).
// Validation after every epoch; at the end a full evaluation of the
// validation set (confusion matrix, per-taxon metrics, probabilities).
//
// Files in the output folder (only rank 0 writes; all atomically):
//   run.h5    results (io/run_file.h), rewritten after every epoch with
//             status running, finally complete or failed (+ error)
//   model.h5  weights with torchvision names + taxa and preprocessing
//   state.h5  everything needed to resume after the last checkpointed
//             epoch (train/checkpointer.h says which), or, after a stop
//             on request, from the next batch
// Rerunning the same command after a crash or kill resumes from state.h5
// when it belongs to the same experiment (train/resume.h: configuration,
// taxa, number of ranks); a folder whose run.h5 is complete is left alone.
// With run.deterministic = true a resumed CPU run ends with exactly the
// results of an uninterrupted one.
//
// Stop on request: after every step the ranks agree whether any has been
// asked to stop (SIGUSR2 or SIGTERM, core/stop_request.h); if so, rank 0
// writes state.h5 with the position inside the epoch, run.h5 says
// "interrupted", and the run returns with `interrupted` set (the commands
// exit with kExitResumable). Resuming from there is bitwise equal too.
//
// With R ranks each reads 1/R of every batch (stage.batch_size is global and
// must be divisible by R: rank_rule_violations in core/config.h, checked
// before anything is written); gradients are averaged over ranks in buckets
// launched during backward (train/gradient_sync.h, dist.bucket_mb,
// dist.overlap), BatchNorm statistics averaged before every evaluation and
// checkpoint (train/replica.h), validation metrics reduced exactly
// (train/evaluation.h, docs/distributed.md). Every step and phase boundary
// ends in an agreement of the ranks (distributed/agreement.h): a failure
// any rank sees is raised on all of them at the same point.
//
// The run is made of parts with one job each (docs/architecture.md):
//   train/session      device, NCCL, the data set, the model, precision
//   train/recorder     run.h5 and its status
//   train/checkpointer state.h5 and where a resumed run goes on
//   train/stage_runner one stage: optimizer, gradient sync, its epochs
//   train/stage_loop   the epochs of a stage (schedule, early stopping)
//   train/epoch_loop   one epoch's steps, each ending in an agreement
//   train/engine       the step's tensor work (forward, loss, update)
//   train/final_report evaluation, calibration, open set, model.h5, Grad-CAM
// and this file's train_run, which puts them in order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/config.h"
#include "distributed/communicator.h"

namespace midge::train {

struct TrainOutcome {
  bool already_complete = false;
  bool paused = false;  // stopped where PauseQuestion said so; state.h5 resumes it
  // Stopped on request (SIGUSR2/SIGTERM, core/stop_request.h) at a step
  // boundary; state.h5 resumes it from the next batch.
  bool interrupted = false;
  bool resumed = false;
  double accuracy = 0;
  double balanced_accuracy = 0;
  std::string run_file;
  std::string model_file;
  std::string table;  // per-taxon validation accuracy, for printing
};

// Where a run may pause: successive halving in a sweep (sweep/assignment.h)
// stops a trial at a rung and perhaps continues it later. Asked on every rank
// before each epoch of stage 2 (epoch 0: right after stage 1, also when a
// resumed run starts there), with the validation metrics of the weights it
// goes on with (the last epoch's; after stage 1 with early stopping, the
// restored best epoch's). It must answer alike on every rank. A pause writes state.h5
// (whatever run.checkpoint_every and run.checkpoint_seconds say) and run.h5
// with status "paused";
// calling train_run again on the folder goes on from there.
struct PausePoint {
  int stage = 2;
  std::int64_t epoch = 0;  // epochs of the stage done
  double val_acc = -1;     // -1: no epoch trained yet
  double val_loss = -1;
};
using PauseQuestion = std::function<bool(const PausePoint&)>;

// What a caller (the sweep runner) adds to a run beyond its configuration.
struct TrainOptions {
  PauseQuestion pause_before;
  // Folder of the file image cache when data.cache_dir is empty (a sweep's
  // `<out>/cache`); empty: `<out>/cache` of the run.
  std::string cache_dir;
};

TrainOutcome train_run(const Config& config, distributed::Communicator& world,
                       const std::string& out, const TrainOptions& options = {});

}  // namespace midge::train
