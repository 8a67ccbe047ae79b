// state.h5: the state of a run after its last completed epoch, for resume.
//
// Holds the model's weights and buffers, the best weights kept by early
// stopping, the optimizer's state (LibTorch's own serialization, stored as
// bytes), schedule and early-stopping counters, the histories so far, and
// the resolved configuration and taxa it belongs to. The data order and
// augmentation are functions of (seed, epoch) and dropout is reseeded each
// epoch, so no random-generator state needs saving.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "io/run_file.h"
#include "model/resnet.h"
#include "model/weights.h"
#include "train/schedule.h"

namespace midge::train {

struct TrainState {
  int stage = 1;           // stage to continue with (3 = both done)
  std::int64_t epoch = 0;  // epochs of that stage already completed
  ScheduleState schedule;
  EarlyStopState early;
  bool has_best = false;
  model::NamedTensors best;             // early stopping's best weights (CPU copies)
  std::vector<std::uint8_t> optimizer;  // serialized optimizer of `stage`
  io::History stage1;
  io::History stage2;
  std::string config;  // resolved INI text
  std::vector<std::string> classes;
};

void save_state(const std::string& path, model::ResNet& model, const TrainState& state);
// Reads state.h5 and loads its weights into `model` (which must match).
TrainState load_state(const std::string& path, model::ResNet& model);

// Keys whose change does not alter a run's results: a resumed run may differ
// in these from the run that wrote the checkpoint.
bool key_may_change_on_resume(const std::string& key);

}  // namespace midge::train
