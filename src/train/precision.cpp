#include "train/precision.h"

#include <ATen/autocast_mode.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdint>

namespace midge::train {

namespace {

// XCR0, the state the operating system saves on context switches.
std::uint64_t saved_cpu_state() {
  std::uint32_t eax = 0;
  std::uint32_t ebx = 0;
  std::uint32_t ecx = 0;
  std::uint32_t edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0 || (ecx & (1U << 27)) == 0) return 0;  // OSXSAVE
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

}  // namespace

bool cpu_has_native_bf16(std::string* what) {
#if defined(__x86_64__)
  std::uint32_t eax = 0;
  std::uint32_t ebx = 0;
  std::uint32_t ecx = 0;
  std::uint32_t edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) {
    *what = "no CPUID leaf 7";
    return false;
  }
  const bool amx_bf16 = (edx & (1U << 22)) != 0;
  std::uint32_t eax1 = 0;
  std::uint32_t ebx1 = 0;
  std::uint32_t ecx1 = 0;
  std::uint32_t edx1 = 0;
  const bool avx512_bf16 = eax >= 1 && __get_cpuid_count(7, 1, &eax1, &ebx1, &ecx1, &edx1) != 0 &&
                           (eax1 & (1U << 5)) != 0;
  const std::uint64_t xcr0 = saved_cpu_state();
  // SSE, AVX, opmask, ZMM upper halves and ZMM16-31; AMX: TILECFG, TILEDATA.
  const bool avx512_saved = (xcr0 & 0xe6) == 0xe6;
  const bool amx_saved = (xcr0 & (3ULL << 17)) == (3ULL << 17);
  if (amx_bf16 && amx_saved) {
    *what = "AMX-BF16";
    return true;
  }
  if (avx512_bf16 && avx512_saved) {
    *what = "AVX512_BF16";
    return true;
  }
  *what = "no AVX512_BF16 or AMX-BF16";
  return false;
#else
  *what = "not an x86-64 CPU";
  return false;
#endif
}

bool gpu_has_native_bf16(int device, std::string* what) {
  // cudaDeviceGetAttribute from the CUDA runtime LibTorch loaded (no CUDA
  // headers needed, so CPU builds compile this too).
  using GetAttribute = int (*)(int*, int, int);
  void* f = ::dlsym(RTLD_DEFAULT, "cudaDeviceGetAttribute");
  if (f == nullptr) {
    *what = "the CUDA runtime's cudaDeviceGetAttribute was not found";
    return false;
  }
  constexpr int kComputeCapabilityMajor = 75;  // cudaDevAttrComputeCapabilityMajor
  constexpr int kComputeCapabilityMinor = 76;
  int major = 0;
  int minor = 0;
  const auto get = reinterpret_cast<GetAttribute>(f);
  if (get(&major, kComputeCapabilityMajor, device) != 0 ||
      get(&minor, kComputeCapabilityMinor, device) != 0) {
    *what = "the GPU's compute capability could not be read";
    return false;
  }
  *what = "compute capability " + std::to_string(major) + "." + std::to_string(minor);
  return major >= 8;
}

// LibTorch 2.4 replaced the per-device autocast functions by ones taking a
// device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define MIDGE_AUTOCAST_V2 1
#endif

AutocastScope::AutocastScope(const std::string& amp, bool cuda) {
  if (amp == "off") return;
  const at::ScalarType dtype = amp == "fp16" ? at::kHalf : at::kBFloat16;
  active_ = true;
  cuda_ = cuda;
#ifdef MIDGE_AUTOCAST_V2
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, true);
#else
  if (cuda_) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(true);
  }
#endif
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
#ifdef MIDGE_AUTOCAST_V2
  at::autocast::set_autocast_enabled(cuda_ ? at::kCUDA : at::kCPU, false);
#else
  if (cuda_) {
    at::autocast::set_enabled(false);
  } else {
    at::autocast::set_cpu_enabled(false);
  }
#endif
  at::autocast::clear_cache();
}

bool LossScaler::unscale(const std::vector<torch::Tensor>& params) {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return true;
  const auto device = grads.front().device();
  // One host synchronization per step, not one per parameter: on a GPU a
  // per-tensor .item() stalls the queue ~160 times per ResNet-50 step
  // (measured 0.74x of PyTorch's fp16 step before this; bench/RESULTS.md).
  if (device.is_cuda()) {
    torch::Tensor found_inf = torch::zeros({1}, torch::TensorOptions().device(device));
    torch::Tensor inv_scale = torch::full({1}, 1.0 / scale_, torch::TensorOptions().device(device));
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
    return found_inf.item<float>() == 0.0F;
  }
  std::vector<torch::Tensor> finite;
  for (auto& g : grads) {
    g.mul_(1.0 / scale_);
    finite.push_back(torch::isfinite(g).all());
  }
  return torch::stack(finite).all().item<bool>();
}

void LossScaler::update(bool finite) {
  if (!enabled_) return;
  if (!finite) {
    scale_ = std::max(1.0, scale_ / 2);
    clean_steps_ = 0;
  } else if (++clean_steps_ >= 2000) {
    scale_ *= 2;
    clean_steps_ = 0;
  }
}

}  // namespace midge::train
