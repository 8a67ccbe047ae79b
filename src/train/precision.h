// In which precision training runs: autocast for run.amp = bf16|fp16 and
// dynamic loss scaling for fp16. Hides the LibTorch 1.13 / 2.x API
// differences of autocast. Depends on LibTorch only (the GPU check in
// bench/gpu builds it without midge's other dependencies).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace midge::train {

// Autocast for the forward pass while alive (run.amp = bf16|fp16; nothing
// for off).
class AutocastScope {
 public:
  AutocastScope(const std::string& amp, bool cuda);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
};

// Dynamic loss scaling for fp16 (LibTorch has no GradScaler): the loss is
// multiplied by scale() before backward; unscale() divides the gradients
// and reports whether all are finite; update() halves the scale after an
// overflow (the step is skipped) and doubles it after 2000 clean steps.
class LossScaler {
 public:
  // What a checkpoint keeps (state.h5 /loss_scaler), so that a resumed fp16
  // run continues at the scale it had reached.
  struct State {
    double scale = 65536.0;
    std::int64_t clean_steps = 0;
  };
  explicit LossScaler(bool enabled) : enabled_(enabled) {}
  State state() const { return {scale_, clean_steps_}; }
  void restore(const State& s) {
    scale_ = s.scale;
    clean_steps_ = s.clean_steps;
  }
  bool enabled() const { return enabled_; }
  double scale() const { return enabled_ ? scale_ : 1.0; }
  // Returns false when a gradient is not finite.
  bool unscale(const std::vector<torch::Tensor>& params);
  void update(bool finite);

 private:
  bool enabled_;
  double scale_ = State{}.scale;
  std::int64_t clean_steps_ = 0;
};

}  // namespace midge::train
