// The key catalogue: every configuration key declared once, with its
// default, bounds, help and the Config field it sets (core/config.h);
// parsing, range checks, "did you mean", --help and docs/config.md all come
// from this table (core/options.h). Resolution is in core/config.cpp, the
// rules across keys in core/config_rules.cpp.
#include "core/config.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/errors.h"
#include "core/text.h"

namespace midge {
namespace {

namespace po = boost::program_options;

// Declaration helpers: each binds a key to one Config field, so a key is
// declared (name, default, bounds, help, field) in exactly one line.
class Declarer {
 public:
  explicit Declarer(OptionTable* table) : table_(table) {}

  template <class Field>
  void integer(const std::string& key, long long def, long long lo, long long hi,
               const std::string& help, Field field) {
    OptionSpec s = base(key, OptionKind::kInt, std::to_string(def), help);
    s.min = static_cast<double>(lo);
    s.max = static_cast<double>(hi);
    s.apply = [field](Config& c, const std::string& v) {
      long long x = 0;
      text::parse_int64(v, &x);
      field(c) = x;
    };
    table_->add(std::move(s));
  }

  template <class Field>
  void number(const std::string& key, double def, double lo, double hi, const std::string& help,
              Field field) {
    OptionSpec s = base(key, OptionKind::kFloat, text::format_double(def), help);
    s.min = lo;
    s.max = hi;
    s.apply = [field](Config& c, const std::string& v) {
      double x = 0;
      text::parse_double(v, &x);
      field(c) = x;
    };
    table_->add(std::move(s));
  }

  template <class Field>
  void boolean(const std::string& key, bool def, const std::string& help, Field field) {
    OptionSpec s = base(key, OptionKind::kBool, def ? "true" : "false", help);
    s.apply = [field](Config& c, const std::string& v) { field(c) = (v == "true"); };
    table_->add(std::move(s));
  }

  template <class Field>
  void choice(const std::string& key, const std::string& def, std::vector<std::string> choices,
              const std::string& help, Field field) {
    OptionSpec s = base(key, OptionKind::kChoice, def, help);
    s.choices = std::move(choices);
    s.apply = [field](Config& c, const std::string& v) { field(c) = v; };
    table_->add(std::move(s));
  }

  template <class Field>
  void text(const std::string& key, OptionKind kind, const std::string& def,
            const std::string& help, Field field, OptionSpec extra = {}) {
    OptionSpec s = base(key, kind, def, help);
    s.extra_check = std::move(extra.extra_check);
    s.allowed_override = std::move(extra.allowed_override);
    s.apply = [field](Config& c, const std::string& v) { field(c) = v; };
    table_->add(std::move(s));
  }

  template <class Field>
  void triple(const std::string& key, const std::string& def, double lo, double hi,
              const std::string& help, Field field) {
    OptionSpec s = base(key, OptionKind::kFloatList, def, help);
    s.min = lo;
    s.max = hi;
    s.list_size = 3;
    s.apply = [field](Config& c, const std::string& v) {
      auto items = text::split(v, ',');
      for (std::size_t i = 0; i < 3; ++i) text::parse_double(items[i], &field(c)[i]);
    };
    table_->add(std::move(s));
  }

