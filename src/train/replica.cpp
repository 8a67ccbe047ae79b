#include "train/replica.h"

#include <torch/torch.h>

#include "model/weights.h"

namespace midge::train {
namespace {

// All tensors of `tensors` as one contiguous CPU tensor of `dtype`.
torch::Tensor pack(const std::vector<torch::Tensor>& tensors, torch::ScalarType dtype) {
  std::vector<torch::Tensor> flat;
  flat.reserve(tensors.size());
  for (const auto& t : tensors) flat.push_back(t.detach().to(torch::kCPU, dtype).reshape({-1}));
  return flat.empty() ? torch::empty({0}, dtype) : torch::cat(flat).contiguous();
}

// The inverse of pack: copies consecutive slices back into `tensors`.
void unpack(const torch::Tensor& packed, const std::vector<torch::Tensor>& tensors) {
  std::int64_t offset = 0;
  for (const auto& t : tensors) {
    const std::int64_t n = t.numel();
    t.detach().copy_(packed.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

}  // namespace

void broadcast_state(distributed::Communicator& world, model::ResNet& net) {
  if (world.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> floats;
  std::vector<torch::Tensor> longs;
  for (auto& [name, t] : model::named_state(net)) {
    (t.scalar_type() == torch::kLong ? longs : floats).push_back(t);
  }
  torch::Tensor f = pack(floats, torch::kFloat);
  world.broadcast(f.data_ptr<float>(), static_cast<std::size_t>(f.numel()), 0);
  unpack(f, floats);
  torch::Tensor l = pack(longs, torch::kLong);
  world.broadcast(l.data_ptr<std::int64_t>(), static_cast<std::size_t>(l.numel()), 0);
  unpack(l, longs);
}

void average_batchnorm(distributed::Communicator& world, model::ResNet& net) {
  if (world.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> stats;
  for (auto& b : net->named_buffers()) {
    if (b.value().scalar_type() != torch::kLong) stats.push_back(b.value());
  }
  torch::Tensor s = pack(stats, torch::kFloat);
  world.allreduce(s.data_ptr<float>(), static_cast<std::size_t>(s.numel()));
  s.div_(static_cast<double>(world.size()));
  unpack(s, stats);
}

}  // namespace midge::train
