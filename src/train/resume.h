// Whether a state.h5 left in the output folder may continue this run.
//
// Rerunning `midge train` with the same --out resumes after the last
// completed epoch. That is only safe when the checkpoint belongs to the same
// experiment; check_resumable refuses, naming every difference, when
//  - the resolved configuration differs in a key other than those of
//    key_may_change_on_resume (which cannot change results);
//  - the taxa differ (names, not just their count: a renamed taxon folder
//    is listed with what is only in the checkpoint and only in this run);
//  - the number of ranks differs while training epochs remain. With R ranks
//    each rank draws its own dropout masks and computes BatchNorm batch
//    statistics over its 1/R of every batch, so the weights after an epoch
//    depend on R. Once no training epoch is left (only the final
//    evaluation, model.h5 and Grad-CAM remain) any number of ranks may
//    finish the run: the evaluation's counts are exact over ranks and its
//    losses and probabilities equal up to floating-point rounding.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "train/checkpoint.h"

namespace midge::train {

// Keys whose change does not alter a run's results: a resumed run may differ
// in these from the run that wrote the checkpoint.
bool key_may_change_on_resume(const std::string& key);

// Throws TrainError naming `state_file` and every difference. `saved` comes
// from read_state_header.
void check_resumable(const TrainState& saved, const Config& config,
                     const std::vector<std::string>& classes, int world_size,
                     const std::string& state_file);

}  // namespace midge::train
