#include "train/schedule.h"

#include <cmath>

namespace midge::train {

bool improves(const StageConfig& stage, double metric, double best) {
  // Margins keep numerical noise from counting as progress: absolute for
  // val_acc, relative to |best| for val_loss.
  if (stage.early_stop_metric == "val_acc") return metric > best + 1e-9;
  return metric < best - 1e-9 * std::abs(best);
}

double lr_for_epoch(const StageConfig& stage, std::int64_t epoch, const ScheduleState& state) {
  if (stage.schedule == "cosine") {
    return stage.lr * 0.5 *
           (1 + std::cos(M_PI * static_cast<double>(epoch) / static_cast<double>(stage.epochs)));
  }
  if (stage.schedule == "step") {
    const std::int64_t step =
        stage.lr_step > 0 ? stage.lr_step : std::max<std::int64_t>(1, stage.epochs / 3);
    return stage.lr * std::pow(stage.lr_decay, static_cast<double>(epoch / step));
  }
  if (stage.schedule == "plateau") return state.plateau_started ? state.plateau_lr : stage.lr;
  return stage.lr;
}

void schedule_observe(const StageConfig& stage, double metric, ScheduleState* s) {
  if (stage.schedule != "plateau") return;
  if (!s->plateau_started) {
    s->plateau_started = true;
    s->plateau_lr = stage.lr;
    s->plateau_best = metric;
    s->plateau_bad = 0;
    return;
  }
  if (improves(stage, metric, s->plateau_best)) {
    s->plateau_best = metric;
    s->plateau_bad = 0;
  } else if (++s->plateau_bad >= stage.plateau_patience) {
    s->plateau_lr *= stage.lr_decay;
    s->plateau_bad = 0;
  }
}

bool early_stop_observe(const StageConfig& stage, std::int64_t epoch, double metric,
                        EarlyStopState* s) {
  if (!s->has_best || improves(stage, metric, s->best)) {
    s->has_best = true;
    s->best = metric;
    s->best_epoch = epoch;
    s->bad_epochs = 0;
    return true;
  }
  ++s->bad_epochs;
  return false;
}

bool early_stop_due(const StageConfig& stage, const EarlyStopState& s) {
  return stage.early_stop_patience > 0 && s.bad_epochs >= stage.early_stop_patience;
}

}  // namespace midge::train
