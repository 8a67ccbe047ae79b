#include "train/forward.h"

#include "train/precision.h"

namespace midge::train {

torch::Tensor batch_input(const data::Batch& b, const DeviceChoice& device) {
  const std::int64_t s = b.image_size;
  std::shared_ptr<float> keep = b.images;
  torch::Tensor x = torch::from_blob(
      b.images.get(), {b.size, 3, s, s}, [keep](void*) mutable { keep.reset(); },
      torch::TensorOptions().dtype(torch::kFloat));
  if (device.cuda) {
    // Channels-last is the network's own business (ResNet::features).
    x = x.to(device.device, /*non_blocking=*/true);
  }
  return x;
}

torch::Tensor batch_labels(const data::Batch& b, const DeviceChoice& device) {
  return torch::tensor(b.labels, torch::kLong).to(device.device);
}

torch::Tensor forward_logits(model::ResNet& net, const data::Batch& b, const DeviceChoice& device,
                             const std::string& amp) {
  return forward_logits(net, batch_input(b, device), device, amp);
}

torch::Tensor forward_logits(model::ResNet& net, const torch::Tensor& input,
                             const DeviceChoice& device, const std::string& amp) {
  torch::Tensor logits;
  {
    AutocastScope autocast(amp, device.cuda);
    logits = net->forward(input);
  }
  return logits.to(torch::kFloat);
}

}  // namespace midge::train
