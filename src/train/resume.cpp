#include "train/resume.h"

#include <algorithm>
#include <iterator>

#include "core/errors.h"
#include "core/text.h"

namespace midge::train {

bool key_may_change_on_resume(const std::string& key) {
  return key == "data.workers" || key == "data.prefetch" || key == "data.cache" ||
         key == "data.cache_dir" || key == "run.threads" || key == "run.checkpoint_every" ||
         key == "run.checkpoint_seconds" || key == "run.cuda_graph" ||
         key == "run.progress_seconds" || key == "dist.timeout" || key == "sweep.seed";
}

namespace {

std::string listed(const std::vector<std::string>& names) {
  return names.empty() ? "(none)" : text::join(names, ", ");
}

std::string taxa_difference(std::vector<std::string> saved, std::vector<std::string> now) {
  std::sort(saved.begin(), saved.end());
  std::sort(now.begin(), now.end());
  std::vector<std::string> only_saved;
  std::vector<std::string> only_now;
  std::set_difference(saved.begin(), saved.end(), now.begin(), now.end(),
                      std::back_inserter(only_saved));
  std::set_difference(now.begin(), now.end(), saved.begin(), saved.end(),
                      std::back_inserter(only_now));
  if (only_saved.empty() && only_now.empty()) return "the same taxa in another order";
  return "only in the checkpoint: " + listed(only_saved) +
         "; only in this run: " + listed(only_now);
}

}  // namespace

void check_resumable(const TrainState& saved, const Config& config,
                     const std::vector<std::string>& classes, int world_size,
                     const std::string& state_file) {
  const Config old = resolve_config_text(saved.config, state_file, {});
  const std::vector<std::string> diffs = config_differences(old, config, key_may_change_on_resume);
  if (!diffs.empty()) {
    throw TrainError(state_file +
                     " belongs to a run with another configuration: " + text::join(diffs, ", ") +
                     "; use another --out or remove state.h5 and state.prev.h5");
  }
  if (saved.classes != classes) {
    throw TrainError(state_file + " was written for other taxa (" +
                     taxa_difference(saved.classes, classes) +
                     "); use another --out or remove state.h5 and state.prev.h5");
  }
  // Epochs still to train after the checkpoint (a stage of 0 epochs never
  // runs, so a checkpoint may stop at stage 2 with nothing left).
  long long left = 0;
  if (saved.stage <= 1) left += config.stage1.epochs - saved.epoch + config.stage2.epochs;
  if (saved.stage == 2) left += config.stage2.epochs - saved.epoch;
  const bool training_left = left > 0;
  if (saved.world_size > 0 && saved.world_size != world_size && training_left) {
    throw TrainError(
        state_file + " was written by a run on " + std::to_string(saved.world_size) +
        " rank(s); this run has " + std::to_string(world_size) +
        ". Training results depend on the number of ranks (dropout masks and BatchNorm batch "
        "statistics are per rank), so resume with " +
        std::to_string(saved.world_size) + " rank(s), or use another --out");
  }
}

}  // namespace midge::train
