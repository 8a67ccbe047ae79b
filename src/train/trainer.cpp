#include "train/trainer.h"

#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/random.h"
#include "core/stop_request.h"
#include "core/text.h"
#include "data/image_set.h"
#include "data/loader.h"
#include "data/taxonomy.h"
#include "distributed/nccl_comm.h"
#include "explain/gradcam.h"
#include "io/atomic_file.h"
#include "io/hdf5_library.h"
#include "io/run_file.h"
#include "model/resnet.h"
#include "model/torch_info.h"
#include "model/weights.h"
#include "train/calibration.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/evaluation.h"
#include "train/forward.h"
#include "train/gradient_sync.h"
#include "train/metrics.h"
#include "train/open_set.h"
#include "train/optimizer.h"
#include "train/precision.h"
#include "train/progress.h"
#include "train/replica.h"
#include "train/resume.h"
#include "train/schedule.h"
#include "train/step_graph.h"
#include "train/update.h"

namespace midge::train {
namespace fs = std::filesystem;

namespace {

model::NamedTensors clone_state(model::ResNet& net) {
  model::NamedTensors out;
  for (auto& [name, t] : model::named_state(net))
    out.emplace_back(name, t.detach().to(torch::kCPU).clone());
  return out;
}

class Trainer {
 public:
  Trainer(const Config& config, distributed::Communicator& world, std::string out,
          TrainOptions options)
      : config_(config),
        world_(world),
        out_(std::move(out)),
        pause_before_(std::move(options.pause_before)),
        cache_dir_(std::move(options.cache_dir)) {}

  TrainOutcome run();

 private:
  bool rank0() const { return world_.rank() == 0; }
  std::string path(const char* name) const { return (fs::path(out_) / name).string(); }
  int per_rank_batch() const;
  void setup();
  void hash_images();
  void open_nccl();
  void choose_amp();
  void check_backend_available() const;
  void resume_from(const std::string& state_file);
  void run_stage(int stage);
  // Returns the mean training loss; fills train_acc, images_per_second,
  // train_seconds and data_wait_seconds of *report.
  // `graph`: run.cuda_graph's captured step for full batches, or null.
  double train_epoch(int stage, std::int64_t epoch, torch::optim::Optimizer& opt,
                     const std::vector<torch::Tensor>& params, StepGraph* graph,
                     EpochReport* report);
  // run.cuda_graph's captured step for a stage, or null (not asked for, or
  // not possible here: logged once).
  std::unique_ptr<StepGraph> make_step_graph(int stage, torch::optim::Optimizer& opt,
                                             const std::vector<torch::Tensor>& params);
  torch::Tensor cross_entropy_loss(const torch::Tensor& logits, const torch::Tensor& y) const {
    return torch::nn::functional::cross_entropy(
        logits, y, torch::nn::functional::CrossEntropyFuncOptions().weight(class_weights_));
  }
  void write_run();
  void checkpoint(int next_stage, std::int64_t epoch, torch::optim::Optimizer* opt,
                  bool always = false);
  bool pause_here(int stage, std::int64_t epoch, torch::optim::Optimizer* opt);
  bool stop_agreed();
  void mark_interrupted(const std::string& after, const char* resumes_from);
  void stop_inside_epoch(int stage, std::int64_t epoch, std::int64_t next_batch,
                         torch::optim::Optimizer& opt, const double (&sums)[kPartialSums],
                         std::int64_t batches);
  void open_image_cache();
  void save_image_cache();
  void finish();
  // Temperature and calibration error of the final evaluation (into E).
  void calibrate(const EvalResult& r, io::EvalRecord* e) const;
  // Open-set scores and threshold of the final evaluation, and their
  // separation of held-out taxa (into E). A collective with held-out taxa.
  void evaluate_open_set(const EvalResult& r, io::EvalRecord* e);
  void explain_validation(const std::vector<std::int64_t>& predicted);
  data::LoaderOptions loader_options(bool train, int per_rank_batch) const;

