#include "train/stage_runner.h"

#include <unistd.h>

#include <cstdio>
#include <optional>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/random.h"
#include "core/text.h"
#include "io/atomic_file.h"
#include "io/run_file.h"
#include "model/weights.h"
#include "stats/metrics.h"
#include "train/engine.h"
#include "train/evaluation.h"
#include "train/optimizer.h"
#include "train/step_graph.h"

namespace midge::train {
namespace {

model::NamedTensors clone_state(model::ResNet& net) {
  model::NamedTensors out;
  for (auto& [name, t] : model::named_state(net))
    out.emplace_back(name, t.detach().to(torch::kCPU).clone());
  return out;
}

class StageRun final : public StageParts {
 public:
  StageRun(int stage, Session& s, Recorder& r, Checkpointer& c, const PauseQuestion& pause,
           RunProgress& p)
      : stage_(stage),
        sc_(stage == 1 ? s.config.stage1 : s.config.stage2),
        s_(s),
        r_(r),
        c_(c),
        pause_(pause),
        p_(p) {}
  void run();

 private:
  bool pause_before(std::int64_t epoch) override;
  void set_lr(double lr) override { train::set_lr(*opt_, lr); }
  bool train_epoch(std::int64_t epoch, EpochReport* report) override;
  bool validate(std::int64_t epoch, EpochReport* report) override;
  void keep_best() override;
  bool end_epoch(std::int64_t epoch, const EpochReport& report, bool last, bool early) override;

  std::unique_ptr<StepGraph> make_step_graph(const EngineParts& parts);
  void open_train_loader();
  void stop_inside(std::int64_t epoch, std::int64_t next_batch, const double (&sums)[kPartialSums],
                   std::int64_t batches);

