// The optimizer of a stage ([stageN] optimizer, lr, momentum,
// weight_decay), its learning rate, and its state as bytes for state.h5.
//
// sgd: SGD with momentum; weight_decay is L2 (added to the gradient).
// adam: Adam with betas (momentum, 0.999); weight_decay is L2 as well.
// adamw: AdamW, same betas; weight_decay is decoupled (parameters shrink by
// lr * weight_decay each step, apart from the gradient).
//
// Each step runs as multi-tensor updates (ATen's _foreach_* ops: on CUDA a
// few fused kernels for all parameters instead of several small kernels per
// parameter), computing exactly what torch::optim's SGD/Adam/AdamW compute:
// on the CPU the results are bitwise those of LibTorch's own step
// (tests/unit/train/test_optimizer.cpp). The optimizers are LibTorch's
// classes with step() replaced, so their state and its serialization
// (state.h5) are LibTorch's.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/config.h"

namespace midge::train {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const StageConfig& stage,
                                                        std::vector<torch::Tensor> params);

// Sets the learning rate of every parameter group (the schedules of
// train/schedule.h decide it per epoch).
void set_lr(torch::optim::Optimizer& optimizer, double lr);

// LibTorch's own serialization of the optimizer state (momentum buffers,
// Adam moments, step counts), as bytes.
std::vector<std::uint8_t> serialize_optimizer(torch::optim::Optimizer& optimizer);
void deserialize_optimizer(torch::optim::Optimizer& optimizer,
                           const std::vector<std::uint8_t>& bytes);

}  // namespace midge::train
