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

// Which of the validation images to explain when at most `n` heatmaps are
// kept (gradcam.max_images): the taxa take turns (round robin in taxon
// order), and within a taxon its misclassified images come first, then the
// correct ones, each in validation order. So a small budget still shows
// every taxon, and the mistakes first. Images without a prediction
// (predicted = -1: unreadable) are never chosen. Returns indices into
// labels/predicted in the order chosen.
std::vector<std::size_t> choose_images_to_explain(const std::vector<int>& labels,
                                                  const std::vector<std::int64_t>& predicted,
                                                  int classes, std::size_t n);

}  // namespace midge::explain
