// In which precision training runs: run.amp = auto resolved from what the
// hardware computes natively, autocast for bf16|fp16 and dynamic loss
// scaling for fp16. Hides the LibTorch 1.13 / 2.x API differences of
// autocast. Depends on LibTorch only (the GPU check in
// bench/gpu builds it without midge's other dependencies).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace midge::train {

// Whether this machine computes bf16 natively, and what says so ("AVX512_BF16",
// "AMX-BF16", "compute capability 9.0"), or why not. CPU: the CPUID feature
// bits, with the operating system saving the AVX-512 (and AMX tile) state.
// GPU `device`: compute capability 8.0 or newer (Ampere), read through the
// CUDA runtime that LibTorch loaded; unknown counts as no.
bool cpu_has_native_bf16(std::string* what);
bool gpu_has_native_bf16(int device, std::string* what);

// run.amp as trained: auto becomes bf16 when `native_bf16` (decided by the
// caller, agreed over all ranks), else off; other settings are kept.
inline std::string resolve_amp(const std::string& setting, bool native_bf16) {
  if (setting != "auto") return setting;
  return native_bf16 ? "bf16" : "off";
}

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
