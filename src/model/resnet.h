// ResNet-18/34/50/101 with torchvision's exact module tree, so parameter and
// buffer names match torchvision's state_dict (conv1.weight,
// layer1.0.bn1.running_mean, layer4.2.downsample.0.weight, fc.bias, ...) and
// weights move between the two by name alone.
//
// The head is dropout(model.dropout) on the 2048 (or 512) pooled features,
// then fc: Linear(features -> taxa). Dropout has no parameters, so the names
// stay torchvision's.
//
// Layout: convolution weights and the activations are channels-last (NHWC)
// in memory, the fast layout for oneDNN and cuDNN; shapes, names and saved
// weights stay torchvision's (logical NCHW).
//
// Freezing (stage 1): set_backbone_frozen(true) stops gradients for every
// backbone parameter AND keeps the backbone's BatchNorm layers in eval mode
// even when the model is in training mode, so their running statistics stay
// put; only the head trains.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace midge::model {

struct ResNetSpec {
  std::string arch;         // resnet18|resnet34|resnet50|resnet101
  std::vector<int> blocks;  // per stage
  bool bottleneck = false;
  int feature_dim() const { return bottleneck ? 2048 : 512; }
};

// Throws UsageError for an unknown architecture, listing the known ones.
ResNetSpec resnet_spec(const std::string& arch);

class ResNetImpl : public torch::nn::Module {
 public:
  ResNetImpl(const std::string& arch, int num_classes, double dropout);

  torch::Tensor forward(torch::Tensor x);
  // conv1 .. layer4: the last convolutional feature map (Grad-CAM's target).
  torch::Tensor features(torch::Tensor x);
  // Pooling, dropout and fc on a feature map.
  torch::Tensor head(torch::Tensor feature_map);
  // Activations of one of layer1..layer4 (and the logits), for Grad-CAM.
  // The autograd graph starts at those activations (they require grad;
  // the layers before them run without a graph), so the logits can be
  // differentiated with respect to them at a fraction of a training step's
  // memory. Call with grad mode on.
  std::pair<torch::Tensor, torch::Tensor> forward_with(const std::string& layer, torch::Tensor x);

  void set_backbone_frozen(bool frozen);
  bool backbone_frozen() const { return frozen_; }
  void train(bool on = true) override;

  const std::string& arch() const { return spec_.arch; }
  int num_classes() const { return num_classes_; }
  // Parameters of the head (fc.*) and of everything else.
  std::vector<torch::Tensor> head_parameters();
  std::vector<torch::Tensor> backbone_parameters();

 private:
  // conv1, bn1, relu, max pool, on the input made channels-last: the start
  // of features() and forward_with().
  torch::Tensor stem(torch::Tensor x);
  ResNetSpec spec_;
  int num_classes_;
  bool frozen_ = false;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr};
  torch::nn::Sequential layer2_{nullptr};
  torch::nn::Sequential layer3_{nullptr};
  torch::nn::Sequential layer4_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(ResNet);

// Number of elements over all parameters (not buffers).
std::int64_t parameter_count(torch::nn::Module& module);

}  // namespace midge::model
