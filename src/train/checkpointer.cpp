#include "train/checkpointer.h"

#include "core/log.h"
#include "core/text.h"
#include "train/optimizer.h"
#include "train/replica.h"
#include "train/resume.h"

namespace midge::train {

void Checkpointer::begin() {
  state_.config = r_.record().config;
  state_.classes = s_.split.classes;
  state_.world_size = s_.world.size();
}

void Checkpointer::resume_from(const std::string& file) {
  // Every rank reads the same file and reaches the same verdict.
  check_resumable(read_state_header(file), s_.config, s_.split.classes, s_.world.size(), file);
  state_ = load_state(file, s_.net);
  state_.world_size = s_.world.size();
  if (!state_.rank_buffers.empty()) {
    // BatchNorm statistics as they stood on this rank when it stopped.
    restore_buffers(s_.net, state_.rank_buffers[static_cast<std::size_t>(s_.world.rank())], file);
    state_.rank_buffers.clear();
  }
  s_.net->to(s_.device.device);
  s_.scaler.restore(state_.scaler);
  if (!state_.amp.empty() && state_.amp != s_.amp) {
    if (s_.rank0()) {
      log::info("run.amp: going on in " + state_.amp +
                " as the run started (this machine: " + s_.amp + ")");
    }
    s_.amp = state_.amp;
  }
  at_ = {state_.stage, state_.epoch, state_.batch};
  resumed_ = true;
  r_.record().stage1 = state_.stage1;
  r_.record().stage2 = state_.stage2;
  if (s_.rank0()) {
    const std::string inside = at_.batch > 0 ? text::format(", then %lld batch(es) of epoch %lld",
                                                            static_cast<long long>(at_.batch),
                                                            static_cast<long long>(at_.epoch + 1))
                                             : std::string();
    log::info(text::format("resuming from %s: stage %d, %lld epoch(s) of it done%s", file.c_str(),
                           at_.stage, static_cast<long long>(at_.epoch), inside.c_str()));
  }
}

std::optional<InsideEpoch> Checkpointer::take_inside(int stage, std::int64_t epoch) {
  if (at_.batch == 0 || at_.stage != stage || at_.epoch != epoch) return std::nullopt;
  InsideEpoch in;
  in.first_batch = at_.batch;
  std::copy_n(state_.partial_sums.begin() + s_.world.rank() * kPartialSums, kPartialSums, in.sums);
  at_.batch = 0;  // later checkpoints are at epoch ends again
  state_.partial_sums.clear();
  return in;
}

void Checkpointer::save(const ResumePoint& at, torch::optim::Optimizer* opt, SaveWhen when) {
  state_.stage = at.stage;
  state_.epoch = at.epoch;
  state_.batch = at.batch;
  state_.stage1 = r_.record().stage1;
  state_.stage2 = r_.record().stage2;
  state_.scaler = s_.scaler.state();
  if (when == SaveWhen::kAlways || s_.config.run.checkpoint_every > 0) {
    s_.rank0_phase("writing " + s_.path("state.h5"), [this, opt, when] {
      if (when == SaveWhen::kEpochEnd &&
          seconds_since(written_) < s_.config.run.checkpoint_seconds) {
        log::debug(text::format(
            "state.h5 not written after stage %d epoch %lld: the last is under "
            "run.checkpoint_seconds (%g s) old",
            state_.stage, static_cast<long long>(state_.epoch), s_.config.run.checkpoint_seconds));
        return;
      }
      // Only what is written is gathered (on a GPU the optimizer's state
      // is copied to the host).
      state_.optimizer = opt != nullptr ? serialize_optimizer(*opt) : std::vector<std::uint8_t>{};
      if (s_.train_loader) {
        state_.skipped_paths.clear();
        state_.skipped_reasons.clear();
        for (const auto& x : s_.train_loader->skipped()) {
          state_.skipped_paths.push_back(x.path);
          state_.skipped_reasons.push_back(x.reason);
        }
      }
      save_state(s_.path("state.h5"), s_.net, state_);
      written_ = Clock::now();
    });
  }
  state_.batch = 0;
}

void Checkpointer::save_inside_epoch(const ResumePoint& at, torch::optim::Optimizer& opt,
                                     const double (&sums)[kPartialSums], GradientSync* sync) {
  if (sync != nullptr) sync->settle();
  std::vector<double> all(static_cast<std::size_t>(s_.world.size() * kPartialSums), 0.0);
  std::copy_n(sums, kPartialSums, all.begin() + s_.world.rank() * kPartialSums);
  s_.world.allreduce(all);  // each rank's numbers plus zeros: exact
  state_.partial_sums = std::move(all);
  if (s_.world.size() > 1) state_.rank_buffers = gather_buffers(s_.world, s_.net);
  save(at, &opt, SaveWhen::kAlways);
  state_.partial_sums.clear();
  state_.rank_buffers.clear();
}

}  // namespace midge::train
