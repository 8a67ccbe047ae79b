// The training step's tensor work, for train_one_epoch (train/epoch_loop.h):
// forward under run.amp's autocast and the (class-weighted) cross-entropy
// on this rank's share; then backward (fp16: scaled), the gradient
// reduction over ranks (GradientSync) and the optimizer step
// (train/update.h). With run.cuda_graph a full batch goes through the
// captured step instead (train/step_graph.h), which updates the weights
// itself.
//
// Dropout draws from LibTorch's generator, reseeded every step from (seed,
// stage, epoch, batch), so a run resumed at any step draws what an
// uninterrupted one would. BatchNorm in training mode (stage 2) needs more
// than one value per channel; at data.image_size <= 32 layer4's map is 1x1,
// so a share left with a single image (the epoch's last partial batch, or
// unreadable images removed) is left out of its step, with one warning.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "model/resnet.h"
#include "train/device.h"
#include "train/epoch_loop.h"
#include "train/gradient_sync.h"
#include "train/precision.h"
#include "train/step_graph.h"

namespace midge::train {

// Cross-entropy of `logits` against `labels`, class-weighted when
// `weights` is defined (data.balance = weighted).
torch::Tensor training_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                            const torch::Tensor& weights);

// What one stage's steps work with (all owned by the caller, alive while
// the engine is).
struct EngineParts {
  model::ResNet* net = nullptr;
  const DeviceChoice* device = nullptr;
  std::string amp;
  LossScaler* scaler = nullptr;
  torch::Tensor class_weights;  // undefined: unweighted
  distributed::Communicator* world = nullptr;
  GradientSync* sync = nullptr;  // null with one rank
  torch::optim::Optimizer* optimizer = nullptr;
  std::vector<torch::Tensor> params;  // the parameters being trained
  StepGraph* graph = nullptr;         // run.cuda_graph's captured step, or null
  std::uint64_t seed = 0;             // run.seed
  std::int64_t image_size = 0;        // data.image_size
  int per_rank_batch = 1;
};

class TorchStepEngine final : public StepEngine {
 public:
  explicit TorchStepEngine(EngineParts parts) : p_(std::move(parts)) {}
  StepForward forward(data::Batch& batch, int stage, std::int64_t epoch) override;
  void update(const data::Batch& batch, const StepForward& forward) override;
  // Seconds of gradient communication not hidden by backward, summed since
  // construction.
  double exposed_comm_seconds() const { return exposed_; }

 private:
  EngineParts p_;
  torch::Tensor loss_;  // of the step between forward and update
  double exposed_ = 0;
  bool single_reported_ = false;
};

// The step as TorchStepEngine runs it, without host synchronization, for
// run.cuda_graph's capture (one rank, no loss scaling: the update is a
// plain optimizer step).
StepFunction capturable_step(const EngineParts& parts);

}  // namespace midge::train
