#include "model/resnet.h"

#include "core/errors.h"

namespace midge::model {
namespace nn = torch::nn;

ResNetSpec resnet_spec(const std::string& arch) {
  if (arch == "resnet18") return {arch, {2, 2, 2, 2}, false};
  if (arch == "resnet34") return {arch, {3, 4, 6, 3}, false};
  if (arch == "resnet50") return {arch, {3, 4, 6, 3}, true};
  if (arch == "resnet101") return {arch, {3, 4, 23, 3}, true};
  throw UsageError("unknown architecture '" + arch +
                   "': expected resnet18|resnet34|resnet50|resnet101");
}

namespace {

nn::Conv2d conv(int in, int out, int k, int stride, int pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// torchvision's BasicBlock (ResNet-18/34) and Bottleneck (ResNet-50/101,
// stride on the 3x3 convolution as in torchvision >= 0.5, "ResNet v1.5").
class BlockImpl : public nn::Module {
 public:
  BlockImpl(int in, int planes, int stride, bool bottleneck) : bottleneck_(bottleneck) {
    const int expansion = bottleneck ? 4 : 1;
    if (bottleneck) {
      conv1_ = register_module("conv1", conv(in, planes, 1, 1, 0));
      bn1_ = register_module("bn1", nn::BatchNorm2d(planes));
      conv2_ = register_module("conv2", conv(planes, planes, 3, stride, 1));
      bn2_ = register_module("bn2", nn::BatchNorm2d(planes));
      conv3_ = register_module("conv3", conv(planes, planes * expansion, 1, 1, 0));
      bn3_ = register_module("bn3", nn::BatchNorm2d(planes * expansion));
    } else {
      conv1_ = register_module("conv1", conv(in, planes, 3, stride, 1));
      bn1_ = register_module("bn1", nn::BatchNorm2d(planes));
      conv2_ = register_module("conv2", conv(planes, planes, 3, 1, 1));
      bn2_ = register_module("bn2", nn::BatchNorm2d(planes));
    }
    if (stride != 1 || in != planes * expansion) {
      downsample_ =
          register_module("downsample", nn::Sequential(conv(in, planes * expansion, 1, stride, 0),
                                                       nn::BatchNorm2d(planes * expansion)));
    }
  }

  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor out = torch::relu(bn1_(conv1_(x)));
    out = bn2_(conv2_(out));
    if (bottleneck_) out = bn3_(conv3_(torch::relu(out)));
    torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
    return torch::relu(out + identity);
  }

 private:
  bool bottleneck_;
  nn::Conv2d conv1_{nullptr};
  nn::Conv2d conv2_{nullptr};
  nn::Conv2d conv3_{nullptr};
  nn::BatchNorm2d bn1_{nullptr};
  nn::BatchNorm2d bn2_{nullptr};
  nn::BatchNorm2d bn3_{nullptr};
  nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Block);

void init_weights(nn::Module& m) {
  // torchvision's initialization: Kaiming normal (fan_out, ReLU) for
  // convolutions, BatchNorm weight 1 and bias 0; Linear keeps PyTorch's default.
  for (auto& sub : m.modules(/*include_self=*/false)) {
    if (auto* c = sub->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = sub->as<nn::BatchNorm2d>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
}

}  // namespace

ResNetImpl::ResNetImpl(const std::string& arch, int num_classes, double dropout)
    : spec_(resnet_spec(arch)), num_classes_(num_classes) {
  if (num_classes < 1) throw UsageError("a model needs at least one taxon");
  conv1_ = register_module("conv1", conv(3, 64, 7, 2, 3));
  bn1_ = register_module("bn1", nn::BatchNorm2d(64));
  int in = 64;
  const int expansion = spec_.bottleneck ? 4 : 1;
  auto make_layer = [&](int planes, int blocks, int stride) {
    nn::Sequential seq;
    for (int i = 0; i < blocks; ++i) {
      seq->push_back(Block(in, planes, i == 0 ? stride : 1, spec_.bottleneck));
      in = planes * expansion;
    }
    return seq;
  };
  layer1_ = register_module("layer1", make_layer(64, spec_.blocks[0], 1));
  layer2_ = register_module("layer2", make_layer(128, spec_.blocks[1], 2));
  layer3_ = register_module("layer3", make_layer(256, spec_.blocks[2], 2));
  layer4_ = register_module("layer4", make_layer(512, spec_.blocks[3], 2));
  dropout_ = register_module("dropout", nn::Dropout(dropout));
  fc_ = register_module("fc", nn::Linear(spec_.feature_dim(), num_classes));
  init_weights(*this);
  // Channels-last (NHWC) weights, to match the channels-last input of
  // features(): oneDNN on CPU and cuDNN on GPU run NHWC convolutions
  // without reordering. Only the layout changes; every reader and writer
  // of weights (model.h5, checkpoints, gradient buckets) copies by logical
  // index, and Module::to() keeps the layout.
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

torch::Tensor ResNetImpl::stem(torch::Tensor x) {
  // Measured on the 2-core AVX512-BF16 CPU, end to end (bench/peers.sh):
  // ResNet-50 trains 7% (fp32, 224 px) to 36% (bf16, 512 px) faster
  // channels-last than NCHW; on GPUs it is what tensor cores want.
  x = x.contiguous(at::MemoryFormat::ChannelsLast);
  return torch::max_pool2d(torch::relu(bn1_(conv1_(x))), 3, 2, 1);
}

torch::Tensor ResNetImpl::features(torch::Tensor x) {
  return layer4_->forward(layer3_->forward(layer2_->forward(layer1_->forward(stem(x)))));
}

torch::Tensor ResNetImpl::head(torch::Tensor feature_map) {
  torch::Tensor pooled = torch::adaptive_avg_pool2d(feature_map, {1, 1}).flatten(1);
  return fc_(dropout_(pooled));
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) { return head(features(x)); }

std::pair<torch::Tensor, torch::Tensor> ResNetImpl::forward_with(const std::string& layer,
                                                                 torch::Tensor x) {
  nn::Sequential layers[] = {layer1_, layer2_, layer3_, layer4_};
  const char* names[] = {"layer1", "layer2", "layer3", "layer4"};
  int t = 0;
  while (t < 4 && layer != names[t]) ++t;
  if (t == 4) {
    throw UsageError("unknown Grad-CAM layer '" + layer +
                     "': expected layer1|layer2|layer3|layer4");
  }
  {
    // Nothing before the target is differentiated: no graph, no saved
    // activations (at 512 px the early layers hold most of them).
    torch::NoGradGuard no_grad;
    x = stem(x);
    for (int i = 0; i <= t; ++i) x = layers[i]->forward(x);
  }
  torch::Tensor target = x.detach().requires_grad_(true);
  x = target;
  for (int i = t + 1; i < 4; ++i) x = layers[i]->forward(x);
  return {target, head(x)};
}

void ResNetImpl::set_backbone_frozen(bool frozen) {
  frozen_ = frozen;
  for (auto& p : backbone_parameters()) p.set_requires_grad(!frozen);
  train(is_training());
}

void ResNetImpl::train(bool on) {
  nn::Module::train(on);
  if (on && frozen_) {
    for (auto& child : named_children()) {
      if (child.key() != "fc" && child.key() != "dropout") child.value()->eval();
    }
  }
}

std::vector<torch::Tensor> ResNetImpl::head_parameters() { return fc_->parameters(); }

std::vector<torch::Tensor> ResNetImpl::backbone_parameters() {
  std::vector<torch::Tensor> out;
  for (auto& p : named_parameters()) {
    if (p.key().rfind("fc.", 0) != 0) out.push_back(p.value());
  }
  return out;
}

std::int64_t parameter_count(torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace midge::model
