// The end of every training step, after backward: average the gradients
// over ranks (GradientSync, if any), unscale them (fp16), agree across ranks
// whether they are finite, and step the optimizer unless they are not (the
// loss scale is then lowered and the step skipped on every rank alike).
// Shared by `midge train` and the step benchmark (bench/step_bench.cpp), so
// that the benchmark measures exactly what training does.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "distributed/communicator.h"
#include "train/gradient_sync.h"
#include "train/precision.h"

namespace midge::train {

// `sync` may be null (one rank). Returns the seconds spent in
// GradientSync::finish(), i.e. gradient communication not hidden by
// backward.
double apply_update(distributed::Communicator& world, GradientSync* sync, LossScaler& scaler,
                    const std::vector<torch::Tensor>& params, torch::optim::Optimizer& opt);

}  // namespace midge::train
