#include "train/optimizer.h"

#include <torch/version.h>

#include <cmath>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace midge::train {
namespace {

using torch::Tensor;

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

std::vector<double> learning_rates(std::vector<torch::optim::OptimizerParamGroup>& groups) {
  std::vector<double> lrs;
  for (auto& g : groups) lrs.push_back(g.options().get_lr());
  return lrs;
}

// Every tensor of `list` times / divided by a 0-dim tensor on the same
// device (a graph-safe scalar: read on the device, not baked into the
// kernel). LibTorch 2.4+ has one multi-tensor op for it; before, one op per
// tensor (same numbers).
void multiply_each(std::vector<Tensor>& list, const Tensor& scalar) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::_foreach_mul_(list, scalar);
#else
  for (auto& t : list) t.mul_(scalar);
#endif
}

void divide_each(std::vector<Tensor>& list, const Tensor& scalar) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::_foreach_div_(list, scalar);
#else
  for (auto& t : list) t.div_(scalar);
#endif
}

// SGD as torch::optim::SGD computes it, one multi-tensor op per stage
// instead of several ops per parameter.
class MultiTensorSGD final : public torch::optim::SGD, public GraphStep {
 public:
  using SGD::SGD;

  // The captured step is the ordinary one; only the first step of a
  // parameter (its momentum buffer starts as a copy of the gradient, a
  // host decision) must have happened outside the graph.
  std::string begin_capture() override {
    for (auto& group : param_groups_) {
      auto& o = static_cast<torch::optim::SGDOptions&>(group.options());
      if (o.momentum() == 0) continue;
      for (auto& p : group.params()) {
        if (p.requires_grad() && state_.find(state_key(state_, p)) == state_.end()) {
          return "SGD has no momentum buffer for a parameter yet (no step taken outside the "
                 "graph)";
        }
      }
    }
    captured_lr_ = learning_rates(param_groups_);
    capturing_ = true;
    return "";
  }
  void end_capture() override { capturing_ = false; }
  bool before_replay() override { return learning_rates(param_groups_) == captured_lr_; }

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
            if (capturing_) throw std::logic_error("multi-tensor SGD: first step in a capture");
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

 private:
  bool capturing_ = false;
  std::vector<double> captured_lr_;
};

// Adam and AdamW (without amsgrad, which midge never sets) as LibTorch
// computes them. Parameters are grouped by their step count, which sets
// the bias corrections (normally one group: every parameter steps each time).
template <class Base, class Options, class State, bool kDecoupled>
class MultiTensorAdam final : public Base, public GraphStep {
 public:
  using Base::Base;

  std::string begin_capture() override {
    device_steps_.assign(this->param_groups_.size(), DeviceStep{});
    for (std::size_t g = 0; g < this->param_groups_.size(); ++g) {
      std::optional<std::int64_t> common;
      torch::Device device(torch::kCPU);
      for (auto& p : this->param_groups_[g].params()) {
        if (!p.requires_grad()) continue;
        auto it = this->state_.find(state_key(this->state_, p));
        if (it == this->state_.end()) {
          return "Adam has no moments for a parameter yet (no step taken outside the graph)";
        }
        const std::int64_t t = static_cast<State&>(*it->second).step();
        if (common && *common != t) {
          return "parameters of one group are at different Adam step counts (" +
                 std::to_string(*common) + " and " + std::to_string(t) + ")";
        }
        common = t;
        device = p.device();
      }
      if (!common) continue;
      device_steps_[g].count = torch::full({}, static_cast<double>(*common),
                                           torch::dtype(torch::kDouble).device(device));
      device_steps_[g].value = *common;
    }
    captured_lr_ = learning_rates(this->param_groups_);
    capturing_ = true;
    return "";
  }

  void end_capture() override { capturing_ = false; }

  bool before_replay() override {
    if (learning_rates(this->param_groups_) != captured_lr_) return false;
    // Every group checked before any is advanced: a refusal leaves the
    // counts as they were for the new capture.
    for (auto& d : device_steps_) {
      for (State* s : d.states) {
        if (s->step() != d.states.front()->step()) return false;
      }
    }
    for (auto& d : device_steps_) {
      if (d.states.empty()) continue;
      const std::int64_t t = d.states.front()->step();
      // Steps taken outside the graph since its last run.
      if (t != d.value) d.count.fill_(static_cast<double>(t));
      for (State* s : d.states) s->step(t + 1);
      d.value = t + 1;  // what the replay's own increment makes of the count
    }
    return true;
  }

