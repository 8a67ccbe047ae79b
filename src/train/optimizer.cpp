#include "train/optimizer.h"

#include <sstream>
#include <string>

namespace midge::train {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const StageConfig& s,
                                                        std::vector<torch::Tensor> params) {
  if (s.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weight_decay));
  }
  if (s.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params,
        torch::optim::AdamWOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      params,
      torch::optim::AdamOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

std::vector<std::uint8_t> serialize_optimizer(torch::optim::Optimizer& opt) {
  std::ostringstream os;
  torch::save(opt, os);
  const std::string s = os.str();
  return {s.begin(), s.end()};
}

void deserialize_optimizer(torch::optim::Optimizer& opt, const std::vector<std::uint8_t>& bytes) {
  std::istringstream is(std::string(bytes.begin(), bytes.end()));
  torch::load(opt, is);
}

}  // namespace midge::train
