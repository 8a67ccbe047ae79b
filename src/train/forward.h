// A loader batch through the network: input and label tensors on the run's
// device, and the forward pass under run.amp's autocast. The training step
// and evaluation use forward_logits; Grad-CAM takes batch_input (the same
// input tensor) and runs in float32, as `midge predict` and `midge gradcam`
// do. With run.amp = bf16|fp16, evaluation's probabilities therefore agree
// with predict's only to that precision.
#pragma once

#include <torch/torch.h>

#include <string>

#include "data/loader.h"
#include "model/resnet.h"
#include "train/device.h"

namespace midge::train {

// [B, 3, S, S] float input on `device`. On CPU the loader's buffer is
// wrapped without a copy (the tensor keeps the buffer alive); on CUDA it is
// copied asynchronously from page-locked memory.
torch::Tensor batch_input(const data::Batch& batch, const DeviceChoice& device);

// [B] int64 labels on `device`.
torch::Tensor batch_labels(const data::Batch& batch, const DeviceChoice& device);

// net(input) under run.amp's autocast; the logits always come back as float.
torch::Tensor forward_logits(model::ResNet& net, const data::Batch& batch,
                             const DeviceChoice& device, const std::string& amp);
torch::Tensor forward_logits(model::ResNet& net, const torch::Tensor& input,
                             const DeviceChoice& device, const std::string& amp);

}  // namespace midge::train
