#include "explain/gradcam.h"

#include "core/errors.h"

namespace midge::explain {

GradcamResult gradcam(model::ResNet& net, const torch::Tensor& input, const std::string& layer,
                      const std::vector<std::int64_t>& targets) {
  net->eval();
  torch::AutoGradMode grad_on(true);
  // Gradients are wanted for the activations only; requiring them on the
  // input makes the graph exist even for a frozen or loaded model.
  torch::Tensor x = input.detach().requires_grad_(true);
  auto [activations, logits] = net->forward_with(layer, x);
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

double mass_inside(const torch::Tensor& heatmap, int x0, int y0, int x1, int y1) {
  const double total = heatmap.sum().item<double>();
  if (total <= 0) return 0;
  const auto h = static_cast<int>(heatmap.size(0));
  const auto w = static_cast<int>(heatmap.size(1));
  x0 = std::clamp(x0, 0, w);
  x1 = std::clamp(x1, 0, w);
  y0 = std::clamp(y0, 0, h);
  y1 = std::clamp(y1, 0, h);
  if (x1 <= x0 || y1 <= y0) return 0;
  return heatmap.slice(0, y0, y1).slice(1, x0, x1).sum().item<double>() / total;
}

}  // namespace midge::explain