  Config config_;
  distributed::Communicator& world_;
  std::string out_;
  PauseQuestion pause_before_;
  std::string cache_dir_;
  std::shared_ptr<data::ImageCache> cache_;  // data.cache; null without
  bool cache_reported_ = false;
  DeviceChoice device_;
  data::Split split_;
  int classes_ = 0;
  model::ResNet net_{nullptr};
  std::unique_ptr<data::Loader> eval_loader_;
  std::unique_ptr<data::Loader> train_loader_;
  std::unique_ptr<data::Loader> holdout_loader_;  // held-out taxa, at the end only
  std::vector<std::string> holdout_unread_;       // held-out images no rank could read
  int loader_stage_ = 0;
  LossScaler scaler_{false};  // fp16 loss scale, kept across epochs and stages
  std::string amp_;           // run.amp resolved: off|bf16|fp16 (choose_amp)
  // dist.backend resolved to NCCL: one communicator for the whole run (a
  // sweep's trial group), declared before sync_, which uses it.
  std::unique_ptr<distributed::NcclComm> nccl_;
  std::unique_ptr<GradientSync> sync_;  // during a stage, with more than one rank
  double exposed_comm_seconds_ = 0;     // last epoch: gradient sync not hidden by backward
  double comm_seconds_ = 0;             // last epoch: time spent reducing gradients
  torch::Tensor class_weights_;
  io::RunRecord record_;
  TrainState state_;
  bool resumed_ = false;
  bool graph_obstacle_logged_ = false;
  EtaEstimate eta_;
  std::int64_t epochs_done_ = 0;
  TrainOutcome outcome_;
};

// Evaluation and Grad-CAM work in chunks of the training batch per rank (of
// the last stage that trains), so they never need more memory than a
// training step.
int Trainer::per_rank_batch() const {
  const StageConfig& last = config_.stage2.epochs > 0 ? config_.stage2 : config_.stage1;
  return static_cast<int>(std::max<long long>(1, last.batch_size / world_.size()));
}

// dist.backend = nccl where it cannot work is refused before anything is
// written: no GPU here, or a midge built without NCCL.
void Trainer::check_backend_available() const {
  if (config_.dist.backend != "nccl") return;
  if (config_.run.device == "cpu" || !torch::cuda::is_available()) {
    throw UsageError("dist.backend = nccl, but training runs on the CPU (no CUDA device visible)");
  }
  if (!distributed::nccl_built()) {
    throw UsageError(
        "dist.backend = nccl, but this midge was built without NCCL (it needs a CUDA LibTorch and "
        "NCCL's nccl.h at build time); use dist.backend = auto or mpi");
  }
}

// dist.backend: auto takes NCCL for GPU gradients when every rank can use
// it, each on a GPU of its own, and MPI otherwise; nccl insists (and with
// one rank still starts NCCL, which checks that it works on this node,
// though one rank has nothing to reduce). The ranks decide together, as
// starting NCCL is collective.
void Trainer::open_nccl() {
  const std::string& backend = config_.dist.backend;
  // Conditions alike on every rank (configuration, world, the binary): no
  // rank leaves here while others go on to the collectives below.
  if (backend == "mpi" || (world_.size() == 1 && backend != "nccl")) return;
  if (backend == "auto" && !distributed::nccl_built()) return;
  std::string why;
  bool usable = device_.cuda;
  if (!usable) {
    why = "rank " + std::to_string(world_.rank()) + " trains on the CPU";
  } else if (!distributed::nccl_available(&why)) {
    usable = false;
  }
  // NCCL refuses two ranks of a communicator on one GPU: every rank learns
  // every other's GPU (by UUID), one broadcast per rank.
  const std::uint64_t mine = usable ? distributed::gpu_key(device_.device.index()) : 0;
  for (int r = 0; r < world_.size(); ++r) {
    std::int64_t key = r == world_.rank() ? static_cast<std::int64_t>(mine) : 0;
    world_.broadcast(&key, 1, r);
    if (usable && r != world_.rank() && static_cast<std::uint64_t>(key) == mine) {
      usable = false;
      why = text::format("ranks %d and %d drive the same GPU, and NCCL needs a GPU per rank",
                         std::min(r, world_.rank()), std::max(r, world_.rank()));
    }
  }
  const bool everywhere =
      world_.allreduce_value<std::int64_t>(usable ? 1 : 0, distributed::ReduceOp::kMin) == 1;
  if (!everywhere) {
    const std::string reason = usable ? "another rank cannot use NCCL" : why;
    if (backend == "nccl") {
      throw UsageError("dist.backend = nccl on rank " + std::to_string(world_.rank()) + ": " +
                       reason + "; use dist.backend = auto or mpi");
    }
    if (rank0() && device_.cuda) log::info("gradients between GPUs through MPI: " + reason);
    return;
  }
  nccl_ = distributed::make_nccl_comm(world_, device_.device.index());
  if (rank0()) {
    log::info(text::format("gradients between GPUs through %s, %d rank(s)%s",
                           nccl_->version().c_str(), nccl_->size(),
                           world_.size() == 1 ? " (one rank: nothing to reduce)" : ""));
  }
}

// Content hashes of every image, for run.h5 (only rank 0 writes it): what
// `midge replay` checks and `midge collect` compares validation sets by.
void Trainer::hash_images() {
  const Clock::time_point start = Clock::now();
  const int threads = static_cast<int>(std::clamp<long long>(config_.data.workers, 1, 8));
  record_.train_sha256 = data::content_hashes(split_.train, threads);
  record_.val_sha256 = data::content_hashes(split_.val, threads);
  record_.holdout_sha256 = data::content_hashes(split_.holdout, threads);
  record_.input_keys.clear();
  record_.input_paths.clear();
  record_.input_sha256.clear();
  // The files training reads besides the images (data.taxonomy only when
  // data.level relabels by it); "" for one that cannot be read, as for
  // images: hashing never fails the run, on rank 0 alone.
  const std::pair<const char*, const std::string*> inputs[] = {
      {"data.manifest", &config_.data.manifest},
      {"data.taxonomy", config_.data.level.empty() ? nullptr : &config_.data.taxonomy},
      {"model.pretrained", &config_.model.pretrained}};
  std::vector<data::Sample> files;
  for (const auto& [key, value] : inputs) {
    if (value == nullptr || value->empty() || *value == "none") continue;
    record_.input_keys.emplace_back(key);
    record_.input_paths.push_back(*value);
    files.push_back({*value, 0});
  }
  record_.input_sha256 = data::content_hashes(files, 1);
  log::info(text::format("SHA-256 of %zu images in %.1f s",
                         split_.train.size() + split_.val.size() + split_.holdout.size(),
                         seconds_since(start)));
}

void Trainer::setup() {
  device_ = choose_device(config_.run, world_.local_rank(), world_.local_size());
  open_nccl();
  split_ = data::split_for_run(config_.data);
  classes_ = static_cast<int>(split_.classes.size());
  open_image_cache();
  torch::manual_seed(config_.run.seed);
  net_ = model::ResNet(config_.model.arch, classes_, config_.model.dropout);
  model::load_pretrained(net_, config_.model.pretrained);
  net_->to(device_.device);
  broadcast_state(world_, net_);
  if (config_.data.balance == "weighted") {
    std::vector<int> labels;
    for (const auto& s : split_.train) labels.push_back(s.label);
    auto w = data::class_weights(labels, classes_);
    class_weights_ = torch::tensor(w).to(device_.device);
  }
  eval_loader_ =
      std::make_unique<data::Loader>(split_.val, classes_, loader_options(false, per_rank_batch()));
  choose_amp();
  scaler_ = LossScaler(amp_ == "fp16");
  record_.device = hardware_description(device_);

  record_.classes = split_.classes;
  for (const auto& s : split_.train) {
    record_.train_paths.push_back(s.path);
    record_.train_labels.push_back(s.label);
  }
  for (const auto& s : split_.val) {
    record_.val_paths.push_back(s.path);
    record_.val_labels.push_back(s.label);
  }
  record_.holdout_taxa = split_.holdout_classes;
  for (const auto& s : split_.holdout) {
    record_.holdout_paths.push_back(s.path);
    record_.holdout_labels.push_back(s.label);
  }
  if (rank0()) hash_images();
  state_.config = record_.config;
  state_.classes = split_.classes;
  state_.world_size = world_.size();
  const std::string state_file = path("state.h5");
  if (fs::exists(state_file)) resume_from(state_file);
  record_.amp = amp_;
  state_.amp = amp_;
}

// run.amp = auto: bf16 when every rank's device computes it natively (all
// ranks train alike), else off. A resumed run keeps what it started with
// (resume_from), whatever machine it continues on.
void Trainer::choose_amp() {
  if (config_.run.amp != "auto") {
    amp_ = config_.run.amp;
    return;
  }
  std::string what;
  const bool mine = device_.cuda ? gpu_has_native_bf16(device_.device.index(), &what)
                                 : cpu_has_native_bf16(&what);
  // The configuration is alike on every rank, so all of them reduce here.
  const bool everywhere =
      world_.allreduce_value<std::int64_t>(mine ? 1 : 0, distributed::ReduceOp::kMin) == 1;
  amp_ = resolve_amp(config_.run.amp, everywhere);
  if (rank0()) {
    const std::string where = device_.cuda ? "GPU" : "CPU";
    const std::string why = everywhere ? where + " has " + what
                            : !mine    ? where + ": " + what
                                       : "another rank's " + where + " has no native bf16";
    log::info("run.amp = auto: " + amp_ + " (" + why + ")");
  }
}

void Trainer::resume_from(const std::string& state_file) {
  // Every rank reads the same file and reaches the same verdict.
  check_resumable(read_state_header(state_file), config_, split_.classes, world_.size(),
                  state_file);
  state_ = load_state(state_file, net_);
  state_.world_size = world_.size();
  if (!state_.rank_buffers.empty()) {
    // BatchNorm statistics as they stood on this rank when it stopped.
    restore_buffers(net_, state_.rank_buffers[static_cast<std::size_t>(world_.rank())], state_file);
    state_.rank_buffers.clear();
  }
  net_->to(device_.device);
  scaler_.restore(state_.scaler);
  if (!state_.amp.empty() && state_.amp != amp_) {
    if (rank0()) {
      log::info("run.amp: going on in " + state_.amp +
                " as the run started (this machine: " + amp_ + ")");
    }
    amp_ = state_.amp;
  }
  resumed_ = true;
  record_.stage1 = state_.stage1;
  record_.stage2 = state_.stage2;
  epochs_done_ = static_cast<std::int64_t>(state_.stage1.size() + state_.stage2.size());
  if (rank0()) {
    const std::string inside = state_.batch > 0
                                   ? text::format(", then %lld batch(es) of epoch %lld",
                                                  static_cast<long long>(state_.batch),
                                                  static_cast<long long>(state_.epoch + 1))
                                   : std::string();
    log::info(text::format("resuming from %s: stage %d, %lld epoch(s) of it done%s",
                           state_file.c_str(), state_.stage, static_cast<long long>(state_.epoch),
                           inside.c_str()));
  }
}

// Loader settings from [data] and this rank; `train` adds augmentation and
// class balance.
data::LoaderOptions Trainer::loader_options(bool train, int per_rank_batch) const {
  data::LoaderOptions o;
  o.spec = data::image_spec_from(preprocessing_of(config_.data));
  o.train = train;
  if (train) {
    o.augment = config_.augment;
    o.balance = data::parse_balance(config_.data.balance);
  }
  o.batch_size = per_rank_batch;
  o.workers = static_cast<int>(config_.data.workers);
  o.prefetch = static_cast<int>(config_.data.prefetch);
  o.seed = static_cast<std::uint64_t>(config_.run.seed);
  o.rank = world_.rank();
  o.world = world_.size();
  o.max_bad_fraction = config_.data.max_bad_fraction;
  o.allocator = batch_allocator(device_);
  o.cache = cache_;
  return o;
}

void Trainer::open_image_cache() {
  const data::CacheMode mode = data::parse_cache_mode(config_.data.cache);
  if (mode == data::CacheMode::kNone) return;
  std::string dir = config_.data.cache_dir;
  if (dir.empty()) dir = cache_dir_.empty() ? path("cache") : cache_dir_;
  cache_ = data::ImageCache::open(data::image_spec_from(preprocessing_of(config_.data)), mode, dir);
  cache_->begin_run();
  if (rank0()) {
    const std::string where =
        mode == data::CacheMode::kFile ? ", parts in " + cache_->folder() : std::string();
    log::info(text::format("image cache (%s): %lld image(s) held%s", config_.data.cache.c_str(),
                           static_cast<long long>(cache_->stats().entries), where.c_str()));
  }
}

// Every rank writes the images it decoded as its own part (file mode); the
// first epoch decodes them all, later ones add nothing.
void Trainer::save_image_cache() {
  if (!cache_) return;
  std::size_t written = 0;
  try {
    written = cache_->save();
  } catch (const std::exception& e) {
    // The cache saves decoding, nothing else: a full disk costs speed.
    log::warn(std::string("image cache: could not write a part: ") + e.what());
  }
  const data::CacheStats s = cache_->stats();
  const auto decoded = world_.allreduce_value<std::int64_t>(s.decoded);
  const auto hits = world_.allreduce_value<std::int64_t>(s.hits);
  const auto parts = world_.allreduce_value<std::int64_t>(written > 0 ? 1 : 0);
  if (rank0() && (parts > 0 || !cache_reported_)) {
    const std::string written_text =
        parts > 0 ? text::format("; %lld new part(s)", static_cast<long long>(parts)) : "";
    log::info(text::format("image cache: %lld decoded, %lld from the cache in this run%s",
                           static_cast<long long>(decoded), static_cast<long long>(hits),
                           written_text.c_str()));
  }
  cache_reported_ = true;
}

double Trainer::train_epoch(int stage, std::int64_t epoch, torch::optim::Optimizer& opt,
                            const std::vector<torch::Tensor>& params, StepGraph* graph,
                            EpochReport* report) {
  const StageConfig& sc = stage == 1 ? config_.stage1 : config_.stage2;
  if (!train_loader_ || loader_stage_ != stage) {
    data::LoaderOptions o = loader_options(true, static_cast<int>(sc.batch_size / world_.size()));
    // Each stage has its own epoch orders and augmentations.
    o.seed = derive_seed(static_cast<std::uint64_t>(config_.run.seed),
                         {static_cast<std::uint64_t>(stage)});
    train_loader_ = std::make_unique<data::Loader>(split_.train, classes_, o);
    loader_stage_ = stage;
    std::vector<data::SkippedImage> known;
    for (std::size_t i = 0; i < state_.skipped_paths.size(); ++i) {
      known.push_back({state_.skipped_paths[i], state_.skipped_reasons[i]});
    }
    train_loader_->add_skipped(known);
    const auto per_epoch = world_.allreduce_value<std::int64_t>(train_loader_->samples_per_epoch());
    if (rank0()) {
      log::info(text::format("stage %d: %lld training images per epoch (balance %s)", stage,
                             static_cast<long long>(per_epoch), config_.data.balance.c_str()));
    }
  }
  net_->train();
  const bool live = rank0() && ::isatty(STDERR_FILENO) != 0;
  // A run stopped inside this epoch goes on from its next batch with what
  // this rank had summed (train/checkpoint.h).
  double before[kPartialSums] = {0, 0, 0, 0, 0};
  std::int64_t first_batch = 0;
  // state_.batch > 0 only between resuming inside an epoch and its loop.
  if (state_.batch > 0 && state_.stage == stage && state_.epoch == epoch) {
    first_batch = state_.batch;
    std::copy_n(state_.partial_sums.begin() + world_.rank() * kPartialSums, kPartialSums, before);
    state_.batch = 0;  // later checkpoints are at epoch ends again
    state_.partial_sums.clear();
  }
  train_loader_->start_epoch(epoch, first_batch);
  const std::int64_t batches = train_loader_->batches_per_epoch();
  double loss_sum = before[kLossSum];
  auto correct = static_cast<std::int64_t>(before[kCorrect]);
  auto seen = static_cast<std::int64_t>(before[kSeen]);
  const auto t0 = Clock::now();
  exposed_comm_seconds_ = 0;
  const double comm_before = sync_ ? sync_->communication_seconds() : 0.0;
  data::Batch b;
  bool single_reported = false;
  double data_wait = before[kDataWait];
  auto asked = Clock::now();
  while (train_loader_->next(&b)) {
    data_wait += seconds_since(asked);
    opt.zero_grad();
    // BatchNorm in training mode (stage 2) needs more than one value per
    // channel; at data.image_size <= 32 layer4's map is 1x1, so a batch left
    // with a single image on this rank (the epoch's last partial batch, or
    // unreadable images removed) cannot train and takes no part in this step.
    if (b.size == 1 && stage == 2 && !batchnorm_trains_on_one_image(config_.data.image_size)) {
      if (!single_reported) {
        log::warn(text::format(
            "stage 2 epoch %lld batch %lld: a single %lld px image on rank %d; BatchNorm cannot "
            "train on one value per channel, so it is left out of this step",
            static_cast<long long>(epoch + 1), static_cast<long long>(b.index + 1),
            config_.data.image_size, world_.rank()));
        single_reported = true;
      }
      b.size = 0;
    }
    // run.cuda_graph: a full batch goes through the captured step, which
    // updates the weights itself; its loss is checked after the update.
    const bool captured = graph != nullptr && b.size == sc.batch_size / world_.size();
    if (b.size > 0) {
      // Dropout draws from LibTorch's generator: reseeded every step, so a
      // run resumed at any step draws what an uninterrupted one would.
      torch::manual_seed(
          derive_seed(static_cast<std::uint64_t>(config_.run.seed),
                      {static_cast<std::uint64_t>(stage), static_cast<std::uint64_t>(epoch), 7,
                       static_cast<std::uint64_t>(b.index)}));
      torch::Tensor y = batch_labels(b, device_);
      torch::Tensor logits;
      torch::Tensor loss;
      StepOutputs out;
      if (captured) {
        out = graph->run(batch_input(b, device_), y);
        loss = out.loss;
      } else {
        logits = forward_logits(net_, b, device_, amp_);
        loss = cross_entropy_loss(logits, y);
      }
      const double lv = loss.item<double>();
      if (!std::isfinite(lv)) {
        throw TrainError("loss is " + std::string(std::isnan(lv) ? "NaN" : "infinite") +
                         " in stage " + std::to_string(stage) + ", epoch " +
                         std::to_string(epoch + 1) + ", batch " + std::to_string(b.index + 1) +
                         " on rank " + std::to_string(world_.rank()) +
                         " (try a lower learning rate)");
      }
      if (!captured) (scaler_.enabled() ? loss * scaler_.scale() : loss).backward();
      loss_sum += lv * b.size;
      correct += captured ? out.correct.item<std::int64_t>()
                          : logits.argmax(1).eq(y).sum().item<std::int64_t>();
      seen += b.size;
    }
    if (!captured) {
      exposed_comm_seconds_ += apply_update(world_, sync_.get(), scaler_, params, opt);
    }
    if (live) {
      std::fprintf(stderr, "\r  stage %d epoch %lld batch %lld/%lld  loss %.4f   ", stage,
                   static_cast<long long>(epoch + 1), static_cast<long long>(b.index + 1),
                   static_cast<long long>(batches),
                   seen > 0 ? loss_sum / static_cast<double>(seen) : 0.0);
      std::fflush(stderr);
    }
    if (rank0()) {
      log::debug(text::format(
          "stage %d epoch %lld batch %lld/%lld done", stage, static_cast<long long>(epoch + 1),
          static_cast<long long>(b.index + 1), static_cast<long long>(batches)));
    }
    if (stop_agreed()) {
      if (live) std::fprintf(stderr, "\r%80s\r", "");
      const double sums[kPartialSums] = {loss_sum, static_cast<double>(correct),
                                         static_cast<double>(seen), data_wait,
                                         before[kTrainSeconds] + seconds_since(t0)};
      stop_inside_epoch(stage, epoch, b.index + 1, opt, sums, batches);
      return 0;
    }
    asked = Clock::now();
  }
  if (live) std::fprintf(stderr, "\r%80s\r", "");
  // Every reduction of the epoch done (and none failed) before its weights
  // are evaluated or written.
  if (sync_) sync_->settle();
  const double elapsed = before[kTrainSeconds] + seconds_since(t0);
  comm_seconds_ = sync_ ? sync_->communication_seconds() - comm_before : 0.0;
  double stats[4] = {loss_sum, static_cast<double>(correct), static_cast<double>(seen), data_wait};
  world_.allreduce(stats, 4);
  report->train_acc = stats[2] > 0 ? stats[1] / stats[2] : 0;
  report->images_per_second = elapsed > 0 ? stats[2] / elapsed : 0;
  report->train_seconds = elapsed;
  report->data_wait_seconds = stats[3] / world_.size();
  return stats[2] > 0 ? stats[0] / stats[2] : 0;
}

void Trainer::write_run() {
  if (!rank0()) return;
  record_.skipped.clear();
  record_.skipped_reasons.clear();
  for (auto* loader : {train_loader_.get(), eval_loader_.get(), holdout_loader_.get()}) {
    if (loader == nullptr) continue;
    for (const auto& s : loader->skipped()) {
      record_.skipped.push_back(s.path);
      record_.skipped_reasons.push_back(s.reason);
    }
  }
  // Each rank's loader knows only its shard's failures; the evaluation's
  // gathered rows (predicted -1) name the others'.
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
  for (std::size_t i = 0; i < holdout_unread_.size(); ++i) add_unread(holdout_unread_[i]);
  io::write_run_file(path("run.h5"), record_);
}

void Trainer::checkpoint(int next_stage, std::int64_t epoch, torch::optim::Optimizer* opt,
                         bool always) {
  state_.stage = next_stage;
  state_.epoch = epoch;
  state_.stage1 = record_.stage1;
  state_.stage2 = record_.stage2;
  state_.scaler = scaler_.state();
  state_.optimizer = opt != nullptr ? serialize_optimizer(*opt) : std::vector<std::uint8_t>{};
  if (train_loader_) {
    state_.skipped_paths.clear();
    state_.skipped_reasons.clear();
    for (const auto& s : train_loader_->skipped()) {
      state_.skipped_paths.push_back(s.path);
      state_.skipped_reasons.push_back(s.reason);
    }
  }
  if (rank0() && (always || config_.run.checkpoint_every > 0)) {
    save_state(path("state.h5"), net_, state_);
  }
}

// Whether the run stops here, at a step boundary: on every rank alike, as
// soon as any rank has been asked to stop (core/stop_request.h). One
// integer's allreduce per step with more than one rank.
bool Trainer::stop_agreed() {
  const bool mine = stop_requested();
  if (world_.size() == 1) return mine;
  return world_.allreduce_value<std::int64_t>(mine ? 1 : 0, distributed::ReduceOp::kMax) != 0;
}

// Saves the run at this step boundary (state.h5 with the position inside
// the epoch, train/checkpoint.h) and marks it interrupted; rerunning the
// same command goes on from `next_batch`.
void Trainer::stop_inside_epoch(int stage, std::int64_t epoch, std::int64_t next_batch,
                                torch::optim::Optimizer& opt, const double (&sums)[kPartialSums],
                                std::int64_t batches) {
  if (sync_) sync_->settle();
  std::vector<double> all(static_cast<std::size_t>(world_.size() * kPartialSums), 0.0);
  std::copy_n(sums, kPartialSums, all.begin() + world_.rank() * kPartialSums);
  world_.allreduce(all);  // each rank's numbers plus zeros: exact
  state_.partial_sums = std::move(all);
  if (world_.size() > 1) state_.rank_buffers = gather_buffers(world_, net_);
  state_.batch = next_batch;
  checkpoint(stage, epoch, &opt, true);
  state_.batch = 0;
  state_.partial_sums.clear();
  state_.rank_buffers.clear();
  save_image_cache();
  mark_interrupted(
      text::format("batch %lld/%lld of stage %d epoch %lld", static_cast<long long>(next_batch),
                   static_cast<long long>(batches), stage, static_cast<long long>(epoch + 1)),
      "batch");
}

// After state.h5 is written: run.h5 says so, the run returns, the log tells.
void Trainer::mark_interrupted(const std::string& after, const char* resumes_from) {
  record_.status = "interrupted";
  write_run();
  outcome_.interrupted = true;
  if (rank0()) {
    log::info(text::format(
        "stopped by %s after %s; state in %s (rerun the same command to resume from the next %s)",
        stop_signal_name()[0] != '\0' ? stop_signal_name() : "request", after.c_str(),
        path("state.h5").c_str(), resumes_from));
  }
}

// Asks pause_before_ (trainer.h) before an epoch of stage 2; on a pause the
// state after the previous epoch is saved and run.h5 says "paused".
bool Trainer::pause_here(int stage, std::int64_t epoch, torch::optim::Optimizer* opt) {
  if (!pause_before_ || stage != 2) return false;
  PausePoint p;
  p.stage = stage;
  p.epoch = epoch;
  // The metrics of the weights the run goes on with: the last epoch's, or
  // after stage 1 with early stopping, whose best weights were restored,
  // the best epoch's (found again by replaying the rule over the history,
  // which a resumed run has too).
  const bool after_stage1 = record_.stage2.val_acc.empty();
  const io::History& h = after_stage1 ? record_.stage1 : record_.stage2;
  if (!h.val_acc.empty()) {
    std::size_t at = h.val_acc.size() - 1;
    if (after_stage1 && config_.stage1.early_stop_patience > 0) {
      EarlyStopState replay;
      for (std::size_t e = 0; e < h.val_acc.size(); ++e) {
        const double watched =
            config_.stage1.early_stop_metric == "val_acc" ? h.val_acc[e] : h.val_loss[e];
        early_stop_observe(config_.stage1, static_cast<std::int64_t>(e), watched, &replay);
      }
      at = static_cast<std::size_t>(replay.best_epoch);
    }
    p.val_acc = h.val_acc[at];
    p.val_loss = h.val_loss[at];
  }
  if (!pause_before_(p)) return false;
  checkpoint(stage, epoch, epoch > 0 ? opt : nullptr, true);
  record_.status = "paused";
  write_run();
  outcome_.paused = true;
  if (rank0()) {
    log::info(text::format("paused before stage %d epoch %lld (state in %s)", stage,
                           static_cast<long long>(epoch + 1), path("state.h5").c_str()));
  }
  return true;
}

void Trainer::run_stage(int stage) {
  const StageConfig& sc = stage == 1 ? config_.stage1 : config_.stage2;
  io::History& history = stage == 1 ? record_.stage1 : record_.stage2;
  if (sc.epochs == 0 || state_.stage > stage) return;
  net_->set_backbone_frozen(stage == 1);
  std::vector<torch::Tensor> params = stage == 1 ? net_->head_parameters() : net_->parameters();
  auto opt = make_optimizer(sc, params);
  // After opt, which it refers to: destroyed first on every way out.
  std::unique_ptr<StepGraph> graph = make_step_graph(stage, *opt, params);
  if (world_.size() > 1) {
    sync_ = std::make_unique<GradientSync>(
        world_, params,
        GradientSyncOptions{config_.dist.bucket_mb, config_.dist.overlap, nccl_.get()});
    if (rank0()) {
      log::info(text::format(
          "stage %d: gradients of %lld parameters in %zu buckets (%s memory, overlap %s)", stage,
          static_cast<long long>(sync_->numel()), sync_->bucket_count(), sync_->staging(),
          sync_->overlapping() ? "on" : "off"));
    }
  }
  std::int64_t first = 0;
  if (state_.stage == stage && (state_.epoch > 0 || state_.batch > 0)) {
    first = state_.epoch;
    if (!state_.optimizer.empty()) deserialize_optimizer(*opt, state_.optimizer);
  } else {
    state_.schedule = ScheduleState{};
    state_.early = EarlyStopState{};
    state_.has_best = false;
    state_.best.clear();
  }
  if (rank0()) {
    log::info(
        text::format("stage %d: %s for up to %lld epochs, %s lr %s, batch %lld (%lld per rank)",
                     stage, stage == 1 ? "head only, backbone frozen" : "whole network", sc.epochs,
                     sc.optimizer.c_str(), text::format_double(sc.lr).c_str(), sc.batch_size,
                     sc.batch_size / world_.size()));
  }
  const std::int64_t total_epochs = config_.stage1.epochs + config_.stage2.epochs;
  for (std::int64_t epoch = first; epoch < sc.epochs; ++epoch) {
    // An epoch resumed in its middle was past this question already.
    const bool inside = state_.batch > 0 && epoch == state_.epoch;
    if (!inside && pause_here(stage, epoch, opt.get())) {
      sync_.reset();
      return;
    }
    const auto t0 = Clock::now();
    const double lr = lr_for_epoch(sc, epoch, state_.schedule);
    set_lr(*opt, lr);
    EpochReport report;
    report.stage = stage;
    report.epoch = epoch + 1;
    report.epochs = sc.epochs;
    report.lr = lr;
    report.train_loss = train_epoch(stage, epoch, *opt, params, graph.get(), &report);
    if (outcome_.interrupted) {
      sync_.reset();
      return;
    }
    EvalResult val =
        evaluate(net_, *eval_loader_, device_, amp_, world_, classes_, split_.val.size(), false);
    const Metrics m = compute_metrics(val.confusion, classes_);
    report.val_loss = val.mean_loss();
    report.val_acc = m.accuracy;
    report.seconds = seconds_since(t0);
    report.peak = peak_memory(device_, world_);
    record_.peak_rss_bytes = report.peak.host_rss;
    record_.peak_cuda_bytes = report.peak.device_allocated;
    history.epoch.push_back(epoch + 1);
    history.train_loss.push_back(report.train_loss);
    history.train_acc.push_back(report.train_acc);
    history.val_loss.push_back(report.val_loss);
    history.val_acc.push_back(report.val_acc);
    history.lr.push_back(lr);
    history.seconds.push_back(report.seconds);
    history.images_per_second.push_back(report.images_per_second);
    history.data_wait_seconds.push_back(report.data_wait_seconds);
    ++epochs_done_;
    eta_.add_epoch(report.seconds);
    report.eta_seconds = eta_.seconds_left(total_epochs - epochs_done_);
    const double watched = sc.early_stop_metric == "val_acc" ? m.accuracy : report.val_loss;
    schedule_observe(sc, watched, &state_.schedule);
    if (early_stop_observe(sc, epoch, watched, &state_.early) && sc.early_stop_patience > 0) {
      state_.best = clone_state(net_);
      state_.has_best = true;
    }
    if (sync_ && rank0()) {
      log::debug(text::format(
          "stage %d epoch %lld: gradient allreduce %.3f s, of which %.3f s not hidden by backward",
          stage, static_cast<long long>(epoch + 1), comm_seconds_, exposed_comm_seconds_));
    }
    if (rank0()) log::info(epoch_line(report));
    const bool stop = early_stop_due(sc, state_.early);
    const bool last = stop || epoch + 1 == sc.epochs;
    if (!last && config_.run.checkpoint_every > 0 &&
        (epoch + 1) % config_.run.checkpoint_every == 0) {
      checkpoint(stage, epoch + 1, opt.get());
    }
    write_run();  // every epoch: the history so far is readable while training runs
    save_image_cache();
    // Asked to stop during the validation or the writes: the next epoch
    // starts from here (no partial sums to keep).
    if (!last && stop_agreed()) {
      checkpoint(stage, epoch + 1, opt.get(), true);
      mark_interrupted(
          text::format("stage %d epoch %lld", stage, static_cast<long long>(epoch + 1)), "epoch");
      sync_.reset();
      return;
    }
    if (stop) {
      if (rank0()) {
        log::info(text::format("stage %d: no improvement of %s for %lld epochs, stopping early",
                               stage, sc.early_stop_metric.c_str(), sc.early_stop_patience));
      }
      break;
    }
  }
  if (sc.early_stop_patience > 0 && state_.has_best) {
    model::import_state(net_, state_.best, model::ImportPolicy::kExact,
                        "best weights of stage " + std::to_string(stage));
    if (rank0()) {
      log::info(text::format("stage %d: restored the weights of epoch %lld", stage,
                             static_cast<long long>(state_.early.best_epoch + 1)));
    }
  }
  sync_.reset();
  if (graph && rank0()) {
    const StepGraphCounts n = graph->counts();
    log::info(text::format(
        "stage %d: %lld steps replayed from the CUDA graph, %lld captured, %lld warm-up steps "
        "before the first capture",
        stage, static_cast<long long>(n.replays), static_cast<long long>(n.captures),
        static_cast<long long>(n.warmup)));
  }
  net_->set_backbone_frozen(false);
  state_.has_best = false;
  state_.best.clear();
  checkpoint(stage + 1, 0, nullptr);
  write_run();
}

std::unique_ptr<StepGraph> Trainer::make_step_graph(int stage, torch::optim::Optimizer& opt,
                                                    const std::vector<torch::Tensor>& params) {
  if (!config_.run.cuda_graph) return nullptr;
  const std::string why = cuda_graph_obstacle(device_.cuda, amp_, world_.size());
  if (!why.empty()) {
    if (rank0() && !graph_obstacle_logged_) {
      log::warn("run.cuda_graph = true, but the training steps are not captured: " + why);
    }
    graph_obstacle_logged_ = true;
    return nullptr;
  }
  // The step as train_epoch runs it, without its host synchronizations
  // (one rank, no loss scaling: apply_update is a plain optimizer step).
  StepFunction step = [this, &opt, params](const torch::Tensor& x, const torch::Tensor& y) {
    opt.zero_grad();
    torch::Tensor logits = forward_logits(net_, x, device_, amp_);
    torch::Tensor loss = cross_entropy_loss(logits, y);
    loss.backward();
    apply_update(world_, nullptr, scaler_, params, opt);
    return StepOutputs{loss.detach(), logits.argmax(1).eq(y).sum()};
  };
  if (rank0()) {
    log::info(text::format(
        "stage %d: training steps captured in a CUDA graph after 3 warm-up steps (batches "
        "of %lld; others run uncaptured)",
        stage, (stage == 1 ? config_.stage1 : config_.stage2).batch_size));
  }
  return std::make_unique<StepGraph>(opt, std::move(step), 3);
}

void Trainer::calibrate(const EvalResult& r, io::EvalRecord* e) const {
  // The images that were read (an unreadable one has predicted = -1).
  const auto c = static_cast<std::size_t>(classes_);
  std::vector<float> z;
  std::vector<std::int64_t> y;
  for (std::size_t i = 0; i < r.predicted.size(); ++i) {
    if (r.predicted[i] < 0) continue;
    z.insert(z.end(), r.logits.begin() + static_cast<long>(i * c),
             r.logits.begin() + static_cast<long>((i + 1) * c));
    y.push_back(record_.val_labels[i]);
  }
  if (y.empty()) return;
  e->has_calibration = true;
  e->temperature = fit_temperature(z, y, classes_);
  const ReliabilityTable before = reliability(softmax_at(z, classes_, 1.0), y, classes_);
  const ReliabilityTable after = reliability(softmax_at(z, classes_, e->temperature), y, classes_);
  e->ece_before = before.ece;
  e->ece_after = after.ece;
  e->bin_upper = before.upper;
  e->bin_count_before = before.count;
  e->bin_confidence_before = before.confidence;
  e->bin_accuracy_before = before.accuracy;
  e->bin_count_after = after.count;
  e->bin_confidence_after = after.confidence;
  e->bin_accuracy_after = after.accuracy;
  if (rank0()) {
    char line[160];
    std::snprintf(line, sizeof(line),
                  "calibration: temperature %.3f; expected calibration error %.4f -> %.4f",
                  e->temperature, e->ece_before, e->ece_after);
    log::info(line);
    if (all_right(z, y, classes_)) {
      log::info(
          "calibration: every validation image is right (or tied at the top), so the likelihood "
          "has no best temperature (it grows as T falls to 0); T stays 1");
    }
  }
}

void Trainer::evaluate_open_set(const EvalResult& r, io::EvalRecord* e) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Logits of the held-out taxa's images, through the validation path (the
  // label is a placeholder: none of the trained taxa is right).
  // An unreadable held-out image costs only its row (NaN), never the run:
  // no bad-image limit, and it is listed in /data/skipped (write_run).
  EvalResult h;
  if (!split_.holdout.empty()) {
    std::vector<data::Sample> samples = split_.holdout;
    for (auto& s : samples) s.label = 0;
    data::LoaderOptions o = loader_options(false, per_rank_batch());
    o.max_bad_fraction = 1.0;
    holdout_loader_ = std::make_unique<data::Loader>(samples, classes_, o);
    h = evaluate(net_, *holdout_loader_, device_, amp_, world_, classes_, samples.size(), true,
                 false);
    for (std::size_t i = 0; i < h.predicted.size(); ++i)
      if (h.predicted[i] < 0) holdout_unread_.push_back(samples[i].path);
  }
  // Scores of the images that were read; NaN in the per-image rows for the rest.
  auto score_rows = [&](const EvalResult& x, const std::string& method, std::vector<double>* read) {
    std::vector<double> rows = open_set_scores(x.logits, classes_, method, e->temperature);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (x.predicted[i] < 0) {
        rows[i] = nan;
      } else {
        read->push_back(rows[i]);
      }
    }
    return rows;
  };
  io::OpenSetRecord& o = e->open_set;
  o.method = config_.predict.open_set;
  o.accept_rate = config_.predict.accept_rate;
  for (const std::string method : {"msp", "energy"}) {
    io::OpenSetScore s;
    s.method = method;
    std::vector<double> known;
    s.known = score_rows(r, method, &known);
    if (known.empty()) return;  // nothing was read: no threshold to choose
    s.threshold = acceptance_threshold(known, o.accept_rate);
    s.accepted_share = share_accepted(known, s.threshold);
    std::int64_t accepted = 0;
    std::int64_t right = 0;
    for (std::size_t i = 0; i < s.known.size(); ++i) {
      if (!(s.known[i] >= s.threshold)) continue;  // also skips NaN
      ++accepted;
      right += r.predicted[i] == record_.val_labels[i] ? 1 : 0;
    }
    s.accuracy_accepted =
        accepted > 0 ? static_cast<double>(right) / static_cast<double>(accepted) : nan;
    if (!split_.holdout.empty()) {
      std::vector<double> unknown;
      s.holdout = score_rows(h, method, &unknown);
      s.has_holdout = !unknown.empty();
      s.auroc = auroc(known, unknown);
      s.fpr_at_accept = share_accepted(unknown, s.threshold);
    }
    o.scores.push_back(std::move(s));
  }
  e->has_open_set = true;
  if (!rank0()) return;
  for (const auto& s : o.scores) {
    // The msp threshold is a log-odds; its probability reads more easily.
    const std::string threshold = s.method == "msp"
                                      ? text::format("top probability %.4f (log-odds %.4g)",
                                                     1 / (1 + std::exp(-s.threshold)), s.threshold)
                                      : text::format("%.4g", s.threshold);
    std::string line = text::format(
        "open set (%s%s): threshold %s accepts %.1f%% of the validation images (target "
        "%.1f%%), accuracy on them %.4f",
        s.method.c_str(), s.method == o.method ? ", predict.open_set" : "", threshold.c_str(),
        100 * s.accepted_share, 100 * o.accept_rate, s.accuracy_accepted);
    if (s.has_holdout) {
      line += text::format("; held-out taxa: AUROC %.4f, %.1f%% of their images accepted", s.auroc,
                           100 * s.fpr_at_accept);
    }
    log::info(line);
  }
}