  const int stage_;
  const StageConfig& sc_;
  Session& s_;
  Recorder& r_;
  Checkpointer& c_;
  const PauseQuestion& pause_;
  RunProgress& p_;
  std::vector<torch::Tensor> params_;
  // Destroyed in reverse: the engine, the sync, the graph (which refers to
  // the optimizer), the optimizer.
  std::unique_ptr<torch::optim::Optimizer> opt_;
  std::unique_ptr<StepGraph> graph_;
  std::unique_ptr<GradientSync> sync_;
  std::unique_ptr<TorchStepEngine> engine_;
  // This rank's sums of the last epoch trained, before they were reduced,
  // and its batch count: a stop during its validation saves the epoch as
  // trained to its end, and the rerun validates it again.
  double epoch_sums_[kPartialSums] = {0, 0, 0, 0, 0};
  std::int64_t epoch_batches_ = 0;
  std::optional<Clock::time_point> progress_written_;  // <out>/progress.txt
  double comm_seconds_ = 0;                            // last epoch: time spent reducing gradients
  double exposed_seconds_ = 0;  // last epoch: gradient sync not hidden by backward
};

void StageRun::run() {
  TrainState& state = c_.state();
  const ResumePoint& at = c_.resume_point();
  if (sc_.epochs == 0 || at.stage > stage_) return;
  s_.net->set_backbone_frozen(stage_ == 1);
  params_ = stage_ == 1 ? s_.net->head_parameters() : s_.net->parameters();
  opt_ = make_optimizer(sc_, params_);
  EngineParts parts;
  parts.net = &s_.net;
  parts.device = &s_.device;
  parts.amp = s_.amp;
  parts.scaler = &s_.scaler;
  parts.class_weights = s_.class_weights;
  parts.world = &s_.world;
  parts.optimizer = opt_.get();
  parts.params = params_;
  parts.seed = static_cast<std::uint64_t>(s_.config.run.seed);
  parts.image_size = s_.config.data.image_size;
  parts.per_rank_batch = static_cast<int>(sc_.batch_size / s_.world.size());
  graph_ = make_step_graph(parts);
  if (s_.world.size() > 1) {
    sync_ = std::make_unique<GradientSync>(
        s_.world, params_,
        GradientSyncOptions{s_.config.dist.bucket_mb, s_.config.dist.overlap, s_.nccl.get()});
    if (s_.rank0()) {
      log::info(text::format(
          "stage %d: gradients of %lld parameters in %zu buckets (%s memory, overlap %s)", stage_,
          static_cast<long long>(sync_->numel()), sync_->bucket_count(), sync_->staging(),
          sync_->overlapping() ? "on" : "off"));
    }
  }
  parts.sync = sync_.get();
  parts.graph = graph_.get();
  engine_ = std::make_unique<TorchStepEngine>(parts);
  StageLoop loop{sc_};
  loop.stage = stage_;
  if (at.stage == stage_ && (at.epoch > 0 || at.batch > 0)) {
    loop.first_epoch = at.epoch;
    loop.resumed_inside = at.batch > 0;
    if (!state.optimizer.empty()) deserialize_optimizer(*opt_, state.optimizer);
  } else {
    state.schedule = ScheduleState{};
    state.early = EarlyStopState{};
    state.has_best = false;
    state.best.clear();
  }
  if (s_.rank0()) {
    log::info(
        text::format("stage %d: %s for up to %lld epochs, %s lr %s, batch %lld (%lld per rank)",
                     stage_, stage_ == 1 ? "head only, backbone frozen" : "whole network",
                     sc_.epochs, sc_.optimizer.c_str(), text::format_double(sc_.lr).c_str(),
                     sc_.batch_size, sc_.batch_size / s_.world.size()));
  }
  loop.schedule = &state.schedule;
  loop.early = &state.early;
  loop.history = stage_ == 1 ? &r_.record().stage1 : &r_.record().stage2;
  if (run_stage_epochs(loop, *this) != StageEnd::kComplete) return;
  if (sc_.early_stop_patience > 0 && state.has_best) {
    model::import_state(s_.net, state.best, model::ImportPolicy::kExact,
                        "best weights of stage " + std::to_string(stage_));
    if (s_.rank0()) {
      log::info(text::format("stage %d: restored the weights of epoch %lld", stage_,
                             static_cast<long long>(state.early.best_epoch + 1)));
    }
  }
  engine_.reset();
  sync_.reset();
  if (graph_ && s_.rank0()) {
    const StepGraphCounts n = graph_->counts();
    log::info(text::format(
        "stage %d: %lld steps replayed from the CUDA graph, %lld captured, %lld warm-up steps "
        "before the first capture",
        stage_, static_cast<long long>(n.replays), static_cast<long long>(n.captures),
        static_cast<long long>(n.warmup)));
  }
  s_.net->set_backbone_frozen(false);
  state.has_best = false;
  state.best.clear();
  c_.save({stage_ + 1, 0, 0}, nullptr, SaveWhen::kStageEnd);
  r_.write();
}

std::unique_ptr<StepGraph> StageRun::make_step_graph(const EngineParts& parts) {
  if (!s_.config.run.cuda_graph) return nullptr;
  const std::string why = cuda_graph_obstacle(s_.device.cuda, s_.amp, s_.world.size());
  if (!why.empty()) {
    if (s_.rank0() && !p_.graph_obstacle_logged) {
      log::warn("run.cuda_graph = true, but the training steps are not captured: " + why);
    }
    p_.graph_obstacle_logged = true;
    return nullptr;
  }
  if (s_.rank0()) {
    log::info(text::format(
        "stage %d: training steps captured in a CUDA graph after 3 warm-up steps (batches "
        "of %lld; others run uncaptured)",
        stage_, sc_.batch_size));
  }
  return std::make_unique<StepGraph>(*opt_, capturable_step(parts), 3);
}

// Successive halving's question (trainer.h) before an epoch of stage 2; on
// a pause the state after the previous epoch is saved and run.h5 says
// "paused".
bool StageRun::pause_before(std::int64_t epoch) {
  if (!pause_ || stage_ != 2) return false;
  PausePoint p;
  p.stage = stage_;
  p.epoch = epoch;
  // The metrics of the weights the run goes on with: the last epoch's, or
  // after stage 1 with early stopping, whose best weights were restored,
  // the best epoch's (found again by replaying the rule over the history,
  // which a resumed run has too).
  const io::RunRecord& rec = r_.record();
  const bool after_stage1 = rec.stage2.val_acc.empty();
  const io::History& h = after_stage1 ? rec.stage1 : rec.stage2;
  const StageConfig& s1 = s_.config.stage1;
  if (!h.val_acc.empty()) {
    std::size_t at = h.val_acc.size() - 1;
    if (after_stage1 && s1.early_stop_patience > 0) {
      EarlyStopState replay;
      for (std::size_t e = 0; e < h.val_acc.size(); ++e) {
        const double watched = s1.early_stop_metric == "val_acc" ? h.val_acc[e] : h.val_loss[e];
        early_stop_observe(s1, static_cast<std::int64_t>(e), watched, &replay);
      }
      at = static_cast<std::size_t>(replay.best_epoch);
    }
    p.val_acc = h.val_acc[at];
    p.val_loss = h.val_loss[at];
  }
  if (!pause_(p)) return false;
  c_.save({stage_, epoch, 0}, epoch > 0 ? opt_.get() : nullptr, SaveWhen::kAlways);
  r_.write(io::RunStatus::kPaused);
  p_.paused = true;
  if (s_.rank0()) {
    log::info(text::format("paused before stage %d epoch %lld (state in %s)", stage_,
                           static_cast<long long>(epoch + 1), s_.path("state.h5").c_str()));
  }
  return true;
}

void StageRun::open_train_loader() {
  data::LoaderOptions o =
      s_.loader_options(true, static_cast<int>(sc_.batch_size / s_.world.size()));
  // Each stage has its own epoch orders and augmentations.
  o.seed = derive_seed(static_cast<std::uint64_t>(s_.config.run.seed),
                       {static_cast<std::uint64_t>(stage_)});
  s_.train_loader = std::make_unique<data::Loader>(s_.split.train, s_.classes, o);
  s_.train_loader_stage = stage_;
  const TrainState& state = c_.state();
  std::vector<data::SkippedImage> known;
  for (std::size_t i = 0; i < state.skipped_paths.size(); ++i) {
    known.push_back({state.skipped_paths[i], state.skipped_reasons[i]});
  }
  s_.train_loader->add_skipped(known);
  s_.known_bad = static_cast<std::int64_t>(s_.train_loader->skipped_count());
  const auto per_epoch =
      s_.world.allreduce_value<std::int64_t>(s_.train_loader->samples_per_epoch());
  if (s_.rank0()) {
    log::info(text::format("stage %d: %lld training images per epoch (balance %s)", stage_,
                           static_cast<long long>(per_epoch), s_.config.data.balance.c_str()));
  }
}

bool StageRun::train_epoch(std::int64_t epoch, EpochReport* report) {
  if (!s_.train_loader || s_.train_loader_stage != stage_) open_train_loader();
  s_.net->train();
  const bool live = s_.rank0() && ::isatty(STDERR_FILENO) != 0;
  EpochPlan plan;
  plan.stage = stage_;
  plan.epoch = epoch;
  // A run stopped inside this epoch goes on from its next batch with what
  // this rank had summed.
  if (const std::optional<InsideEpoch> in = c_.take_inside(stage_, epoch)) {
    plan.first_batch = in->first_batch;
    std::copy_n(in->sums, kPartialSums, plan.before);
  }
  s_.train_loader->start_epoch(epoch, plan.first_batch);
  plan.known_bad = s_.known_bad;
  const std::int64_t batches = s_.train_loader->batches_per_epoch();
  const double exposed_before = engine_->exposed_comm_seconds();
  const double comm_before = sync_ ? sync_->communication_seconds() : 0.0;
  EpochHooks hooks;
  hooks.check_bad_images = [this](std::int64_t found) { check_bad_images(s_, found); };
  hooks.after_step = [&](const data::Batch& b, double mean_loss) {
    if (live) {
      std::fprintf(stderr, "\r  stage %d epoch %lld batch %lld/%lld  loss %.4f   ", stage_,
                   static_cast<long long>(epoch + 1), static_cast<long long>(b.index + 1),
                   static_cast<long long>(batches), mean_loss);
      std::fflush(stderr);
    }
    if (s_.rank0()) {
      log::debug(text::format(
          "stage %d epoch %lld batch %lld/%lld done", stage_, static_cast<long long>(epoch + 1),
          static_cast<long long>(b.index + 1), static_cast<long long>(batches)));
      // Where the run is inside its epoch, for `midge status` (run.h5 is
      // written once per epoch): a few bytes, at most every
      // run.progress_seconds, so a shared file system barely notices.
      if (!progress_written_ ||
          seconds_since(*progress_written_) >= s_.config.run.progress_seconds) {
        progress_written_ = Clock::now();
        // Best effort, on rank 0 alone: a full disk must not stop training
        // (nor part the ranks), so a failure is logged, not thrown.
        try {
          io::write_file_atomic(
              s_.path("progress.txt"),
              text::format("stage %d epoch %lld batch %lld/%lld at %s\n", stage_,
                           static_cast<long long>(epoch + 1), static_cast<long long>(b.index + 1),
                           static_cast<long long>(batches), io::utc_timestamp().c_str()));
        } catch (const Error& e) {
          log::warn(std::string("progress.txt not written: ") + e.what());
        }
      }
    }
  };
  LoaderSource source(*s_.train_loader);
  const EpochEnd end = train_one_epoch(plan, source, *engine_, s_.agree, hooks);
  if (live) std::fprintf(stderr, "\r%80s\r", "");
  if (end.stopped) {
    stop_inside(epoch, end.next_batch, end.sums, batches);
    return false;
  }
  // Every reduction of the epoch done (and none failed) before its weights
  // are evaluated or written.
  if (sync_) sync_->settle();
  const double elapsed = end.sums[kTrainSeconds];
  comm_seconds_ = sync_ ? sync_->communication_seconds() - comm_before : 0.0;
  exposed_seconds_ = engine_->exposed_comm_seconds() - exposed_before;
  std::copy_n(end.sums, kPartialSums, epoch_sums_);
  epoch_batches_ = batches;
  double stats[5] = {
      end.sums[kLossSum], end.sums[kCorrect], end.sums[kSeen], end.sums[kDataWait],
      static_cast<double>(static_cast<std::int64_t>(s_.train_loader->skipped_count()) -
                          s_.known_bad)};
  s_.world.allreduce(stats, 5);
  // Unreadable images found by some rank: every rank learns them all.
  if (stats[4] > 0) share_skipped(s_);
  report->train_loss = stats[2] > 0 ? stats[0] / stats[2] : 0;
  report->train_acc = stats[2] > 0 ? stats[1] / stats[2] : 0;
  report->images_per_second = elapsed > 0 ? stats[2] / elapsed : 0;
  report->train_seconds = elapsed;
  report->data_wait_seconds = stats[3] / s_.world.size();
  return true;
}

bool StageRun::validate(std::int64_t epoch, EpochReport* report) {
  EvalOptions eo;
  eo.where = text::format("the validation of stage %d epoch %lld", stage_,
                          static_cast<long long>(epoch + 1));
  eo.max_bad_fraction = s_.config.data.max_bad_fraction;
  eo.stop_site = "stop_validation";
  const EvalResult val = evaluate(s_.net, *s_.eval_loader, s_.device, s_.amp, s_.agree, s_.classes,
                                  s_.split.val.size(), eo);
  if (val.stopped) {
    // The epoch is trained to its end; the rerun validates it again.
    stop_inside(epoch, epoch_batches_, epoch_sums_, epoch_batches_);
    return false;
  }
  const stats::Metrics m = stats::compute_metrics(val.confusion, s_.classes);
  report->val_loss = val.mean_loss();
  report->val_acc = m.accuracy;
  report->peak = peak_memory(s_.device, s_.world);
  r_.record().peak_rss_bytes = report->peak.host_rss;
  r_.record().peak_cuda_bytes = report->peak.device_allocated;
  return true;
}

void StageRun::keep_best() {
  TrainState& state = c_.state();
  state.best = clone_state(s_.net);
  state.has_best = true;
}

bool StageRun::end_epoch(std::int64_t epoch, const EpochReport& report_in, bool last, bool early) {
  EpochReport report = report_in;
  ++p_.epochs_done;
  p_.eta.add_epoch(report.seconds);
  const std::int64_t total_epochs = s_.config.stage1.epochs + s_.config.stage2.epochs;
  report.eta_seconds = p_.eta.seconds_left(total_epochs - p_.epochs_done);
  if (sync_ && s_.rank0()) {
    log::debug(text::format(
        "stage %d epoch %lld: gradient allreduce %.3f s, of which %.3f s not hidden by backward",
        stage_, static_cast<long long>(epoch + 1), comm_seconds_, exposed_seconds_));
  }
  if (s_.rank0()) log::info(epoch_line(report));
  if (!last && s_.config.run.checkpoint_every > 0 &&
      (epoch + 1) % s_.config.run.checkpoint_every == 0) {
    c_.save({stage_, epoch + 1, 0}, opt_.get(), SaveWhen::kEpochEnd);
  }
  // Every epoch: the history so far is readable while training runs.
  const bool stop = r_.write().stop;
  save_image_cache(s_);
  // Asked to stop during the writes: the next epoch starts from here (no
  // partial sums to keep).
  if (!last && stop) {
    c_.save({stage_, epoch + 1, 0}, opt_.get(), SaveWhen::kAlways);
    mark_interrupted(s_, r_, p_,
                     text::format("stage %d epoch %lld", stage_, static_cast<long long>(epoch + 1)),
                     "epoch");
    return true;
  }
  if (early && s_.rank0()) {
    log::info(text::format("stage %d: no improvement of %s for %lld epochs, stopping early", stage_,
                           sc_.early_stop_metric.c_str(), sc_.early_stop_patience));
  }
  return false;
}

void StageRun::stop_inside(std::int64_t epoch, std::int64_t next_batch,
                           const double (&sums)[kPartialSums], std::int64_t batches) {
  c_.save_inside_epoch({stage_, epoch, next_batch}, *opt_, sums, sync_.get());
  save_image_cache(s_);
  mark_interrupted(
      s_, r_, p_,
      text::format("batch %lld/%lld of stage %d epoch %lld", static_cast<long long>(next_batch),
                   static_cast<long long>(batches), stage_, static_cast<long long>(epoch + 1)),
      "batch");
}

}  // namespace

void run_stage(int stage, Session& s, Recorder& r, Checkpointer& c, const PauseQuestion& pause,
               RunProgress& progress) {
  StageRun(stage, s, r, c, pause, progress).run();
}

void mark_interrupted(Session& s, Recorder& r, RunProgress& progress, const std::string& after,
                      const char* resumes_from) {
  r.write(io::RunStatus::kInterrupted);
  progress.interrupted = true;
  if (s.rank0()) {
    log::info(text::format(
        "stopped by %s after %s; state in %s (rerun the same command to resume from the next %s)",
        stop_signal_name()[0] != '\0' ? stop_signal_name() : "request", after.c_str(),
        s.path("state.h5").c_str(), resumes_from));
  }
}

}  // namespace midge::train
