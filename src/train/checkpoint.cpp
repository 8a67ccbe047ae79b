#include "train/checkpoint.h"

#include "core/errors.h"
#include "io/hdf5.h"

namespace midge::train {

void save_state(const std::string& path, model::ResNet& model, const TrainState& s) {
  io::H5Writer f(path);
  f.set_attr("", "format", std::string("midge-state"));
  f.set_attr("", "config", s.config);
  f.set_attr("", "classes", s.classes);
  f.set_attr("", "world_size", static_cast<std::int64_t>(s.world_size));
  f.set_attr("", "amp", s.amp);
  f.write_scalar("stage", static_cast<std::int64_t>(s.stage));
  f.write_scalar("epoch", s.epoch);
  f.write_scalar("schedule/plateau_lr", s.schedule.plateau_lr);
  f.write_scalar("schedule/plateau_best", s.schedule.plateau_best);
  f.write_scalar("schedule/plateau_bad", s.schedule.plateau_bad);
  f.write_scalar("schedule/plateau_started", static_cast<std::int64_t>(s.schedule.plateau_started));
  f.write_scalar("early/has_best", static_cast<std::int64_t>(s.early.has_best));
  f.write_scalar("early/best", s.early.best);
  f.write_scalar("early/best_epoch", s.early.best_epoch);
  f.write_scalar("early/bad_epochs", s.early.bad_epochs);
  f.write("optimizer", s.optimizer);
  f.write_scalar("loss_scaler/scale", s.scaler.scale);
  f.write_scalar("loss_scaler/clean_steps", s.scaler.clean_steps);
  io::write_history(f, "history/stage1", s.stage1);
  io::write_history(f, "history/stage2", s.stage2);
  model::write_tensors(f, "model", model::named_state(model));
  if (s.has_best) model::write_tensors(f, "best", s.best);
  f.write_scalar("batch", s.batch);
  f.write("skipped/paths", s.skipped_paths);
  f.write("skipped/reasons", s.skipped_reasons);
  if (s.batch > 0) {
    f.write("partial/sums", s.partial_sums);
    for (std::size_t r = 0; r < s.rank_buffers.size(); ++r) {
      model::write_tensors(f, "partial/buffers/rank" + std::to_string(r), s.rank_buffers[r]);
    }
  }
  // The file this one replaces stays one generation back: a resume that
  // finds the newest corrupt goes on from it (train/trainer.cpp).
  f.commit_keeping(previous_state_path(path));
}

std::string previous_state_path(const std::string& path) {
  const std::string ext = ".h5";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
    return path.substr(0, path.size() - ext.size()) + ".prev.h5";
  }
  return path + ".prev";
}

namespace {

TrainState read_header(const io::H5Reader& f, const std::string& path) {
  if (!f.has_attr("", "format") || f.attr_string("", "format") != "midge-state") {
    throw TrainError(path + " is not a midge training state file");
  }
  TrainState s;
  s.config = f.attr_string("", "config");
  s.classes = f.attr_strings("", "classes");
  if (f.has_attr("", "world_size")) s.world_size = static_cast<int>(f.attr_int64("", "world_size"));
  if (f.has_attr("", "amp")) s.amp = f.attr_string("", "amp");
  s.stage = static_cast<int>(f.read_int64("stage"));
  s.epoch = f.read_int64("epoch");
  // Files of midge versions that stopped only at epoch ends have no batch.
  if (f.exists("batch")) s.batch = f.read_int64("batch");
  return s;
}

}  // namespace

TrainState read_state_header(const std::string& path) {
  io::H5Reader f(path);
  return read_header(f, path);
}

TrainState load_state(const std::string& path, model::ResNet& model) {
  io::H5Reader f(path);
  TrainState s = read_header(f, path);
  if (static_cast<int>(s.classes.size()) != model->num_classes()) {
    throw TrainError(path + " was written for " + std::to_string(s.classes.size()) +
                     " taxa, this run has " + std::to_string(model->num_classes()));
  }
  s.schedule.plateau_lr = f.read_double("schedule/plateau_lr");
  s.schedule.plateau_best = f.read_double("schedule/plateau_best");
  s.schedule.plateau_bad = f.read_int64("schedule/plateau_bad");
  s.schedule.plateau_started = f.read_int64("schedule/plateau_started") != 0;
  s.early.has_best = f.read_int64("early/has_best") != 0;
  s.early.best = f.read_double("early/best");
  s.early.best_epoch = f.read_int64("early/best_epoch");
  s.early.bad_epochs = f.read_int64("early/bad_epochs");
  s.optimizer = f.read_bytes("optimizer");
  // Files written before the loss scaler was saved resume at its initial state.
  if (f.exists("loss_scaler")) {
    s.scaler.scale = f.read_double("loss_scaler/scale");
    s.scaler.clean_steps = f.read_int64("loss_scaler/clean_steps");
  }
  s.stage1 = io::read_history(f, "history/stage1");
  s.stage2 = io::read_history(f, "history/stage2");
  model::import_state(model, model::read_tensors(f, "model"), model::ImportPolicy::kExact, path);
  s.has_best = f.exists("best");
  if (s.has_best) s.best = model::read_tensors(f, "best");
  if (f.exists("skipped")) {
    s.skipped_paths = f.read_strings("skipped/paths");
    s.skipped_reasons = f.read_strings("skipped/reasons");
    if (s.skipped_paths.size() != s.skipped_reasons.size()) {
      throw TrainError(path + ": skipped/paths and skipped/reasons differ in length");
    }
  }
  if (s.batch > 0) {
    s.partial_sums = f.read_doubles("partial/sums");
    const std::size_t ranks = s.partial_sums.size() / kPartialSums;
    if (ranks == 0 || s.partial_sums.size() % kPartialSums != 0 ||
        (s.world_size > 0 && ranks != static_cast<std::size_t>(s.world_size))) {
      throw TrainError(path + ": partial/sums does not hold " + std::to_string(kPartialSums) +
                       " numbers per rank");
    }
    for (std::size_t r = 0; ranks > 1 && r < ranks; ++r) {
      s.rank_buffers.push_back(model::read_tensors(f, "partial/buffers/rank" + std::to_string(r)));
    }
  }
  return s;
}

}  // namespace midge::train
