// What the parts of a `midge train` run share (train/trainer.cpp holds the
// order): the configuration, the communicator and its agreement, the
// device, NCCL, the data set, the model, the precision, the loaders and the
// image cache, and the setup that makes them, in the same order on every
// rank (its collectives must match).
//
// File-system facts are decided once: rank 0 reads the data set (folder
// scan or manifest) and every rank trains on its answer (data::encode_split
// over a broadcast), so a shared file system is scanned once and no two
// ranks see the tree differently (NFS attribute caches).
#pragma once

#include <torch/torch.h>

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/stop_request.h"
#include "data/image_cache.h"
#include "data/loader.h"
#include "data/split.h"
#include "distributed/agreement.h"
#include "distributed/communicator.h"
#include "distributed/nccl_comm.h"
#include "model/resnet.h"
#include "train/device.h"
#include "train/precision.h"

namespace midge::train {

struct Session {
  Session(const Config& c, distributed::Communicator& w, std::string out_folder,
          std::string cache_folder)
      : config(c),
        world(w),
        agree(w, c.dist.timeout),
        out(std::move(out_folder)),
        cache_dir(std::move(cache_folder)) {}

  const Config config;
  distributed::Communicator& world;
  // Every step and phase boundary ends in an agreement of all ranks
  // (distributed/agreement.h): a failure one rank sees ends all alike.
  distributed::Agreement agree;
  const std::string out;
  const std::string cache_dir;  // empty: `<out>/cache` (train::TrainOptions)

  DeviceChoice device;
  // Where each rank of the run runs, in rank order, the same on every rank
  // (run.h5 /ranks; the log names the nodes): on a cluster the first thing
  // to check when ranks on one node are slower or pick the same GPU.
  struct Place {
    std::string host;
    int local_rank = 0;  // among the job's processes on that node
    int threads = 1;
    std::string device;  // "cpu" or "cuda:N"
  };
  std::vector<Place> places;
  // dist.backend resolved to NCCL: one communicator for the whole run (a
  // sweep's trial group), before any GradientSync that uses it.
  std::unique_ptr<distributed::NcclComm> nccl;
  data::Split split;
  int classes = 0;
  model::ResNet net{nullptr};
  std::string amp;                          // run.amp resolved: off|bf16|fp16
  LossScaler scaler{false};                 // fp16 loss scale, kept across epochs and stages
  torch::Tensor class_weights;              // data.balance = weighted; undefined otherwise
  std::shared_ptr<data::ImageCache> cache;  // data.cache; null without
  bool cache_reported = false;
  std::unique_ptr<data::Loader> eval_loader;
  std::unique_ptr<data::Loader> train_loader;  // of stage train_loader_stage
  int train_loader_stage = 0;
  // Distinct unreadable training images every rank knows of (lists
  // exchanged at epoch ends: share_skipped); a rank reports only more.
  std::int64_t known_bad = 0;
  std::unique_ptr<data::Loader> holdout_loader;  // held-out taxa, at the end only
  std::vector<std::string> holdout_unread;       // held-out images no rank could read

  bool rank0() const { return world.rank() == 0; }
  std::string path(const char* name) const;
  // Evaluation and Grad-CAM work in chunks of the training batch per rank
  // (of the last stage that trains): never more memory than a step.
  int eval_batch() const;
  // Loader settings from [data] and this rank; `train` adds augmentation
  // and class balance. Loaders never enforce data.max_bad_fraction
  // themselves: it is counted over all ranks at the agreements.
  data::LoaderOptions loader_options(bool train, int per_rank_batch) const;

  // A rank-0-only action followed by an agreement: a failure there ends
  // every rank alike; the verdict carries a stop request.
  template <class F>
  distributed::Verdict rank0_phase(const std::string& where, F&& body) {
    std::exception_ptr error;
    if (rank0()) {
      try {
        body();
      } catch (...) {
        error = std::current_exception();
      }
    }
    return agree.agree(where, stop_requested(), error);
  }
};

// dist.backend = nccl where it cannot work (no GPU, or a midge built
// without NCCL) is refused before anything is written.
void check_backend_available(const Config& config);

// Setup, in this order on every rank: device and threads (and the peak
// memory counters reset), NCCL, the data set (rank 0's), the image cache,
// the model with model.pretrained, rank 0's weights to all, the
// validation loader, run.amp.
void open_session(Session& s);

// Each rank's unreadable training images to every rank (collective), so
// that /data/skipped and state.h5 list them all and each counts once.
void share_skipped(Session& s);

// Throws on every rank alike when the unreadable training images (known +
// `found` since by all ranks) exceed data.max_bad_fraction.
void check_bad_images(Session& s, std::int64_t found);

// Every rank writes the images it decoded as its own cache part (file
// mode) and rank 0 reports; a collective.
void save_image_cache(Session& s);

}  // namespace midge::train
