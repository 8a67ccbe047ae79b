#include "train/epoch_loop.h"

#include <cmath>
#include <exception>
#include <limits>
#include <string>

#include "core/clock.h"
#include "core/errors.h"
#include "core/fault.h"
#include "core/stop_request.h"
#include "core/text.h"

namespace midge::train {

EpochEnd train_one_epoch(const EpochPlan& plan, BatchSource& batches, StepEngine& engine,
                         distributed::Agreement& agree, const EpochHooks& hooks) {
  EpochEnd end;
  std::copy_n(plan.before, kPartialSums, end.sums);
  double& loss_sum = end.sums[kLossSum];
  double& correct = end.sums[kCorrect];
  double& seen = end.sums[kSeen];
  double& data_wait = end.sums[kDataWait];
  const double seconds_before = plan.before[kTrainSeconds];
  const auto t0 = Clock::now();
  const int rank = agree.comm().rank();
  data::Batch b;
  auto asked = Clock::now();
  for (;;) {
    std::exception_ptr error;
    bool got = false;
    StepForward fwd;
    try {
      got = batches.next(&b);
      if (got) {
        data_wait += seconds_since(asked);
        if (fault::fault_here("loader")) {
          throw DataError(fault::fault_message("loader") + ": too many unreadable images");
        }
        fwd = engine.forward(b, plan.stage, plan.epoch);
        double loss = fwd.loss;
        if (b.size > 0 && fault::fault_here("loss"))
          loss = std::numeric_limits<double>::quiet_NaN();
        if (b.size > 0 && !std::isfinite(loss)) {
          throw TrainError("loss is " + std::string(std::isnan(loss) ? "NaN" : "infinite") +
                           " in stage " + std::to_string(plan.stage) + ", epoch " +
                           std::to_string(plan.epoch + 1) + ", batch " +
                           std::to_string(b.index + 1) + " on rank " + std::to_string(rank) +
                           " (try a lower learning rate)");
        }
      }
    } catch (...) {
      error = std::current_exception();
    }
    // Every rank has the same number of batches: all leave together.
    if (!got && !error) break;
    if (fault::fault_here("hang")) fault::hang_forever();
    const distributed::Verdict v = agree.agree(
        text::format("stage %d epoch %lld batch %lld", plan.stage,
                     static_cast<long long>(plan.epoch + 1), static_cast<long long>(b.index + 1)),
        stop_requested(), error, batches.unreadable() - plan.known_bad);
    if (hooks.check_bad_images) hooks.check_bad_images(v.bad_images);
    if (!fwd.updated) engine.update(b, fwd);
    if (b.size > 0) {
      loss_sum += fwd.loss * b.size;
      correct += static_cast<double>(fwd.correct);
      seen += b.size;
    }
    if (hooks.after_step) hooks.after_step(b, seen > 0 ? loss_sum / seen : 0.0);
    if (v.stop) {
      // A stop agreed at this step takes effect after its update: the
      // forward pass has moved BatchNorm's running statistics already, so
      // the step is finished rather than done again on resume.
      end.stopped = true;
      end.next_batch = b.index + 1;
      break;
    }
    asked = Clock::now();
  }
  end.sums[kTrainSeconds] = seconds_before + seconds_since(t0);
  return end;
}

}  // namespace midge::train
