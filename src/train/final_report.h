// The end of a run, after its last stage: the evaluation of the whole
// validation set (confusion matrix, per-taxon metrics, probabilities), the
// calibration of its probabilities (stats/calibration.h), the open-set
// scores and threshold and, with held-out taxa, how well they are told
// apart (stats/open_set.h), model.h5 (rank 0), Grad-CAM of up to
// gradcam.max_images validation images (rank 0, explain/gradcam.h), the
// run's peak memory, and run.h5 with status complete. Each part ends in an
// agreement; a stop agreed in any of them saves state.h5 after the last
// stage (the rerun makes the report again) and marks the run interrupted.
#pragma once

#include "train/checkpointer.h"
#include "train/recorder.h"
#include "train/session.h"
#include "train/stage_runner.h"
#include "train/trainer.h"

namespace midge::train {

// False when a stop was agreed during it. Fills outcome's accuracy,
// balanced accuracy and per-taxon table.
bool write_final_report(Session& s, Recorder& r, Checkpointer& c, RunProgress& p,
                        TrainOutcome* outcome);

}  // namespace midge::train