  Tensor step(typename Base::LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    Tensor loss = run_closure(closure);
    if (capturing_) {
      captured_step();
      return loss;
    }
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
        decay_and_update_moments(o, part.params, part.grads, exp_avg, exp_avg_sq);
        std::vector<Tensor> denom = at::_foreach_sqrt(exp_avg_sq);
        at::_foreach_div_(denom, std::sqrt(bias_correction2));
        at::_foreach_add_(denom, o.eps());
        const double step_size = o.lr() / bias_correction1;
        at::_foreach_addcdiv_(part.params, exp_avg, denom, -step_size);
      }
    }
    return loss;
  }

 private:
  // A parameter group's step count in device memory, what the host knows
  // it holds, and the states of the parameters the captured step updates.
  struct DeviceStep {
    Tensor count;  // 0-dim double
    std::int64_t value = 0;
    std::vector<State*> states;
  };

  // Weight decay (L2 into the gradient, or AdamW's decoupled shrinking of
  // the parameters) and the moments' update, shared by both steps.
  static void decay_and_update_moments(const Options& o, std::vector<Tensor>& params,
                                       const std::vector<Tensor>& grads,
                                       std::vector<Tensor>& exp_avg,
                                       std::vector<Tensor>& exp_avg_sq) {
    const double beta1 = std::get<0>(o.betas());
    const double beta2 = std::get<1>(o.betas());
    std::vector<Tensor> grad = grads;
    if (o.weight_decay() != 0) {
      if (kDecoupled) {
        at::_foreach_mul_(params, 1 - o.lr() * o.weight_decay());
      } else {
        grad = at::_foreach_add(grads, params, o.weight_decay());
      }
    }
    at::_foreach_mul_(exp_avg, beta1);
    at::_foreach_add_(exp_avg, grad, 1 - beta1);
    at::_foreach_mul_(exp_avg_sq, beta2);
    at::_foreach_addcmul_(exp_avg_sq, grad, grad, 1 - beta2);
  }

  // step() while captured: the same update, with t, the bias corrections
  // and the step size computed on the device from the group's count.
  void captured_step() {
    for (std::size_t g = 0; g < this->param_groups_.size(); ++g) {
      auto& group = this->param_groups_[g];
      auto& o = static_cast<Options&>(group.options());
      if (o.amsgrad()) {
        throw std::logic_error("multi-tensor Adam: amsgrad is not supported");
      }
      WithGrad w = with_grad(group);
      if (w.params.empty()) continue;
      DeviceStep& d = device_steps_.at(g);
      if (!d.count.defined()) throw std::logic_error("multi-tensor Adam: capture not begun");
      d.states.clear();
      std::vector<Tensor> exp_avg;
      std::vector<Tensor> exp_avg_sq;
      for (const Tensor& p : w.params) {
        auto it = this->state_.find(state_key(this->state_, p));
        if (it == this->state_.end() || static_cast<State&>(*it->second).step() != d.value) {
          throw std::logic_error("multi-tensor Adam: a parameter's state changed before capture");
        }
        auto& s = static_cast<State&>(*it->second);
        s.step(s.step() + 1);
        d.states.push_back(&s);
        exp_avg.push_back(s.exp_avg());
        exp_avg_sq.push_back(s.exp_avg_sq());
      }
      d.count.add_(1);
      d.value += 1;
      const double beta1 = std::get<0>(o.betas());
      const double beta2 = std::get<1>(o.betas());
      const auto type = w.params.front().scalar_type();
      const Tensor step_size = (o.lr() / (1 - torch::pow(beta1, d.count))).to(type);
      const Tensor bias_correction2_sqrt = (1 - torch::pow(beta2, d.count)).sqrt().to(type);
      decay_and_update_moments(o, w.params, w.grads, exp_avg, exp_avg_sq);
      std::vector<Tensor> denom = at::_foreach_sqrt(exp_avg_sq);
      divide_each(denom, bias_correction2_sqrt);
      at::_foreach_add_(denom, o.eps());
      std::vector<Tensor> update = at::_foreach_div(exp_avg, denom);
      multiply_each(update, step_size);
      at::_foreach_sub_(w.params, update);
    }
  }

  bool capturing_ = false;
  std::vector<double> captured_lr_;
  std::vector<DeviceStep> device_steps_;
};

using MultiTensorAdamL2 = MultiTensorAdam<torch::optim::Adam, torch::optim::AdamOptions,
                                          torch::optim::AdamParamState, false>;
using MultiTensorAdamW = MultiTensorAdam<torch::optim::AdamW, torch::optim::AdamWOptions,
                                         torch::optim::AdamWParamState, true>;

}  // namespace

GraphStep* graph_step(torch::optim::Optimizer& optimizer) {
  return dynamic_cast<GraphStep*>(&optimizer);
}

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
