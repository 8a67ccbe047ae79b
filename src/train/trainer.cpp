#include "train/trainer.h"

#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/errors.h"
#include "core/log.h"
#include "core/random.h"
#include "core/text.h"
#include "data/image_set.h"
#include "data/loader.h"
#include "data/taxonomy.h"
#include "explain/gradcam.h"
#include "io/atomic_file.h"
#include "io/hdf5_library.h"
#include "io/run_file.h"
#include "model/resnet.h"
#include "model/torch_info.h"
#include "model/weights.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/gradient_sync.h"
#include "train/metrics.h"
#include "train/precision.h"
#include "train/schedule.h"
#include "train/update.h"

namespace midge::train {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string duration_text(double s) {
  const auto total = static_cast<long long>(s + 0.5);
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", total / 3600, (total / 60) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", total / 60, total % 60);
  }
  return buf;
}

// --- multi-rank helpers (world size 1: no-ops) ---------------------------

// Copies every parameter and buffer of rank 0 to all ranks.
void broadcast_state(dist::Communicator& world, model::ResNet& net) {
  if (world.size() == 1) return;
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : model::named_state(net)) {
    if (t.scalar_type() == torch::kLong) {
      torch::Tensor c = t.to(torch::kCPU).contiguous();
      world.broadcast(c.data_ptr<std::int64_t>(), static_cast<std::size_t>(c.numel()), 0);
      t.copy_(c);
    } else {
      torch::Tensor c = t.to(torch::kCPU, torch::kFloat).contiguous();
      world.broadcast(c.data_ptr<float>(), static_cast<std::size_t>(c.numel()), 0);
      t.copy_(c);
    }
  }
}

// BatchNorm running statistics drift apart on different shards; evaluation
// and checkpoints use their average over ranks.
void average_batchnorm(dist::Communicator& world, model::ResNet& net) {
  if (world.size() == 1) return;
  torch::NoGradGuard no_grad;
  for (auto& b : net->named_buffers()) {
    if (b.value().scalar_type() == torch::kLong) continue;
    torch::Tensor c = b.value().to(torch::kCPU, torch::kFloat).contiguous();
    world.allreduce(c.data_ptr<float>(), static_cast<std::size_t>(c.numel()));
    c.div_(static_cast<double>(world.size()));
    b.value().copy_(c);
  }
}

model::NamedTensors clone_state(model::ResNet& net) {
  model::NamedTensors out;
  for (auto& [name, t] : model::named_state(net))
    out.emplace_back(name, t.detach().to(torch::kCPU).clone());
  return out;
}

std::vector<std::uint8_t> serialize_optimizer(torch::optim::Optimizer& opt) {
  std::ostringstream os;
  torch::save(opt, os);
  const std::string s = os.str();
  return {s.begin(), s.end()};
}