 private:
  static OptionSpec base(const std::string& key, OptionKind kind, const std::string& def,
                         const std::string& help) {
    OptionSpec s;
    s.key = key;
    s.kind = kind;
    s.default_value = def;
    s.help = help;
    return s;
  }
  OptionTable* table_;
};

constexpr long long kMaxEpochs = 100000;

void declare_stage(Declarer& d, const std::string& stage, StageConfig Config::*member,
                   long long epochs, const std::string& optimizer, double lr, double weight_decay,
                   const std::string& schedule, long long patience) {
  auto f = [member](auto field) {
    return [ member, field ](Config & c) -> auto& { return (c.*member).*field; };
  };
  const std::string what = stage == "stage1" ? "Stage 1 (backbone frozen, head trained)"
                                             : "Stage 2 (whole network fine-tuned)";
  d.integer(stage + ".epochs", epochs, 0, kMaxEpochs,
            what + ": number of epochs; 0 skips the stage.", f(&StageConfig::epochs));
  d.integer(stage + ".batch_size", 32, 1, 65536,
            "Global batch size of " + stage + " (summed over ranks).", f(&StageConfig::batch_size));
  d.choice(stage + ".optimizer", optimizer, {"sgd", "adam", "adamw"}, "Optimizer of " + stage + ".",
           f(&StageConfig::optimizer));
  d.number(stage + ".lr", lr, 1e-12, 10.0, "Initial learning rate of " + stage + ".",
           f(&StageConfig::lr));
  d.number(stage + ".momentum", 0.9, 0.0, 0.999,
           "SGD momentum (also Adam's beta1) of " + stage + ".", f(&StageConfig::momentum));
  d.number(stage + ".weight_decay", weight_decay, 0.0, 1.0,
           "Weight decay of " + stage +
               ": sgd and adam add weight_decay x weight to the gradient (L2 penalty); adamw "
               "instead multiplies the weights by 1 - lr x weight_decay each step (decoupled).",
           f(&StageConfig::weight_decay));
  d.choice(stage + ".schedule", schedule, {"none", "cosine", "plateau", "step"},
           "Learning-rate schedule of " + stage + ".", f(&StageConfig::schedule));
  d.number(
      stage + ".lr_decay", 0.1, 1e-6, 1.0,
      "Factor applied to the learning rate by the step and plateau schedules of " + stage + ".",
      f(&StageConfig::lr_decay));
  d.integer(stage + ".lr_step", 0, 0, kMaxEpochs,
            "Epochs between decays of the step schedule of " + stage +
                "; 0 = a third of the stage's epochs.",
            f(&StageConfig::lr_step));
  d.integer(stage + ".plateau_patience", 2, 1, kMaxEpochs,
            "Epochs without improvement before the plateau schedule of " + stage +
                " decays the learning rate.",
            f(&StageConfig::plateau_patience));
  d.integer(stage + ".early_stop_patience", patience, 0, kMaxEpochs,
            "Stop " + stage +
                " after this many epochs without improvement and restore the best "
                "weights; 0 turns early stopping off.",
            f(&StageConfig::early_stop_patience));
  d.choice(stage + ".early_stop_metric", "val_loss", {"val_loss", "val_acc"},
           "Validation metric watched by early stopping and plateau scheduling in " + stage + ".",
           f(&StageConfig::early_stop_metric));
}

std::optional<std::string> check_pretrained(const std::string& v) {
  if (v == "none" || text::ends_with(v, ".pt") || text::ends_with(v, ".pth") ||
      text::ends_with(v, ".h5")) {
    return std::nullopt;
  }
  return "a file name must end in .pt, .pth or .h5";
}

OptionTable build_table() {
  OptionTable table;
  Declarer d(&table);
  // [data]
  d.text(
      "data.root", OptionKind::kPath, "",
      "Folder with one sub-folder of images per taxon (jpg, jpeg, png, tif, tiff, bmp), or "
      "a pack of one written by `midge pack` (one HDF5 file; the same run, bitwise).",
      [](Config & c) -> auto& { return c.data.root; });
  d.integer(
      "data.image_size", 512, 16, 4096, "Side in pixels of the square network input.",
      [](Config & c) -> auto& { return c.data.image_size; });
  d.choice(
      "data.resize", "pad", {"pad", "stretch", "crop"},
      "How an image becomes square: pad (keep aspect ratio, pad the short side), "
      "stretch, or crop the centre.",
      [](Config & c) -> auto& { return c.data.resize; });
  d.triple(
      "data.mean", "0.485,0.456,0.406", 0.0, 1.0,
      "Per-channel (R,G,B) mean subtracted after scaling pixels to [0,1] (ImageNet's).",
      [](Config & c) -> auto& { return c.data.mean; });
  d.triple(
      "data.std", "0.229,0.224,0.225", 1e-6, 10.0,
      "Per-channel (R,G,B) standard deviation divided by after subtracting the mean.",
      [](Config & c) -> auto& { return c.data.std; });
  d.integer(
      "data.split_every", 5, 2, 1000,
      "Validation split: within each taxon, sorted by file name, every n-th image "
      "goes to validation (5 = 80:20).",
      [](Config & c) -> auto& { return c.data.split_every; });
  d.integer(
      "data.split_offset", 4, 0, 999,
      "Index (0-based, modulo split_every) of the image sent to validation; 4 = the "
      "fifth, tenth, ... image.",
      [](Config & c) -> auto& { return c.data.split_offset; });
  d.text(
      "data.manifest", OptionKind::kPath, "",
      "CSV (path,taxon,split, optionally specimen and group columns) from `midge split "
      "--out` or written by hand, used instead of scanning data.root.",
      [](Config & c) -> auto& { return c.data.manifest; });
  d.text(
      "data.specimen_pattern", OptionKind::kText, "",
      "Regular expression (ECMAScript) searched in each image's file name; its first "
      "capture group (or the whole match) names the specimen within the image's folder, "
      "e.g. '^(.+)_v[0-9]+' for <specimen>_v<view>.png. Empty = each image is its own "
      "specimen (unless the manifest has a specimen column).",
      [](Config & c) -> auto& { return c.data.specimen_pattern; });
  d.choice(
      "data.split_unit", "specimen", {"specimen", "image", "group"},
      "What the validation split keeps together: specimen = the every-n-th rule counts "
      "each taxon's specimens (sorted) and all images of a specimen go to one side (image "
      "by image while specimens are unknown); image = image by image even when specimens "
      "are known (on purpose: it leaks); group = a manifest's group column, checked.",
      [](Config & c) -> auto& { return c.data.split_unit; });
  d.text(
      "data.taxonomy", OptionKind::kPath, "",
      "CSV with one row per taxon folder and one column per taxonomic level (e.g. "
      "species,genus,subfamily).",
      [](Config & c) -> auto& { return c.data.taxonomy; });
  d.text(
      "data.level", OptionKind::kText, "",
      "Taxonomy column to train at (needs data.taxonomy); empty = the folder names.",
      [](Config & c) -> auto& { return c.data.level; });
  d.choice(
      "data.balance", "none", {"none", "oversample", "weighted"},
      "Class balance: none, oversample small taxa up to the largest, or weight the "
      "loss by inverse taxon frequency.",
      [](Config & c) -> auto& { return c.data.balance; });
  d.integer(
      "data.workers", 4, 0, 256,
      "Decode/augment worker threads per rank; 0 decodes on the training thread.",
      [](Config & c) -> auto& { return c.data.workers; });
  d.integer(
      "data.prefetch", 4, 1, 1024, "Batches prepared ahead per rank.",
      [](Config & c) -> auto& { return c.data.prefetch; });
  d.number(
      "data.max_bad_fraction", 0.01, 0.0, 1.0,
      "Largest share of unreadable images that is skipped (and listed in "
      "/data/skipped); above it the run stops.",
      [](Config & c) -> auto& { return c.data.max_bad_fraction; });
  d.choice(
      "data.cache", "none", {"none", "memory", "file"},
      "Decoded-image cache (data/image_cache.h): keep every image decoded and shaped to "
      "data.image_size (before augmentation) in memory for the run (memory), and also in "
      "HDF5 files under data.cache_dir shared by later runs and a sweep's trials (file). "
      "Needs images x image_size^2 x 3 bytes of memory per rank; results are the same.",
      [](Config & c) -> auto& { return c.data.cache; });
  d.text(
      "data.cache_dir", OptionKind::kPath, "",
      "Folder of the file cache; empty = <out>/cache (a sweep's: <sweep out>/cache).",
      [](Config & c) -> auto& { return c.data.cache_dir; });
  d.text(
      "data.holdout_taxa", OptionKind::kText, "",
      "Comma-separated taxa (names at data.level) kept out of training and validation; their "
      "images test open-set rejection (run.h5 /eval/open_set: AUROC, false-positive rate).",
      [](Config & c) -> auto& { return c.data.holdout_taxa; });
  // [model]
  d.choice(
      "model.arch", "resnet50", {"resnet18", "resnet34", "resnet50", "resnet101"},
      "Backbone (torchvision ResNet with torchvision parameter names).",
      [](Config & c) -> auto& { return c.model.arch; });
  OptionSpec pretrained;
  pretrained.extra_check = check_pretrained;
  pretrained.allowed_override = "none, or a path ending in .pt/.pth (TorchScript) or .h5 (midge)";
  d.text(
      "model.pretrained", OptionKind::kText, "none",
      "Initial weights: none (random), a TorchScript torchvision ResNet, or a midge "
      "model.h5 (its fc layer is dropped).",
      [](Config & c) -> auto& { return c.model.pretrained; }, std::move(pretrained));
  d.number(
      "model.dropout", 0.5, 0.0, 0.99,
      "Dropout probability on the pooled features before the taxon classifier.",
      [](Config & c) -> auto& { return c.model.dropout; });
  // [stage1] [stage2]
  declare_stage(d, "stage1", &Config::stage1, 10, "adam", 1e-3, 0.0, "none", 0);
  declare_stage(d, "stage2", &Config::stage2, 30, "sgd", 1e-4, 1e-4, "cosine", 5);
  d.boolean(
      "stage2.allow_higher_lr", false,
      "Allow stage2.lr above stage1.lr (normally a mistake: fine-tuning the whole "
      "network at a higher rate destroys pretrained features).",
      [](Config & c) -> auto& { return c.stage2_allow_higher_lr; });
  // [augment]
  d.number(
      "augment.rotate_deg", 20, 0, 180, "Random rotation, uniform in +-degrees.",
      [](Config & c) -> auto& { return c.augment.rotate_deg; });
  d.number(
      "augment.shift", 0.1, 0, 0.5, "Random shift, uniform in +-fraction of the side.",
      [](Config & c) -> auto& { return c.augment.shift; });
  d.number(
      "augment.scale", 0.1, 0, 0.9, "Random zoom, uniform in 1 +- scale.",
      [](Config & c) -> auto& { return c.augment.scale; });
  d.number(
      "augment.shear", 5, 0, 45, "Random shear, uniform in +-degrees.",
      [](Config & c) -> auto& { return c.augment.shear; });
  d.boolean(
      "augment.hflip", true, "Random horizontal flip (p = 0.5).",
      [](Config & c) -> auto& { return c.augment.hflip; });
  d.boolean(
      "augment.vflip", true, "Random vertical flip (p = 0.5).",
      [](Config & c) -> auto& { return c.augment.vflip; });
  d.number(
      "augment.brightness", 0.1, 0, 1,
      "Random brightness change, uniform in +-fraction of full range.",
      [](Config & c) -> auto& { return c.augment.brightness; });
  d.number(
      "augment.contrast", 0.1, 0, 1, "Random contrast factor, uniform in 1 +- contrast.",
      [](Config & c) -> auto& { return c.augment.contrast; });
  d.number(
      "augment.elastic_alpha", 0, 0, 1000,
      "Elastic deformation strength in pixels of displacement; 0 turns it off.",
      [](Config & c) -> auto& { return c.augment.elastic_alpha; });
  d.number(
      "augment.elastic_sigma", 8, 0.5, 1000,
      "Smoothing (Gaussian sigma, pixels) of the elastic displacement field.",
      [](Config & c) -> auto& { return c.augment.elastic_sigma; });
  // [run]
  d.integer(
      "run.seed", 1, 0, std::numeric_limits<long long>::max(),
      "Seed of all randomness (initial weights, shuffling, augmentation).",
      [](Config & c) -> auto& { return c.run.seed; });
  d.choice(
      "run.device", "auto", {"auto", "cpu", "cuda"},
      "Compute device; auto uses CUDA when a GPU is visible.",
      [](Config & c) -> auto& { return c.run.device; });
  d.choice(
      "run.amp", "auto", {"auto", "off", "bf16", "fp16"},
      "Mixed precision (autocast): auto = bf16 where every rank's hardware computes it natively "
      "(a CPU with AVX512_BF16 or AMX-BF16, a GPU of compute capability 8.0+), else off; fp16 "
      "(with dynamic loss scaling) needs CUDA. The choice is logged and stored in run.h5 (amp).",
      [](Config & c) -> auto& { return c.run.amp; });
  d.integer(
      "run.threads", 0, 0, 1024,
      "CPU compute threads per rank; 0 = the CPUs this process may run on (its affinity: "
      "taskset, the launcher's binding, Slurm's --cpus-per-task) divided by the ranks on the "
      "node whose CPUs overlap it.",
      [](Config & c) -> auto& { return c.run.threads; });
  d.boolean(
      "run.deterministic", false,
      "Bitwise-repeatable runs on CPU (deterministic algorithms; may be slower).",
      [](Config & c) -> auto& { return c.run.deterministic; });
  d.integer(
      "run.checkpoint_every", 1, 0, kMaxEpochs,
      "Write state.h5 for resuming every n epochs; 0 = never.",
      [](Config & c) -> auto& { return c.run.checkpoint_every; });
  d.number(
      "run.checkpoint_seconds", 60, 0, 86400,
      "Epoch-end state.h5 (run.checkpoint_every) at most this often by rank 0's clock, so that "
      "short epochs do not each rewrite it; the end of each stage, a stop and a halving pause "
      "write it whatever the time. 0 = every checkpoint_every epochs.",
      [](Config & c) -> auto& { return c.run.checkpoint_seconds; });
  d.number(
      "run.progress_seconds", 30, 0, 86400,
      "Rank 0 rewrites <out>/progress.txt (stage, epoch, batch, time) after a step at most "
      "this often, for `midge status` (run.h5 is written per epoch); 0 = every step.",
      [](Config & c) -> auto& { return c.run.progress_seconds; });
  d.boolean(
      "run.cuda_graph", false,
      "Capture the whole training step (forward, loss, backward, optimizer) as one CUDA graph "
      "after 3 warm-up steps and replay it for every full batch: fewer launch gaps on a GPU. "
      "Captured again when the learning rate changes; partial batches run uncaptured. Not "
      "possible (logged, training goes on uncaptured) on the CPU, with run.amp = fp16 or with "
      "more than one rank. Results equal the uncaptured step's up to rounding.",
      [](Config & c) -> auto& { return c.run.cuda_graph; });
  // [dist]
  d.number(
      "dist.bucket_mb", 25, 0.001, 4096,
      "Gradient allreduce bucket size in MiB: gradients are fused into buckets of about "
      "this size, one allreduce each (fewer, larger messages; smaller ones overlap "
      "sooner). Only parameters being trained take part.",
      [](Config & c) -> auto& { return c.dist.bucket_mb; });
  d.boolean(
      "dist.overlap", true,
      "Start each bucket's allreduce on a background thread during backward, as soon as "
      "its gradients (and the buckets before it) are ready; false reduces all buckets "
      "after backward.",
      [](Config & c) -> auto& { return c.dist.overlap; });
  d.choice(
      "dist.backend", "auto", {"auto", "mpi", "nccl"},
      "How GPU gradients cross ranks: nccl reduces them in GPU memory on a side stream "
      "(one GPU per rank; needs a midge built with a CUDA LibTorch and NCCL), mpi through "
      "MPI (pinned host memory unless the MPI is CUDA-aware); auto = nccl on CUDA when "
      "built with it, else mpi. CPU training always uses MPI.",
      [](Config & c) -> auto& { return c.dist.backend; });
  d.number(
      "dist.timeout", 120, 1, 86400,
      "Seconds the ranks of a run (or of a sweep's trial group) wait for each other at an "
      "agreement (every training step, every phase boundary) before deciding that a rank is "
      "gone or stuck and ending the job. A failure that a rank reports (NaN loss, unreadable "
      "images, a failed write) is agreed at once and never waits this long.",
      [](Config & c) -> auto& { return c.dist.timeout; });
  // [gradcam]
  d.choice(
      "gradcam.layer", "layer4", {"layer1", "layer2", "layer3", "layer4"},
      "ResNet block whose output activations Grad-CAM weights.",
      [](Config & c) -> auto& { return c.gradcam.layer; });
  d.choice(
      "gradcam.target", "predicted", {"predicted", "true"},
      "Taxon whose evidence Grad-CAM shows in run.h5: the predicted or the true one.",
      [](Config & c) -> auto& { return c.gradcam.target; });
  d.integer(
      "gradcam.max_images", 64, 0, 1000000,
      "Validation images with a Grad-CAM heatmap in run.h5; 0 = none.",
      [](Config & c) -> auto& { return c.gradcam.max_images; });
  // [predict]
  d.choice(
      "predict.open_set", "msp", {"msp", "energy", "off"},
      "Score that calls an image of an unseen taxon unknown: msp (the calibrated top "
      "probability), energy (logsumexp of the logits), or off (always name a taxon). The "
      "threshold is set at training time and kept in model.h5 for `midge predict`.",
      [](Config & c) -> auto& { return c.predict.open_set; });
  d.number(
      "predict.accept_rate", 0.95, 0.01, 1.0,
      "Share of the known validation images the open-set threshold accepts; the rest of "
      "them, and images scoring lower, are reported as unknown.",
      [](Config & c) -> auto& { return c.predict.accept_rate; });
  d.number(
      "predict.coverage", 0.95, 0.0, 0.999,
      "Prediction sets: each image gets the set of taxa that holds its true taxon with at "
      "least this probability (split conformal, LAC score, calibrated on the validation "
      "images; docs/science.md). 0 = no sets.",
      [](Config & c) -> auto& { return c.predict.coverage; });
  // [sweep]
  d.integer(
      "sweep.seed", 0, 0, std::numeric_limits<long long>::max(),
      "Seed of a sweep spec's [random] draws (`midge sweep`); each trial's run.seed comes from "
      "[repeat] seeds or run.seed.",
      [](Config & c) -> auto& { return c.sweep.seed; });
  d.boolean(
      "sweep.halving", false,
      "Asynchronous successive halving (`midge sweep`): at each rung only the best "
      "1/sweep.halving_rate of the trials that reached it train on; the others stop.",
      [](Config & c) -> auto& { return c.sweep.halving; });
  d.integer(
      "sweep.halving_rate", 3, 2, 1000,
      "Successive halving: one trial in this many goes on at each rung.",
      [](Config & c) -> auto& { return c.sweep.halving_rate; });
  d.integer(
      "sweep.rung_epochs", 1, 1, kMaxEpochs,
      "Successive halving: rungs are the end of stage 1 and every this many epochs of stage 2 "
      "(the end of stage 2 is the finish, not a rung).",
      [](Config & c) -> auto& { return c.sweep.rung_epochs; });
  return table;
}

}  // namespace

const OptionTable& option_table() {
  static const OptionTable kTable = build_table();
  return kTable;
}

}  // namespace midge