void Trainer::finish() {
  EvalResult r =
      evaluate(net_, *eval_loader_, device_, amp_, world_, classes_, split_.val.size(), true);
  const Metrics m = compute_metrics(r.confusion, classes_);
  record_.has_eval = true;
  io::EvalRecord& e = record_.eval;
  e.confusion = m.confusion;
  e.per_class_accuracy = m.recall;
  e.precision = m.precision;
  e.f1 = m.f1;
  e.support = m.support;
  e.accuracy = m.accuracy;
  e.balanced_accuracy = m.balanced_accuracy;
  e.loss = r.mean_loss();
  e.labels = record_.val_labels;
  e.predicted = r.predicted;
  e.probabilities = r.probabilities;
  e.paths = record_.val_paths;
  calibrate(r, &e);
  evaluate_open_set(r, &e);
  outcome_.table = per_taxon_table(m, split_.classes, r.count);
  outcome_.accuracy = m.accuracy;
  outcome_.balanced_accuracy = m.balanced_accuracy;
  if (rank0()) {
    model::ModelMeta meta;
    meta.arch = config_.model.arch;
    meta.classes = split_.classes;
    meta.preprocessing = preprocessing_of(config_.data);
    meta.dropout = config_.model.dropout;
    meta.temperature = e.temperature;  // 1 when nothing could be calibrated
    if (const io::OpenSetScore* chosen = e.open_set.selected()) {
      meta.open_set = chosen->method;
      meta.open_set_threshold = chosen->threshold;
      meta.accept_rate = e.open_set.accept_rate;
    }
    model::save_model_h5(net_, meta, path("model.h5"));
  }
  explain_validation(r.predicted);
  const PeakMemory peak = peak_memory(device_, world_);
  record_.peak_rss_bytes = peak.host_rss;
  record_.peak_cuda_bytes = peak.device_allocated;
  if (rank0()) {
    log::info("peak memory of the run (largest rank): " + bytes_text(peak.host_rss) + " host" +
              (peak.device_allocated > 0 ? ", " + bytes_text(peak.device_allocated) + " GPU" : ""));
  }
  record_.status = "complete";
  record_.finished = io::utc_timestamp();
  write_run();
}

