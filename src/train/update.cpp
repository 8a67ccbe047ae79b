#include "train/update.h"

#include <cstdint>

namespace midge::train {

double apply_update(distributed::Communicator& world, GradientSync* sync, LossScaler& scaler,
                    const std::vector<torch::Tensor>& params, torch::optim::Optimizer& opt) {
  const double exposed = sync != nullptr ? sync->finish() : 0.0;
  bool finite = scaler.unscale(params);
  if (scaler.enabled() && world.size() > 1) {
    finite = world.allreduce_value<std::int64_t>(finite ? 0 : 1, distributed::ReduceOp::kMax) == 0;
  }
  scaler.update(finite);
  if (finite) opt.step();
  return exposed;
}

}  // namespace midge::train
