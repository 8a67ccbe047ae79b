#include "train/optimizer.h"

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>

namespace midge::train {
namespace {

using torch::Tensor;

// The key of a parameter in Optimizer::state_: a string in LibTorch 1.x, the
// TensorImpl pointer in 2.x. Using LibTorch's own keys keeps the state where
// its serialization (state.h5) and a plain torch::optim step expect it.
template <class Map>
typename Map::key_type state_key(const Map& /*state*/, const Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << p.unsafeGetTensorImpl();
    return s.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

// The parameters of a group that have a gradient, and those gradients.
struct WithGrad {
  std::vector<Tensor> params;
  std::vector<Tensor> grads;
};

WithGrad with_grad(torch::optim::OptimizerParamGroup& group) {
  WithGrad w;
  for (auto& p : group.params()) {
    if (!p.grad().defined()) continue;
    w.params.push_back(p);
    w.grads.push_back(p.grad());
  }
  return w;
}

Tensor run_closure(const torch::optim::Optimizer::LossClosure& closure) {
  if (!closure) return {};
  at::AutoGradMode enable_grad(true);
  return closure();
}

// SGD as torch::optim::SGD computes it, one multi-tensor op per stage
// instead of several ops per parameter.
class MultiTensorSGD final : public torch::optim::SGD {
 public:
  using SGD::SGD;

  Tensor step(LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    Tensor loss = run_closure(closure);
    for (auto& group : param_groups_) {
      auto& o = static_cast<torch::optim::SGDOptions&>(group.options());
      WithGrad w = with_grad(group);
      if (w.params.empty()) continue;
      std::vector<Tensor> d =
          o.weight_decay() != 0 ? at::_foreach_add(w.grads, w.params, o.weight_decay()) : w.grads;
      if (o.momentum() != 0) {
        std::vector<Tensor> bufs(d.size());
        std::vector<Tensor> old_bufs;
        std::vector<Tensor> old_d;
        for (std::size_t i = 0; i < d.size(); ++i) {
          const auto key = state_key(state_, w.params[i]);
          auto it = state_.find(key);
          if (it == state_.end()) {
            // First step of this parameter: the buffer starts as d_p.
            bufs[i] = torch::clone(d[i]).detach();
            auto s = std::make_unique<torch::optim::SGDParamState>();
            s->momentum_buffer(bufs[i]);
            state_[key] = std::move(s);
          } else {
            bufs[i] = static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
            old_bufs.push_back(bufs[i]);
            old_d.push_back(d[i]);
          }
        }
        if (!old_bufs.empty()) {
          at::_foreach_mul_(old_bufs, o.momentum());
          at::_foreach_add_(old_bufs, old_d, 1 - o.dampening());
        }
        d = o.nesterov() ? at::_foreach_add(d, bufs, o.momentum()) : bufs;
      }
      at::_foreach_add_(w.params, d, -1 * o.lr());
    }
    return loss;
  }
};

// Adam and AdamW (without amsgrad, which midge never sets) as LibTorch
// computes them. Parameters are grouped by their step count, which sets
// the bias corrections (normally one group: every parameter steps each time).
template <class Base, class Options, class State, bool kDecoupled>
class MultiTensorAdam final : public Base {
 public:
  using Base::Base;

  Tensor step(typename Base::LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    Tensor loss = run_closure(closure);
    for (auto& group : this->param_groups_) {
      auto& o = static_cast<Options&>(group.options());
      if (o.amsgrad()) {
        throw std::logic_error("multi-tensor Adam: amsgrad is not supported");
      }
      WithGrad w = with_grad(group);
      std::map<std::int64_t, WithGrad> by_step;
      std::map<std::int64_t, std::pair<std::vector<Tensor>, std::vector<Tensor>>> moments;
      for (std::size_t i = 0; i < w.params.size(); ++i) {
        const Tensor& p = w.params[i];
        const auto key = state_key(this->state_, p);
        auto it = this->state_.find(key);
        if (it == this->state_.end()) {
          auto s = std::make_unique<State>();
          s->step(0);
          s->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
          s->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
          it = this->state_.emplace(key, std::move(s)).first;
        }
        auto& s = static_cast<State&>(*it->second);
        s.step(s.step() + 1);
        by_step[s.step()].params.push_back(p);
        by_step[s.step()].grads.push_back(w.grads[i]);
        moments[s.step()].first.push_back(s.exp_avg());
        moments[s.step()].second.push_back(s.exp_avg_sq());
      }
      const double beta1 = std::get<0>(o.betas());
      const double beta2 = std::get<1>(o.betas());
      for (auto& [step, part] : by_step) {
        auto& [exp_avg, exp_avg_sq] = moments[step];
        const double bias_correction1 = 1 - std::pow(beta1, step);
        const double bias_correction2 = 1 - std::pow(beta2, step);
        std::vector<Tensor> grad = part.grads;
        if (o.weight_decay() != 0) {
          if (kDecoupled) {
            at::_foreach_mul_(part.params, 1 - o.lr() * o.weight_decay());
          } else {
            grad = at::_foreach_add(part.grads, part.params, o.weight_decay());
          }
        }
        at::_foreach_mul_(exp_avg, beta1);
        at::_foreach_add_(exp_avg, grad, 1 - beta1);
        at::_foreach_mul_(exp_avg_sq, beta2);
        at::_foreach_addcmul_(exp_avg_sq, grad, grad, 1 - beta2);
        std::vector<Tensor> denom = at::_foreach_sqrt(exp_avg_sq);
        at::_foreach_div_(denom, std::sqrt(bias_correction2));
        at::_foreach_add_(denom, o.eps());
        const double step_size = o.lr() / bias_correction1;
        at::_foreach_addcdiv_(part.params, exp_avg, denom, -step_size);
      }
    }
    return loss;
  }
};

using MultiTensorAdamL2 = MultiTensorAdam<torch::optim::Adam, torch::optim::AdamOptions,
                                          torch::optim::AdamParamState, false>;
using MultiTensorAdamW = MultiTensorAdam<torch::optim::AdamW, torch::optim::AdamWOptions,
                                         torch::optim::AdamWParamState, true>;

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const StageConfig& s,
                                                        std::vector<torch::Tensor> params) {
  if (s.optimizer == "sgd") {
    return std::make_unique<MultiTensorSGD>(
        params, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weight_decay));
  }
  if (s.optimizer == "adamw") {
    return std::make_unique<MultiTensorAdamW>(
        params,
        torch::optim::AdamWOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
  }
  return std::make_unique<MultiTensorAdamL2>(
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
