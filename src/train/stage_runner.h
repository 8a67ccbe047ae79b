// One training stage of a run, as the trainer runs it: the stage's
// parameters (stage 1: the head, backbone frozen; stage 2: all), optimizer,
// gradient reduction over ranks (GradientSync) and, with run.cuda_graph,
// the captured step; then its epochs through run_stage_epochs
// (train/stage_loop.h), each trained by train_one_epoch
// (train/epoch_loop.h) with the torch engine (train/engine.h) and
// validated (train/evaluation.h); checkpoints, run.h5, the image cache,
// progress lines, successive halving's pauses and stops on request at
// their boundaries; at the end the best epoch's weights (early stopping).
#pragma once

#include <cstdint>

#include "train/checkpointer.h"
#include "train/progress.h"
#include "train/recorder.h"
#include "train/session.h"
#include "train/stage_loop.h"
#include "train/trainer.h"

namespace midge::train {

// What a run keeps across its stages.
struct RunProgress {
  EtaEstimate eta;
  std::int64_t epochs_done = 0;
  bool graph_obstacle_logged = false;
  bool paused = false;
  bool interrupted = false;
};

// Runs `stage` unless it has no epochs or the run resumed past it; on a
// pause or stop the state is saved and `progress` says which.
void run_stage(int stage, Session& s, Recorder& r, Checkpointer& c, const PauseQuestion& pause,
               RunProgress& progress);

// After state.h5 is written: run.h5 says "interrupted" and the log tells
// where the rerun goes on from.
void mark_interrupted(Session& s, Recorder& r, RunProgress& progress, const std::string& after,
                      const char* resumes_from);

}  // namespace midge::train