// Grad-CAM heatmaps of up to gradcam.max_images validation images, chosen
// across taxa with the misclassified first (explain::choose_images_to_explain),
// for the predicted taxon or, with gradcam.target = true, the true one.
// Rank 0 computes them, in chunks of the training batch per rank, while the
// other ranks wait at the next collective.
void Trainer::explain_validation(const std::vector<std::int64_t>& predicted) {
  const auto budget = static_cast<std::size_t>(std::max<long long>(0, config_.gradcam.max_images));
  if (budget == 0 || !rank0()) return;
  std::vector<int> labels;
  for (const auto& s : split_.val) labels.push_back(s.label);
  const std::vector<std::size_t> chosen =
      explain::choose_images_to_explain(labels, predicted, classes_, budget);
  std::vector<data::Sample> samples;
  for (std::size_t i : chosen) samples.push_back(split_.val[i]);
  data::LoaderOptions o = loader_options(false, per_rank_batch());
  o.rank = 0;  // rank 0 alone explains
  o.world = 1;
  o.max_bad_fraction = 1.0;  // already enforced by the evaluation
  data::Loader loader(samples, classes_, o);
  io::GradcamRecord& g = record_.gradcam;
  g = io::GradcamRecord{};
  g.layer = config_.gradcam.layer;
  g.target = config_.gradcam.target == "true" ? "true" : "predicted";
  g.input_size = config_.data.image_size;
  g.height = g.width = config_.data.image_size;
  loader.start_epoch(0);
  data::Batch b;
  while (loader.next(&b)) {
    if (b.size == 0) continue;
    std::vector<std::int64_t> targets;
    if (config_.gradcam.target == "true") targets = b.labels;
    explain::GradcamResult r =
        explain::gradcam(net_, batch_input(b, device_), config_.gradcam.layer, targets);
    torch::Tensor maps = r.heatmaps.to(torch::kCPU).contiguous();
    g.heatmaps.insert(g.heatmaps.end(), maps.data_ptr<float>(),
                      maps.data_ptr<float>() + maps.numel());
    for (int i = 0; i < b.size; ++i) {
      const auto sample = static_cast<std::size_t>(b.samples[static_cast<std::size_t>(i)]);
      g.paths.push_back(samples[sample].path);
      g.labels.push_back(samples[sample].label);
      g.predicted.push_back(r.predicted[i].item<std::int64_t>());
    }
  }
  record_.has_gradcam = !g.paths.empty();
  log::info(text::format("Grad-CAM of %zu validation images (%s taxon) in chunks of %d",
                         g.paths.size(), config_.gradcam.target == "true" ? "true" : "predicted",
                         per_rank_batch()));
}

