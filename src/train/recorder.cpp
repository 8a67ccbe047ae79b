#include "train/recorder.h"

#include <algorithm>

#include "data/image_set.h"
#include "data/specimens.h"
#include "io/hdf5_library.h"
#include "model/torch_info.h"

namespace midge::train {

void Recorder::begin() {
  record_.config = s_.config.resolved_ini();
  record_.world_size = s_.world.size();
  record_.started = io::utc_timestamp();
  record_.host = io::host_name();
  record_.versions = "LibTorch " + model::torch_library_version() + "; OpenCV " +
                     data::opencv_library_version() + "; HDF5 " + io::hdf5_library_version() +
                     "; MPI " + distributed::mpi_library_version();
}

void Recorder::describe_session() {
  record_.device = hardware_description(s_.device);
  record_.rank_hosts.clear();
  record_.rank_local_ranks.clear();
  record_.rank_threads.clear();
  record_.rank_devices.clear();
  for (const Session::Place& p : s_.places) {
    record_.rank_hosts.push_back(p.host);
    record_.rank_local_ranks.push_back(p.local_rank);
    record_.rank_threads.push_back(p.threads);
    record_.rank_devices.push_back(p.device);
  }
  record_.classes = s_.split.classes;
  for (const auto& x : s_.split.train) {
    record_.train_paths.push_back(x.path);
    record_.train_labels.push_back(x.label);
  }
  for (const auto& x : s_.split.val) {
    record_.val_paths.push_back(x.path);
    record_.val_labels.push_back(x.label);
  }
  record_.holdout_taxa = s_.split.holdout_classes;
  for (const auto& x : s_.split.holdout) {
    record_.holdout_paths.push_back(x.path);
    record_.holdout_labels.push_back(x.label);
  }
  if (data::has_specimens(s_.split)) {
    for (const auto& x : s_.split.train) record_.train_specimens.push_back(x.specimen);
    for (const auto& x : s_.split.val) record_.val_specimens.push_back(x.specimen);
    for (const auto& x : s_.split.holdout) record_.holdout_specimens.push_back(x.specimen);
  }
  // The unit as applied: specimen without known specimens is image by image.
  record_.split_unit = s_.config.data.split_unit == "specimen" && record_.train_specimens.empty()
                           ? "image"
                           : s_.config.data.split_unit;
}

distributed::Verdict Recorder::write() {
  return s_.rank0_phase("writing " + s_.path("run.h5"), [this] { write_alone(); });
}

distributed::Verdict Recorder::write(io::RunStatus status) {
  record_.status = status;
  return write();
}

void Recorder::write_alone() {
  if (!s_.rank0()) return;
  fill_skipped();
  io::write_run_file(s_.path("run.h5"), record_);
}

void Recorder::fill_skipped() {
  record_.skipped.clear();
  record_.skipped_reasons.clear();
  for (const data::Loader* loader :
       {s_.train_loader.get(), s_.eval_loader.get(), s_.holdout_loader.get()}) {
    if (loader == nullptr) continue;
    for (const auto& x : loader->skipped()) {
      record_.skipped.push_back(x.path);
      record_.skipped_reasons.push_back(x.reason);
    }
  }
  // Each rank's validation loader knows only its shard's failures; the
  // evaluation's gathered rows (predicted -1) name the others'.
  auto add_unread = [this](const std::string& p) {
    if (std::find(record_.skipped.begin(), record_.skipped.end(), p) != record_.skipped.end())
      return;
    record_.skipped.push_back(p);
    record_.skipped_reasons.push_back("unreadable (read by another rank; its log says why)");
  };
  if (record_.has_eval) {
    for (std::size_t i = 0; i < record_.eval.predicted.size(); ++i)
      if (record_.eval.predicted[i] < 0) add_unread(record_.eval.paths[i]);
  }
  for (const std::string& p : s_.holdout_unread) add_unread(p);
}

}  // namespace midge::train