void deserialize_optimizer(torch::optim::Optimizer& opt, const std::vector<std::uint8_t>& bytes) {
  std::istringstream is(std::string(bytes.begin(), bytes.end()));
  torch::load(opt, is);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const StageConfig& s,
                                                        std::vector<torch::Tensor> params) {
  if (s.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weight_decay));
  }
  if (s.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params,
        torch::optim::AdamWOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      params,
      torch::optim::AdamOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

struct EvalResult {
  double loss_sum = 0;
  std::int64_t count = 0;
  std::vector<std::int64_t> confusion;
  std::vector<float> probabilities;  // N x C (filled when asked), val order
  std::vector<std::int64_t> predicted;
};

class Trainer {
 public:
  Trainer(const Config& config, dist::Communicator& world, std::string out)
      : config_(config), world_(world), out_(std::move(out)) {}

  TrainOutcome run();

 private:
  bool rank0() const { return world_.rank() == 0; }
  std::string path(const char* name) const { return (fs::path(out_) / name).string(); }
  void setup();
  void run_stage(int stage);
  double train_epoch(int stage, std::int64_t epoch, torch::optim::Optimizer& opt,
                     const std::vector<torch::Tensor>& params, double* acc, double* img_per_s);
  EvalResult evaluate(bool collect);
  void write_run();
  void checkpoint(int next_stage, std::int64_t epoch, torch::optim::Optimizer* opt);
  void finish();
  void explain_validation();
  torch::Tensor to_input(const data::Batch& b) const;
  torch::Tensor labels_of(const data::Batch& b) const;
  data::LoaderOptions loader_options(bool train, int per_rank_batch) const;
  torch::Tensor logits_of(const data::Batch& b);

  Config config_;
  dist::Communicator& world_;
  std::string out_;
  DeviceChoice device_;
  data::Split split_;
  int classes_ = 0;
  model::ResNet net_{nullptr};
  std::unique_ptr<data::Loader> eval_loader_;
  std::unique_ptr<data::Loader> train_loader_;
  int loader_stage_ = 0;
  LossScaler scaler_{false};            // fp16 loss scale, kept across epochs and stages
  std::unique_ptr<GradientSync> sync_;  // during a stage, with more than one rank
  double exposed_comm_seconds_ = 0;     // last epoch: gradient sync not hidden by backward
  double comm_seconds_ = 0;             // last epoch: time spent reducing gradients
  torch::Tensor class_weights_;
  io::RunRecord record_;
  TrainState state_;
  bool resumed_ = false;
  Clock::time_point started_ = Clock::now();
  double epoch_seconds_ = 0;  // running mean, for the ETA
  std::int64_t epochs_done_ = 0;
  TrainOutcome outcome_;
};

void Trainer::setup() {
  device_ = choose_device(config_.run, world_.local_rank(), world_.local_size());
  split_ = data::split_for_run(config_.data);
  classes_ = static_cast<int>(split_.classes.size());
  for (const StageConfig* s : {&config_.stage1, &config_.stage2}) {
    if (s->epochs > 0 && s->batch_size % world_.size() != 0) {
      throw ConfigError((s == &config_.stage1 ? std::string("stage1") : std::string("stage2")) +
                        ".batch_size (" + std::to_string(s->batch_size) +
                        ") must be divisible by the number of ranks (" +
                        std::to_string(world_.size()) + ")");
    }
  }
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
  data::LoaderOptions eo = loader_options(
      false, static_cast<int>(std::max<long long>(1, config_.stage2.batch_size / world_.size())));
  eval_loader_ = std::make_unique<data::Loader>(split_.val, classes_, eo);
  scaler_ = LossScaler(config_.run.amp == "fp16");

  record_.classes = split_.classes;
  for (const auto& s : split_.train) {
    record_.train_paths.push_back(s.path);
    record_.train_labels.push_back(s.label);
  }
  for (const auto& s : split_.val) {
    record_.val_paths.push_back(s.path);
    record_.val_labels.push_back(s.label);
  }
  state_.config = record_.config;
  state_.classes = split_.classes;

  const std::string state_file = path("state.h5");
  if (fs::exists(state_file)) {
    TrainState saved = load_state(state_file, net_);
    // Refuse a checkpoint of another configuration, naming what differs.
    Config old = resolve_config_text(saved.config, state_file, {});
    std::vector<std::string> diffs;
    for (std::size_t i = 0; i < old.values.size(); ++i) {
      const auto& [key, value] = old.values[i];
      if (value != config_.values[i].second && !key_may_change_on_resume(key)) {
        diffs.push_back(key + " (" + value + " -> " + config_.values[i].second + ")");
      }
    }
    if (!diffs.empty()) {
      throw TrainError(state_file + " belongs to a run with another configuration: " +
                       text::join(diffs, ", ") + "; use another --out or remove state.h5");
    }
    if (saved.classes != split_.classes) {
      throw TrainError(state_file + " was written for other taxa than " + config_.data.root +
                       " has now");
    }
    state_ = std::move(saved);
    net_->to(device_.device);
    resumed_ = true;
    record_.stage1 = state_.stage1;
    record_.stage2 = state_.stage2;
    epochs_done_ = static_cast<std::int64_t>(state_.stage1.size() + state_.stage2.size());
    if (rank0()) {
      log::info(text::format("resuming from %s: stage %d, %lld epoch(s) of it done",
                             state_file.c_str(), state_.stage,
                             static_cast<long long>(state_.epoch)));
    }
  }
}

torch::Tensor Trainer::to_input(const data::Batch& b) const {
  const std::int64_t s = b.image_size;
  // Wrap the loader's buffer without a copy; the tensor keeps it alive.
  std::shared_ptr<float> keep = b.images;
  torch::Tensor x = torch::from_blob(
      b.images.get(), {b.size, 3, s, s}, [keep](void*) mutable { keep.reset(); },
      torch::TensorOptions().dtype(torch::kFloat));
  if (device_.cuda) {
    x = x.to(device_.device, /*non_blocking=*/true).contiguous(at::MemoryFormat::ChannelsLast);
  }
  return x;
}

// Loader settings from [data] and this rank; `train` adds augmentation and
// class balance.
data::LoaderOptions Trainer::loader_options(bool train, int per_rank_batch) const {
  data::LoaderOptions o;
  o.spec = data::image_spec_from(config_.data);
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
  return o;
}

torch::Tensor Trainer::labels_of(const data::Batch& b) const {
  return torch::tensor(b.labels, torch::kLong).to(device_.device);
}

// Forward pass under run.amp's autocast; logits always come back as float.
torch::Tensor Trainer::logits_of(const data::Batch& b) {
  torch::Tensor logits;
  {
    AutocastScope autocast(config_.run.amp, device_.cuda);
    logits = net_->forward(to_input(b));
  }
  return logits.to(torch::kFloat);
}

double Trainer::train_epoch(int stage, std::int64_t epoch, torch::optim::Optimizer& opt,
                            const std::vector<torch::Tensor>& params, double* acc,
                            double* img_per_s) {
  const StageConfig& sc = stage == 1 ? config_.stage1 : config_.stage2;
  if (!train_loader_ || loader_stage_ != stage) {
    data::LoaderOptions o = loader_options(true, static_cast<int>(sc.batch_size / world_.size()));
    // Each stage has its own epoch orders and augmentations.
    o.seed = derive_seed(static_cast<std::uint64_t>(config_.run.seed),
                         {static_cast<std::uint64_t>(stage)});
    train_loader_ = std::make_unique<data::Loader>(split_.train, classes_, o);
    loader_stage_ = stage;
  }
  // Dropout draws from LibTorch's generator: reseed per epoch so a resumed
  // run draws what an uninterrupted one would.
  torch::manual_seed(
      derive_seed(static_cast<std::uint64_t>(config_.run.seed),
                  {static_cast<std::uint64_t>(stage), static_cast<std::uint64_t>(epoch), 7}));
  net_->train();
  const bool live = rank0() && ::isatty(STDERR_FILENO) != 0;
  train_loader_->start_epoch(epoch);
  const std::int64_t batches = train_loader_->batches_per_epoch();
  double loss_sum = 0;
  std::int64_t correct = 0;
  std::int64_t seen = 0;
  const auto t0 = Clock::now();
  exposed_comm_seconds_ = 0;
  const double comm_before = sync_ ? sync_->communication_seconds() : 0.0;
  data::Batch b;
  while (train_loader_->next(&b)) {
    opt.zero_grad();
    if (b.size > 0) {
      torch::Tensor y = labels_of(b);
      torch::Tensor logits = logits_of(b);
      torch::Tensor loss = torch::nn::functional::cross_entropy(
          logits, y, torch::nn::functional::CrossEntropyFuncOptions().weight(class_weights_));
      const double lv = loss.item<double>();
      if (!std::isfinite(lv)) {
        throw TrainError("loss is " + std::string(std::isnan(lv) ? "NaN" : "infinite") +
                         " in stage " + std::to_string(stage) + ", epoch " +
                         std::to_string(epoch + 1) + ", batch " + std::to_string(b.index + 1) +
                         " on rank " + std::to_string(world_.rank()) +
                         " (try a lower learning rate)");
      }
      (scaler_.enabled() ? loss * scaler_.scale() : loss).backward();
      loss_sum += lv * b.size;
      correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
      seen += b.size;
    }
    exposed_comm_seconds_ += apply_update(world_, sync_.get(), scaler_, params, opt);
    if (live) {
      std::fprintf(stderr, "\r  stage %d epoch %lld batch %lld/%lld  loss %.4f   ", stage,
                   static_cast<long long>(epoch + 1), static_cast<long long>(b.index + 1),
                   static_cast<long long>(batches),
                   seen > 0 ? loss_sum / static_cast<double>(seen) : 0.0);
      std::fflush(stderr);
    }
  }
  if (live) std::fprintf(stderr, "\r%80s\r", "");
  const double elapsed = seconds_since(t0);
  comm_seconds_ = sync_ ? sync_->communication_seconds() - comm_before : 0.0;
  double stats[3] = {loss_sum, static_cast<double>(correct), static_cast<double>(seen)};
  world_.allreduce(stats, 3);
  *acc = stats[2] > 0 ? stats[1] / stats[2] : 0;
  *img_per_s = elapsed > 0 ? stats[2] / elapsed : 0;
  return stats[2] > 0 ? stats[0] / stats[2] : 0;
}

EvalResult Trainer::evaluate(bool collect) {
  average_batchnorm(world_, net_);
  net_->eval();
  torch::NoGradGuard no_grad;
  EvalResult r;
  r.confusion.assign(static_cast<std::size_t>(classes_) * classes_, 0);
  const std::size_t n = split_.val.size();
  std::vector<float> probs;
  std::vector<std::int64_t> predicted;
  if (collect) {
    probs.assign(n * static_cast<std::size_t>(classes_), 0.0F);
    predicted.assign(n, 0);
  }
  eval_loader_->start_epoch(0);
  data::Batch b;
  while (eval_loader_->next(&b)) {
    if (b.size == 0) continue;
    torch::Tensor y = labels_of(b);
    torch::Tensor logits = logits_of(b);
    r.loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    torch::Tensor pred = logits.argmax(1).to(torch::kCPU);
    torch::Tensor p = torch::softmax(logits, 1).to(torch::kCPU).contiguous();
    for (int i = 0; i < b.size; ++i) {
      const std::int64_t k = pred[i].item<std::int64_t>();
      count(r.confusion, classes_, b.labels[static_cast<std::size_t>(i)], k);
      if (collect) {
        const auto row = static_cast<std::size_t>(b.samples[static_cast<std::size_t>(i)]);
        predicted[row] = k;
        std::copy(p[i].data_ptr<float>(), p[i].data_ptr<float>() + classes_,
                  probs.begin() + static_cast<long>(row * static_cast<std::size_t>(classes_)));
      }
    }
    r.count += b.size;
  }
  // Exact global metrics: sums of per-rank sums; every row of the
  // probability table is filled by exactly one rank.
  world_.allreduce(r.confusion);
  double totals[2] = {r.loss_sum, static_cast<double>(r.count)};
  world_.allreduce(totals, 2);
  r.loss_sum = totals[0];
  r.count = static_cast<std::int64_t>(totals[1]);
  if (collect) {
    world_.allreduce(probs);
    world_.allreduce(predicted);
    r.probabilities = std::move(probs);
    r.predicted = std::move(predicted);
  }
  return r;
}

void Trainer::write_run() {
  if (!rank0()) return;
  record_.skipped.clear();
  record_.skipped_reasons.clear();
  for (auto* loader : {train_loader_.get(), eval_loader_.get()}) {
    if (loader == nullptr) continue;
    for (const auto& s : loader->skipped()) {
      record_.skipped.push_back(s.path);
      record_.skipped_reasons.push_back(s.reason);
    }
  }
  io::write_run_file(path("run.h5"), record_);
}

void Trainer::checkpoint(int next_stage, std::int64_t epoch, torch::optim::Optimizer* opt) {
  state_.stage = next_stage;
  state_.epoch = epoch;
  state_.stage1 = record_.stage1;
  state_.stage2 = record_.stage2;
  state_.optimizer = opt != nullptr ? serialize_optimizer(*opt) : std::vector<std::uint8_t>{};
  if (rank0() && config_.run.checkpoint_every > 0) save_state(path("state.h5"), net_, state_);
}

void Trainer::run_stage(int stage) {
  const StageConfig& sc = stage == 1 ? config_.stage1 : config_.stage2;
  io::History& history = stage == 1 ? record_.stage1 : record_.stage2;
  if (sc.epochs == 0 || state_.stage > stage) return;
  net_->set_backbone_frozen(stage == 1);
  std::vector<torch::Tensor> params = stage == 1 ? net_->head_parameters() : net_->parameters();
  auto opt = make_optimizer(sc, params);
  if (world_.size() > 1) {
    sync_ = std::make_unique<GradientSync>(
        world_, params, GradientSyncOptions{config_.dist.bucket_mb, config_.dist.overlap});
    if (rank0()) {
      log::info(text::format(
          "stage %d: gradients of %lld parameters in %zu buckets (%s memory, overlap %s)", stage,
          static_cast<long long>(sync_->numel()), sync_->bucket_count(), sync_->staging(),
          sync_->overlapping() ? "on" : "off"));
    }
  }
  std::int64_t first = 0;
  if (state_.stage == stage && state_.epoch > 0) {
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
    const auto t0 = Clock::now();
    const double lr = lr_for_epoch(sc, epoch, state_.schedule);
    set_lr(*opt, lr);
    double train_acc = 0;
    double img_s = 0;
    const double train_loss = train_epoch(stage, epoch, *opt, params, &train_acc, &img_s);
    EvalResult val = evaluate(false);
    const Metrics m = compute_metrics(val.confusion, classes_);
    const double val_loss = val.count > 0 ? val.loss_sum / static_cast<double>(val.count) : 0;
    const double secs = seconds_since(t0);
    history.epoch.push_back(epoch + 1);
    history.train_loss.push_back(train_loss);
    history.train_acc.push_back(train_acc);
    history.val_loss.push_back(val_loss);
    history.val_acc.push_back(m.accuracy);
    history.lr.push_back(lr);
    history.seconds.push_back(secs);
    history.images_per_second.push_back(img_s);
    ++epochs_done_;
    epoch_seconds_ = epoch_seconds_ == 0 ? secs : 0.7 * epoch_seconds_ + 0.3 * secs;
    const double watched = sc.early_stop_metric == "val_acc" ? m.accuracy : val_loss;
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
    if (rank0()) {
      const double eta = epoch_seconds_ * static_cast<double>(total_epochs - epochs_done_);
      log::info(text::format(
          "stage %d epoch %lld/%lld  train loss %.4f acc %.3f | val loss %.4f acc %.3f | "
          "lr %.3g | %.0f img/s | %s | ETA %s",
          stage, static_cast<long long>(epoch + 1), sc.epochs, train_loss, train_acc, val_loss,
          m.accuracy, lr, img_s, duration_text(secs).c_str(), duration_text(eta).c_str()));
    }
    const bool stop = early_stop_due(sc, state_.early);
    const bool last = stop || epoch + 1 == sc.epochs;
    if (!last && config_.run.checkpoint_every > 0 &&
        (epoch + 1) % config_.run.checkpoint_every == 0) {
      checkpoint(stage, epoch + 1, opt.get());
      write_run();
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
  net_->set_backbone_frozen(false);
  state_.has_best = false;
  state_.best.clear();
  checkpoint(stage + 1, 0, nullptr);
  write_run();
}

void Trainer::finish() {
  EvalResult r = evaluate(true);
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
  e.loss = r.count > 0 ? r.loss_sum / static_cast<double>(r.count) : 0;
  e.labels = record_.val_labels;
  e.predicted = r.predicted;
  e.probabilities = r.probabilities;
  e.paths = record_.val_paths;
  // Images skipped during evaluation have no prediction: mark them -1.
  for (std::size_t i = 0; i < e.predicted.size(); ++i) {
    float row = 0;
    for (int c = 0; c < classes_; ++c)
      row += e.probabilities[i * static_cast<std::size_t>(classes_) + static_cast<std::size_t>(c)];
    if (row == 0) e.predicted[i] = -1;
  }
  std::ostringstream table;
  std::size_t width = 5;
  for (const auto& c : split_.classes) width = std::max(width, c.size());
  table << "taxon" << std::string(width - 3, ' ') << "support  accuracy  precision      f1\n";
  for (int c = 0; c < classes_; ++c) {
    const auto k = static_cast<std::size_t>(c);
    char line[128];
    std::snprintf(line, sizeof(line), "%7lld  %8.3f  %9.3f  %6.3f\n",
                  static_cast<long long>(m.support[k]), m.recall[k], m.precision[k], m.f1[k]);
    table << split_.classes[k] << std::string(width - split_.classes[k].size() + 2, ' ') << line;
  }
  char tail[160];
  std::snprintf(tail, sizeof(tail),
                "accuracy %.4f, balanced accuracy %.4f (%lld validation images)\n", m.accuracy,
                m.balanced_accuracy, static_cast<long long>(r.count));
  table << tail;
  outcome_.table = table.str();
  outcome_.accuracy = m.accuracy;
  outcome_.balanced_accuracy = m.balanced_accuracy;
  if (rank0()) {
    model::ModelMeta meta;
    meta.arch = config_.model.arch;
    meta.classes = split_.classes;
    meta.image_size = static_cast<int>(config_.data.image_size);
    meta.mean = config_.data.mean;
    meta.std = config_.data.std;
    meta.dropout = config_.model.dropout;
    model::save_model_h5(net_, meta, path("model.h5"));
  }
  explain_validation();
  record_.status = "complete";
  record_.finished = io::utc_timestamp();
  write_run();
}

// Grad-CAM heatmaps of the first gradcam.max_images validation images, for
// the predicted taxon, computed on rank 0 (the other ranks have finished).
void Trainer::explain_validation() {
  const auto n = static_cast<std::size_t>(
      std::min<long long>(config_.gradcam.max_images, static_cast<long long>(split_.val.size())));
  if (n == 0 || !rank0()) return;
  data::LoaderOptions o = loader_options(false, 16);
  o.rank = 0;  // rank 0 alone explains the first images
  o.world = 1;
  o.max_bad_fraction = 1.0;  // already enforced by the evaluation
  data::Loader loader(
      std::vector<data::Sample>(split_.val.begin(), split_.val.begin() + static_cast<long>(n)),
      classes_, o);
  io::GradcamRecord& g = record_.gradcam;
  g = io::GradcamRecord{};
  g.layer = config_.gradcam.layer;
  g.input_size = config_.data.image_size;
  g.height = g.width = config_.data.image_size;
  loader.start_epoch(0);
  data::Batch b;
  while (loader.next(&b)) {
    if (b.size == 0) continue;
    // gradcam.target = true explains the true taxon, else the predicted one.
    std::vector<std::int64_t> targets;
    if (config_.gradcam.target == "true") targets = b.labels;
    explain::GradcamResult r = explain::gradcam(net_, to_input(b), config_.gradcam.layer, targets);
    torch::Tensor maps = r.heatmaps.to(torch::kCPU).contiguous();
    g.heatmaps.insert(g.heatmaps.end(), maps.data_ptr<float>(),
                      maps.data_ptr<float>() + maps.numel());
    for (int i = 0; i < b.size; ++i) {
      const auto sample = static_cast<std::size_t>(b.samples[static_cast<std::size_t>(i)]);
      g.paths.push_back(split_.val[sample].path);
      g.labels.push_back(split_.val[sample].label);
      g.predicted.push_back(r.predicted[i].item<std::int64_t>());
    }
  }
  record_.has_gradcam = !g.paths.empty();
}

TrainOutcome Trainer::run() {
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
                     "; MPI " + dist::mpi_library_version();
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
    }
    write_run();
    run_stage(1);
    run_stage(2);
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

TrainOutcome train_run(const Config& config, dist::Communicator& world, const std::string& out) {
  Trainer t(config, world, out);
  return t.run();
}

}  // namespace midge::train
