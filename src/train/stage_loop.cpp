#include "train/stage_loop.h"

#include "core/clock.h"

namespace midge::train {

StageEnd run_stage_epochs(const StageLoop& loop, StageParts& parts) {
  const StageConfig& sc = loop.config;
  io::History& history = *loop.history;
  for (std::int64_t epoch = loop.first_epoch; epoch < sc.epochs; ++epoch) {
    // An epoch resumed in its middle was past this question already.
    const bool inside = loop.resumed_inside && epoch == loop.first_epoch;
    if (!inside && parts.pause_before(epoch)) return StageEnd::kPaused;
    const auto t0 = Clock::now();
    const double lr = lr_for_epoch(sc, epoch, *loop.schedule);
    parts.set_lr(lr);
    EpochReport report;
    report.stage = loop.stage;
    report.epoch = epoch + 1;
    report.epochs = sc.epochs;
    report.lr = lr;
    if (!parts.train_epoch(epoch, &report)) return StageEnd::kStopped;
    if (!parts.validate(epoch, &report)) return StageEnd::kStopped;
    report.seconds = seconds_since(t0);
    history.epoch.push_back(epoch + 1);
    history.train_loss.push_back(report.train_loss);
    history.train_acc.push_back(report.train_acc);
    history.val_loss.push_back(report.val_loss);
    history.val_acc.push_back(report.val_acc);
    history.lr.push_back(lr);
    history.seconds.push_back(report.seconds);
    history.images_per_second.push_back(report.images_per_second);
    history.data_wait_seconds.push_back(report.data_wait_seconds);
    const double watched = sc.early_stop_metric == "val_acc" ? report.val_acc : report.val_loss;
    schedule_observe(sc, watched, loop.schedule);
    if (early_stop_observe(sc, epoch, watched, loop.early) && sc.early_stop_patience > 0) {
      parts.keep_best();
    }
    const bool stop_early = early_stop_due(sc, *loop.early);
    const bool last = stop_early || epoch + 1 == sc.epochs;
    if (parts.end_epoch(epoch, report, last, stop_early) && !last) return StageEnd::kStopped;
    if (stop_early) break;
  }
  return StageEnd::kComplete;
}

}  // namespace midge::train
