// TorchScript reading lives in its own translation unit: <torch/script.h>
// is the heaviest header midge includes.
#include <torch/script.h>

#include "core/errors.h"
#include "model/weights.h"

namespace midge::model {

NamedTensors read_torchscript_state(const std::string& path) {
  torch::jit::Module m;
  try {
    m = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    throw DataError("cannot read TorchScript archive " + path + ": " + e.what_without_backtrace());
  }
  NamedTensors out;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out.emplace_back(p.name, p.value);
  for (const auto& b : m.named_buffers(/*recurse=*/true)) out.emplace_back(b.name, b.value);
  return out;
}

}  // namespace midge::model
