#include "explain/gradcam.h"

#include "core/errors.h"

namespace midge::explain {

GradcamResult gradcam(model::ResNet& net, const torch::Tensor& input, const std::string& layer,
                      const std::vector<std::int64_t>& targets) {
  net->eval();
  torch::AutoGradMode grad_on(true);
  // Gradients are wanted for the target layer's activations only; the
  // graph starts there (model/resnet.h), whatever the parameters require.
  auto [activations, logits] = net->forward_with(layer, input.detach());
  GradcamResult r;
  r.probabilities = torch::softmax(logits.detach(), 1);
  r.predicted = logits.detach().argmax(1);
  torch::Tensor chosen = r.predicted;
  if (!targets.empty()) {
    if (static_cast<std::int64_t>(targets.size()) != input.size(0)) {
      throw std::invalid_argument("gradcam: one target per image expected");
    }
    chosen = torch::tensor(targets, torch::kLong).to(logits.device());
  }
  torch::Tensor score = logits.gather(1, chosen.view({-1, 1})).sum();
  torch::Tensor grads = torch::autograd::grad({score}, {activations})[0];
  torch::Tensor weights = grads.mean({2, 3}, /*keepdim=*/true);  // [B, K, 1, 1]
  torch::Tensor cam = torch::relu((weights * activations.detach()).sum(1, /*keepdim=*/true));
  cam = torch::nn::functional::interpolate(
      cam, torch::nn::functional::InterpolateFuncOptions()
               .size(std::vector<std::int64_t>{input.size(2), input.size(3)})
               .mode(torch::kBilinear)
               .align_corners(false));
  cam = cam.squeeze(1);
  torch::Tensor peak = std::get<0>(cam.flatten(1).max(1)).clamp_min(1e-12).view({-1, 1, 1});
  r.heatmaps = (cam / peak).clamp(0, 1).to(torch::kFloat);
  return r;
}

std::vector<std::size_t> choose_images_to_explain(const std::vector<int>& labels,
                                                  const std::vector<std::int64_t>& predicted,
                                                  int classes, std::size_t n) {
  // Per taxon: misclassified images, then correct ones, in validation order.
  std::vector<std::vector<std::size_t>> queue(static_cast<std::size_t>(classes));
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (predicted[i] < 0) continue;
      const bool wrong = predicted[i] != labels[i];
      if (wrong == (pass == 0)) queue[static_cast<std::size_t>(labels[i])].push_back(i);
    }
  }
  std::vector<std::size_t> chosen;
  for (std::size_t round = 0; chosen.size() < n; ++round) {
    bool any = false;
    for (const auto& q : queue) {
      if (round >= q.size() || chosen.size() == n) continue;
      chosen.push_back(q[round]);
      any = true;
    }
    if (!any) break;
  }
  return chosen;
}

}  // namespace midge::explain
