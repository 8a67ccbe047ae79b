#include "train/replica.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/errors.h"
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

std::vector<model::NamedTensors> gather_buffers(distributed::Communicator& world,
                                                model::ResNet& net) {
  torch::NoGradGuard no_grad;
  std::vector<std::string> names;
  std::vector<torch::Tensor> floats;
  std::vector<torch::Tensor> longs;
  for (auto& b : net->named_buffers()) {
    names.push_back(b.key());
    (b.value().scalar_type() == torch::kLong ? longs : floats).push_back(b.value());
  }
  std::vector<model::NamedTensors> out;
  // One rank's buffers at a time, from that rank to all (rank 0 keeps them):
  // buffers are float32 and int64, so the copies are exact.
  for (int r = 0; r < world.size(); ++r) {
    torch::Tensor f = pack(floats, torch::kFloat);
    world.broadcast(f.data_ptr<float>(), static_cast<std::size_t>(f.numel()), r);
    torch::Tensor l = pack(longs, torch::kLong);
    world.broadcast(l.data_ptr<std::int64_t>(), static_cast<std::size_t>(l.numel()), r);
    if (world.rank() != 0) continue;
    model::NamedTensors rank;
    std::int64_t fo = 0;
    std::int64_t lo = 0;
    std::size_t i = 0;
    for (auto& b : net->named_buffers()) {
      const torch::Tensor& t = b.value();
      const bool is_long = t.scalar_type() == torch::kLong;
      std::int64_t& offset = is_long ? lo : fo;
      const torch::Tensor& from = is_long ? l : f;
      rank.emplace_back(names[i++], from.narrow(0, offset, t.numel()).view(t.sizes()).clone());
      offset += t.numel();
    }
    out.push_back(std::move(rank));
  }
  return out;
}

void restore_buffers(model::ResNet& net, const model::NamedTensors& buffers,
                     const std::string& origin) {
  torch::NoGradGuard no_grad;
  for (auto& b : net->named_buffers()) {
    const auto it = std::find_if(buffers.begin(), buffers.end(),
                                 [&](const auto& nb) { return nb.first == b.key(); });
    if (it == buffers.end() || it->second.numel() != b.value().numel()) {
      throw TrainError(origin + ": no buffer " + b.key() + " of this model's shape");
    }
    b.value().copy_(it->second.view(b.value().sizes()));
  }
}

}  // namespace midge::train
