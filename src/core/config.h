// The typed run configuration and how it is resolved.
//
// A Config is built from, in increasing precedence, the declared defaults,
// an INI file and `--set section.key=value` overrides, then checked by
// validate() for rules that involve several keys or the file system. Every
// rank resolves the same inputs the same way, so a bad configuration is
// reported before any work starts and no rank is left waiting.
//
// The key list, defaults and help live in config.cpp (option_table()); the
// field comments below only say what each group is for.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/options.h"

namespace midge {

struct DataConfig {
  std::string root;  // one sub-folder of images per taxon
  long long image_size = 0;
  std::string resize;  // pad|stretch|crop
  std::array<double, 3> mean{};
  std::array<double, 3> std{};
  long long split_every = 0;
  long long split_offset = 0;
  std::string manifest;  // CSV path,taxon,split replacing the folder scan
  // Specimens (data/specimens.h): a regex over file names naming each
  // image's specimen, and what the split keeps together.
  std::string specimen_pattern;
  std::string split_unit;  // specimen|image|group
  std::string taxonomy;    // CSV of taxonomic levels, one row per taxon
  std::string level;       // taxonomy column to train at; empty = folder names
  std::string balance;     // none|oversample|weighted
  long long workers = 0;
  long long prefetch = 0;
  double max_bad_fraction = 0;
  std::string cache;      // none|memory|file (data/image_cache.h)
  std::string cache_dir;  // file cache folder; empty = <out>/cache
  // Taxa (names after data.level) left out of training and validation and
  // used as "unknown" images to measure open-set rejection; comma list.
  std::string holdout_taxa;
};

// Everything that turns a decoded image into the network's input. Training
// takes it from [data] (preprocessing_of); model.h5 stores it, and predict
// and gradcam read it back, so an image is shaped for prediction exactly as
// it was for training. data::image_spec_from() is the one builder of the
// loader's ImageSpec from it. A new preprocessing key goes here, in
// preprocessing_of, and in model/weights.cpp's model.h5 attributes.
struct Preprocessing {
  long long image_size = 0;
  std::string resize;  // pad|stretch|crop
  std::array<double, 3> mean{};
  std::array<double, 3> std{};
};

Preprocessing preprocessing_of(const DataConfig& data);

struct ModelConfig {
  std::string arch;        // resnet18|resnet34|resnet50|resnet101
  std::string pretrained;  // none or a .pt/.pth/.h5 path
  double dropout = 0;
};

struct StageConfig {
  long long epochs = 0;
  long long batch_size = 0;
  std::string optimizer;  // sgd|adam|adamw
  double lr = 0;
  double momentum = 0;
  double weight_decay = 0;
  std::string schedule;  // none|cosine|plateau|step
  double lr_decay = 0;
  long long lr_step = 0;
  long long plateau_patience = 0;
  long long early_stop_patience = 0;
  std::string early_stop_metric;  // val_loss|val_acc
};

struct AugmentConfig {
  double rotate_deg = 0;
  double shift = 0;
  double scale = 0;
  double shear = 0;
  bool hflip = false;
  bool vflip = false;
  double brightness = 0;
  double contrast = 0;
  double elastic_alpha = 0;
  double elastic_sigma = 0;
};

struct RunConfig {
  long long seed = 0;
  std::string device;  // auto|cpu|cuda
  std::string amp;     // off|bf16|fp16
  long long threads = 0;
  bool deterministic = false;
  long long checkpoint_every = 0;
  double checkpoint_seconds = 0;  // epoch-end state.h5 at most this often (0: no limit)
  bool cuda_graph = false;        // capture the training step (train/step_graph.h)
  double progress_seconds = 0;    // <out>/progress.txt at most this often (0: every step)
};

struct DistConfig {
  double bucket_mb = 0;
  bool overlap = false;
  std::string backend;  // auto|mpi|nccl
  double timeout = 0;   // seconds an agreement waits for every rank
};

struct GradcamConfig {
  std::string layer;
  std::string target;  // predicted|true
  long long max_images = 0;
};

// Open-set rejection, chosen at training time and stored in model.h5 for
// `midge predict` (train/open_set.h).
struct PredictConfig {
  std::string open_set;    // msp|energy|off
  double accept_rate = 0;  // share of known validation images accepted
  double coverage = 0;     // conformal prediction sets (stats/conformal.h); 0 = none
};

struct SweepConfig {
  long long seed = 0;    // [random] draws of a sweep spec
  bool halving = false;  // asynchronous successive halving (sweep/assignment.h)
  long long halving_rate = 3;
  long long rung_epochs = 1;
};

struct Config {
  DataConfig data;
  ModelConfig model;
  StageConfig stage1;
  StageConfig stage2;
  bool stage2_allow_higher_lr = false;
  AugmentConfig augment;
  RunConfig run;
  DistConfig dist;
  GradcamConfig gradcam;
  PredictConfig predict;
  SweepConfig sweep;

  // Canonical text of every key after resolution, in declaration order.
  std::vector<std::pair<std::string, std::string>> values;

  // The resolved configuration as INI text: every key, grouped by section.
  // Reading it back yields an identical Config.
  std::string resolved_ini() const;
  // Canonical text of one key; throws std::out_of_range for an unknown key.
  const std::string& value(const std::string& key) const;
};

// "key (old -> new)" for every key whose canonical value differs between
// `from` and `to`, in declaration order, leaving out the keys `ignore`
// accepts (used to name what differs when a checkpoint or a sweep journal
// belongs to another configuration).
std::vector<std::string> config_differences(
    const Config& from, const Config& to,
    const std::function<bool(const std::string&)>& ignore = {});

// The declarations of every key (defaults, bounds, help).
const OptionTable& option_table();

// Resolves defaults < INI file (when `ini_path` is set) < overrides
// ("key=value" strings, applied in order). Throws ConfigError naming the
// key for unknown keys (with a suggestion), malformed or out-of-range values.
// Does not call validate().
Config resolve_config(const std::optional<std::string>& ini_path,
                      const std::vector<std::string>& overrides);

// Same, from INI text in memory (`origin` names it in messages).
Config resolve_config_text(const std::string& ini_text, const std::string& origin,
                           const std::vector<std::string>& overrides);

struct ValidateOptions {
  bool check_paths = true;   // input paths must exist
  bool require_data = true;  // data.root or data.manifest must be set
  int ranks = 1;             // ranks that will train one run (batch sizes must divide)
};

// The rules that depend on the number of ranks training one run: each
// stage's global batch must split evenly over them, and in stage 2 (which
// trains BatchNorm) a rank's share must hold 2 images when one image gives
// BatchNorm a single value per channel. Empty when all hold.
std::vector<std::string> rank_rule_violations(const Config& config, int ranks);

// Whether BatchNorm in training mode can normalize a batch of one image of
// this size: only when layer4's feature map is larger than 1x1 (> 32 px).
bool batchnorm_trains_on_one_image(long long image_size);

// Cross-field and file-system rules; throws ConfigError listing every
// violation, each naming its key(s).
void validate(const Config& config, const ValidateOptions& options = {});

}  // namespace midge