TrainOutcome Trainer::run() {
  // Checked before anything is written (the command line checks it too).
  if (auto v = rank_rule_violations(config_, world_.size()); !v.empty()) {
    throw ConfigError(text::join(v, "; "));
  }
  check_backend_available();
  outcome_.run_file = path("run.h5");
  outcome_.model_file = path("model.h5");
  if (fs::exists(outcome_.run_file)) {
    io::RunRecord existing = io::read_run_file(outcome_.run_file);
    if (existing.status == "complete") {
      outcome_.already_complete = true;
      outcome_.accuracy = existing.eval.accuracy;
      outcome_.balanced_accuracy = existing.eval.balanced_accuracy;
      return outcome_;
    }
  }
  record_.config = config_.resolved_ini();
  record_.world_size = world_.size();
  record_.started = io::utc_timestamp();
  record_.host = io::host_name();
  record_.versions = "LibTorch " + model::torch_library_version() + "; OpenCV " +
                     data::opencv_library_version() + "; HDF5 " + io::hdf5_library_version() +
                     "; MPI " + distributed::mpi_library_version();
  if (rank0()) {
    fs::create_directories(out_);
    if (int n = io::remove_stale_temporaries(out_); n > 0) {
      log::info(text::format("removed %d temporary file(s) of an interrupted writer in %s", n,
                             out_.c_str()));
    }
  }
  try {
    setup();
    outcome_.resumed = resumed_;
    if (rank0()) {
      log::info(
          text::format("%d taxa, %zu training and %zu validation images; %s on %s, %d rank(s)",
                       classes_, split_.train.size(), split_.val.size(), config_.model.arch.c_str(),
                       device_.describe().c_str(), world_.size()));
      if (!split_.holdout.empty()) {
        log::info(text::format("held out of training for the open-set evaluation: %s (%zu images)",
                               text::join(split_.holdout_classes, ", ").c_str(),
                               split_.holdout.size()));
      }
    }
    write_run();
    run_stage(1);
    if (!outcome_.interrupted) run_stage(2);
    if (outcome_.paused || outcome_.interrupted) return outcome_;
    finish();
  } catch (const std::exception& e) {
    record_.status = "failed";
    record_.error = e.what();
    record_.finished = io::utc_timestamp();
    if (rank0()) {
      try {
        write_run();
      } catch (const std::exception& again) {
        log::error("could not record the failure in " + outcome_.run_file + ": " + again.what());
      }
    }
    throw;
  }
  return outcome_;
}

}  // namespace

TrainOutcome train_run(const Config& config, distributed::Communicator& world,
                       const std::string& out, const TrainOptions& options) {
  Trainer t(config, world, out, options);
  return t.run();
}

}  // namespace midge::train
