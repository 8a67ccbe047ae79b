// state.h5: the state of a run after its last checkpointed epoch
// (train/checkpointer.h), or at a step boundary inside an epoch when it was
// stopped on request, for resume.
//
// Holds the model's weights and buffers, the best weights kept by early
// stopping, the optimizer's state (LibTorch's own serialization, stored as
// bytes), schedule and early-stopping counters, the histories so far, and
// the resolved configuration, taxa and number of ranks it belongs to, and
// the fp16 loss scaler's state. The data order and augmentation are
// functions of (seed, epoch, position) and dropout is reseeded every step
// from (seed, stage, epoch, batch), so no random-generator state needs
// saving, inside an epoch either.
//
// Inside an epoch (`batch` > 0) it also holds what each rank's loop had
// summed so far (training loss, correct, images, data wait, seconds) and,
// with more than one rank, every rank's BatchNorm buffers: they differ
// between ranks until they are averaged at the end of the epoch
// (train/replica.h). Whether a state.h5 may continue a given run is
// decided in train/resume.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "io/run_file.h"
#include "model/resnet.h"
#include "model/weights.h"
#include "train/epoch_loop.h"
#include "train/precision.h"
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
  int world_size = 0;          // ranks of the run that wrote it (0: not recorded)
  LossScaler::State scaler{};  // fp16 dynamic loss scale
  std::string amp;             // run.amp as resolved (a resumed auto run keeps it)
  // Batches of `epoch` already trained (0: the epoch starts afresh).
  std::int64_t batch = 0;
  // batch > 0: kPartialSums numbers per rank, rank after rank.
  std::vector<double> partial_sums;
  // batch > 0 with more than one rank: each rank's BatchNorm buffers.
  std::vector<model::NamedTensors> rank_buffers;
  // Training images found unreadable so far (rank 0's), with the reasons:
  // a run resumed inside an epoch never revisits the batches before.
  std::vector<std::string> skipped_paths;
  std::vector<std::string> skipped_reasons;
};

// "state.prev.h5" for "state.h5": where save_state keeps the file it
// replaces.
std::string previous_state_path(const std::string& path);

void save_state(const std::string& path, model::ResNet& model, const TrainState& state);
// What state.h5 belongs to and where it stands (configuration, taxa, ranks,
// stage, epoch), without reading any tensor: enough to decide whether it
// may be resumed before a model of the right shape exists.
TrainState read_state_header(const std::string& path);
// Reads state.h5 and loads its weights into `model` (which must match).
TrainState load_state(const std::string& path, model::ResNet& model);

}  // namespace midge::train
