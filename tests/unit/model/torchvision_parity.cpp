// Parity with torchvision: midge's logits for the same weights and input
// equal torchvision's within 1e-4. Run by tests/integration/torchvision_parity.sh,
// which exports the models with analysis/export_torchvision.py into
// MIDGE_PARITY_DIR first.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "io/hdf5.h"
#include "model/resnet.h"
#include "model/weights.h"

namespace midge::model {
namespace {

std::string dir() {
  const char* d = std::getenv("MIDGE_PARITY_DIR");
  if (d == nullptr)
    throw std::runtime_error("MIDGE_PARITY_DIR not set (run torchvision_parity.sh)");
  return d;
}

torch::Tensor read_tensor(const io::H5Reader& f, const std::string& name) {
  auto dims = f.shape(name);
  std::vector<std::int64_t> sizes(dims.begin(), dims.end());
  return torch::tensor(f.read_floats(name)).reshape(sizes);
}

void check(const std::string& arch) {
  io::H5Reader check_file(dir() + "/" + arch + "_check.h5");
  torch::Tensor x = read_tensor(check_file, "input");
  torch::Tensor expected = read_tensor(check_file, "logits");
  const int classes = static_cast<int>(expected.size(1));

  ResNet from_script(arch, classes, 0.5);
  import_state(from_script, read_torchscript_state(dir() + "/" + arch + ".pt"),
               ImportPolicy::kExact, arch + ".pt");
  from_script->eval();
  torch::NoGradGuard g;
  const double diff_pt = (from_script->forward(x) - expected).abs().max().item<double>();
  EXPECT_LT(diff_pt, 1e-4) << arch << " from TorchScript";

  ModelMeta meta;
  ResNet from_h5 = load_model(dir() + "/" + arch + ".h5", &meta);
  from_h5->eval();
  const double diff_h5 = (from_h5->forward(x) - expected).abs().max().item<double>();
  EXPECT_LT(diff_h5, 1e-4) << arch << " from model.h5";
  std::printf("%s: max |logit difference| %.3g (TorchScript), %.3g (h5)\n", arch.c_str(), diff_pt,
              diff_h5);
}

TEST(TorchvisionParity, ResNet18) { check("resnet18"); }
TEST(TorchvisionParity, ResNet50) { check("resnet50"); }

}  // namespace
}  // namespace midge::model
