// Where training runs and in which precision: device choice (run.device,
// one GPU per node-local rank), CPU threads, determinism, autocast and
// fp16 loss scaling. Hides the LibTorch 1.13 / 2.x API differences.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/config.h"
#include "data/loader.h"

namespace midge::train {

struct DeviceChoice {
  torch::Device device{torch::kCPU};
  bool cuda = false;
  int threads = 1;
  std::string describe() const;
};

// run.device auto|cpu|cuda; CUDA device = local_rank % visible GPUs; CPU
// threads = run.threads or the node's cores / ranks on the node. Also
// applies run.deterministic and the thread count to LibTorch.
DeviceChoice choose_device(const RunConfig& run, int local_rank, int local_size);

// Batch buffers for the loader: page-locked on CUDA (fast, asynchronous
// host-to-device copies), plain otherwise.
data::Allocator batch_allocator(const DeviceChoice& device);

// Autocast for the forward pass while alive (run.amp = bf16|fp16; nothing
// for off).
class AutocastScope {
 public:
  AutocastScope(const std::string& amp, const DeviceChoice& device);
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
  explicit LossScaler(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  double scale() const { return enabled_ ? scale_ : 1.0; }
  // Returns false when a gradient is not finite.
  bool unscale(const std::vector<torch::Tensor>& params);
  void update(bool finite);

 private:
  bool enabled_;
  double scale_ = 65536.0;
  int clean_steps_ = 0;
};

}  // namespace midge::train
