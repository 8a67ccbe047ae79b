// A loader batch through the network: input and label tensors on the run's
// device, and the forward pass under run.amp's autocast. Shared by the
// training step, evaluation and Grad-CAM, so all three see the same input.
#pragma once

#include <torch/torch.h>

#include <string>

#include "data/loader.h"
#include "model/resnet.h"
#include "train/device.h"

namespace midge::train {

// [B, 3, S, S] float input on `device`. On CPU the loader's buffer is
// wrapped without a copy (the tensor keeps the buffer alive); on CUDA it is
// copied asynchronously from page-locked memory, channels-last.
torch::Tensor batch_input(const data::Batch& batch, const DeviceChoice& device);

// [B] int64 labels on `device`.
torch::Tensor batch_labels(const data::Batch& batch, const DeviceChoice& device);

// net(input) under run.amp's autocast; the logits always come back as float.
torch::Tensor forward_logits(model::ResNet& net, const data::Batch& batch,
                             const DeviceChoice& device, const std::string& amp);

}  // namespace midge::train
