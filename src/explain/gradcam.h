// Grad-CAM (Selvaraju et al. 2017): where in the image the network found
// the evidence for a taxon.
//
// For each image: the gradient of the class score (the predicted taxon by
// default, or a given one such as the true taxon) with respect to the
// activations A of the target layer (default layer4); channel weights
// w_k = spatial mean of dScore/dA_k; heatmap = ReLU(sum_k w_k A_k),
// upsampled bilinearly to the input size and divided by its maximum so it
// lies in [0, 1] (all zeros when nothing supports the class). Batched: one
// forward and one backward pass per batch.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/resnet.h"

namespace midge::explain {

struct GradcamResult {
  torch::Tensor heatmaps;       // [B, H, W] float in [0, 1], H = W = input size
  torch::Tensor predicted;      // [B] int64
  torch::Tensor probabilities;  // [B, C]
};

// `targets` empty: explain the predicted taxon; else one taxon per image.
// The model is put in eval mode; its parameters are not changed.
GradcamResult gradcam(model::ResNet& net, const torch::Tensor& input, const std::string& layer,
                      const std::vector<std::int64_t>& targets = {});

// Share of a heatmap's mass inside the box [x0, x1) x [y0, y1) (heatmap
// pixels); 0 for an all-zero heatmap.
double mass_inside(const torch::Tensor& heatmap, int x0, int y0, int x1, int y1);

}  // namespace midge::explain
