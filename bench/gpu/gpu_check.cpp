// GPU check (run on a lent CUDA machine by bench/gpu/run.sh): the parts of
// data-parallel training that only a GPU exercises, without MPI, HDF5,
// OpenCV or Boost (the GPU image has none of them).
//
//  1. GradientSync's pinned-host staging on CUDA: each bucket is copied
//     device -> pinned host asynchronously, the reducing thread waits on a
//     CUDA event, the result is copied back. The communicator here stands in
//     for two ranks holding identical gradients (allreduce doubles the data
//     in place; size() = 2), so averaged gradients must equal the local ones
//     bitwise; a missed wait would reduce stale host data and fail. Every
//     step uses a new batch, so stale data differs.
//  2. Step throughput of ResNet-18/50 (bf16, fp16 with loss scaling, fp32;
//     channels-last input as `midge train`) with and without gradient sync,
//     i.e. the cost of staging with overlap on and off.
//  3. Pinned host <-> device copy bandwidth (input of the scaling model).
//  4. The NCCL backend (dist.backend = nccl) over a world of one rank:
//     NCCL initialises on this GPU, GradientSync reduces every bucket with
//     ncclAllReduce on its side stream (from hooks with overlap on), and the
//     averaged gradients equal the local ones bitwise, as the MPI path's
//     do (check 1). One rank cannot show that ranks' gradients are summed
//     (NCCL refuses two ranks on one GPU); it shows the plumbing: init,
//     hooks, scaling. The stream ordering is checked with a stand-in
//     NcclComm whose "reduction" sleeps on the side stream and then doubles
//     the bucket: the gradients must come out doubled, so finish() waited
//     for the side stream. Also the step with NCCL sync on.
//  5. midge's multi-tensor SGD/Adam/AdamW (train/optimizer.h) against
//     LibTorch's per-parameter optimizers on CUDA: five steps from the same
//     gradients agree to float rounding (on the CPU they are bitwise equal,
//     tests/unit/train/test_optimizer.cpp; CUDA's fused kernels may round
//     differently).
//  6. A profile of midge's step (ResNet-50, 512 px, batch 32, bf16, as
//     bench/peers/torch_step.py --profile profiles PyTorch's): GPU time of
//     forward, backward and optimizer from CUDA events around each phase,
//     then LibTorch's Kineto profiler: summed kernel time, kernels per step,
//     longest kernels (cuDNN's algorithm choices show in their names).
//     The same for the step captured as a CUDA graph (run.cuda_graph):
//     step span, kernel time, and the idle time between them.
//  7. run.cuda_graph (train/step_graph.h): a ResNet-18 with dropout trained
//     12 steps twice from the same weights and batches, once ordinarily and
//     once through StepGraph (3 warm-up steps on the side stream, capture,
//     replays; a partial batch run outside the graph in the middle; a new
//     learning rate at step 9, so a second capture), with SGD and with
//     Adam, each step started from the plain side's state: the parameters
//     after every step and the BatchNorm statistics must agree to rounding,
//     the losses too, and the graph must have been captured twice and
//     replayed.
//
// usage: midge_gpu_check [steps] [mode]   (mode: an amp (bf16, fp16, off)
// runs only the step measurements of that run.amp; "checks" the checks
// alone; "graph" the CUDA graph checks, profiles and step table (#16);
// "graph-checks" the CUDA graph checks alone)
//
// Prints "CHECK <name> PASS|FAIL ..." lines and one JSON line per
// measurement; exit code 1 if a check failed.
#include <torch/torch.h>
#include <torch/version.h>
// Kineto's C++ interface, timed CUDA events and ATen's CUDA sleep as used
// here are LibTorch 2.x's; with 1.x (Debian's CPU build, where this only has
// to compile) the profile and the stream-order check are left out.
#if TORCH_VERSION_MAJOR >= 2
#include <ATen/cuda/Sleep.h>
#include <c10/core/StreamGuard.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#define MIDGE_LIBTORCH2 1
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>

#include "../step_bench.h"
#include "distributed/nccl_comm.h"
#include "model/resnet.h"
#include "train/gradient_sync.h"
#include "train/optimizer.h"
#include "train/precision.h"
#include "train/step_graph.h"
#include "train/update.h"

namespace {

using midge::distributed::Communicator;

// Two ranks with identical data: the sum is twice the data.
class IdenticalPairComm final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  std::string backend() const override { return "identical-pair"; }
  bool background_thread_ok() const override { return true; }
  bool accepts_device_memory() const override { return false; }
  void barrier() override {}
  bool reduce_span_within(std::int64_t* data, std::size_t count, midge::distributed::ReduceOp op,
                          double) override {
    if (op == midge::distributed::ReduceOp::kSum)
      for (std::size_t i = 0; i < count; ++i) data[i] *= 2;
    return true;
  }
  std::unique_ptr<Communicator> split(int, int) override { return nullptr; }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }

 protected:
  void allreduce_raw(void* data, std::size_t count, midge::distributed::DataType,
                     midge::distributed::ReduceOp) override {
    auto* f = static_cast<float*>(data);
    for (std::size_t i = 0; i < count; ++i) f[i] *= 2.0F;
  }
  void broadcast_raw(void*, std::size_t, midge::distributed::DataType, int) override {}
};

int failures = 0;

void check(const std::string& name, bool ok, const std::string& detail) {
  std::printf("CHECK %s %s %s\n", name.c_str(), ok ? "PASS" : "FAIL", detail.c_str());
  std::fflush(stdout);
  if (!ok) ++failures;
}

// `steps` training steps of a small ResNet-18 through `sync`; returns the
// largest |averaged gradient - factor * local gradient|. *all_early: every
// bucket of every step was launched from a hook during backward.
double sync_error(midge::model::ResNet& net, std::vector<torch::Tensor>& params,
                  midge::train::GradientSync& sync, double factor, int steps, bool* all_early) {
  const torch::Device cuda(torch::kCUDA, 0);
  double worst = 0;
  *all_early = true;
  for (int step = 0; step < steps; ++step) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    torch::Tensor x = torch::randn({8, 3, 96, 96}, cuda).contiguous(at::MemoryFormat::ChannelsLast);
    torch::Tensor y =
        torch::randint(0, 7, {8}, torch::TensorOptions().device(cuda).dtype(torch::kLong));
    torch::nn::functional::cross_entropy(net->forward(x), y).backward();
    std::vector<torch::Tensor> local;
    for (auto& p : params) local.push_back(p.grad().clone());
    sync.finish();
    for (std::size_t k = 0; k < params.size(); ++k) {
      worst = std::max(worst, (params[k].grad() - factor * local[k]).abs().max().item<double>());
    }
    if (sync.launched_during_backward() != sync.bucket_count()) *all_early = false;
  }
  sync.settle();
  return worst;
}

midge::model::ResNet small_net(std::uint64_t seed) {
  torch::manual_seed(seed);
  midge::model::ResNet net("resnet18", 7, 0.0);
  net->to(torch::Device(torch::kCUDA, 0));
  net->train();
  return net;
}

// nccl: reduce through it over a world of one (else the pinned-host path
// through IdenticalPairComm).
void staging_check(double bucket_mb, bool overlap, midge::distributed::NcclComm* nccl = nullptr) {
  midge::model::ResNet net = small_net(3);
  IdenticalPairComm pair;
  midge::distributed::SelfComm self;
  auto params = net->parameters();
  midge::train::GradientSync sync(nccl != nullptr ? static_cast<Communicator&>(self) : pair, params,
                                  {bucket_mb, overlap, nccl});
  bool all_early = true;
  const double worst = sync_error(net, params, sync, 1.0, 4, &all_early);
  char detail[256];
  std::snprintf(detail, sizeof(detail),
                "bucket_mb=%g overlap=%d buckets=%zu staging=%s max|avg-local|=%g", bucket_mb,
                overlap ? 1 : 0, sync.bucket_count(), sync.staging(), worst);
  if (nccl != nullptr) {
    check("nccl_sync_exact", worst == 0.0 && std::string(sync.staging()) == "device, NCCL", detail);
  } else {
    check("pinned_staging_exact", worst == 0.0 && std::string(sync.staging()) == "pinned host",
          detail);
  }
  if (overlap) check("buckets_launched_from_hooks", all_early, detail);
}

#ifdef MIDGE_LIBTORCH2
// A world of one whose reduction is slow and visible: on the given stream,
// ~50 ms of spinning, then the bucket doubled. A finish() that did not make
// the compute stream wait would scale undoubled (or half-doubled) data.
class SlowDoublingNccl final : public midge::distributed::NcclComm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string version() const override { return "stand-in"; }
  void allreduce_sum(float* data, std::size_t count, const c10::Stream& stream) override {
    c10::StreamGuard on(stream);
    at::cuda::sleep(100'000'000);
    torch::from_blob(data, {static_cast<std::int64_t>(count)},
                     torch::TensorOptions().device(torch::kCUDA, 0))
        .mul_(2.0F);
  }
  void check() override {}
  void abort() override {}
};

void stream_order_check(double bucket_mb, bool overlap) {
  midge::model::ResNet net = small_net(4);
  midge::distributed::SelfComm self;
  SlowDoublingNccl slow;
  auto params = net->parameters();
  midge::train::GradientSync sync(self, params, {bucket_mb, overlap, &slow});
  bool all_early = true;
  const double worst = sync_error(net, params, sync, 2.0, 3, &all_early);
  char detail[160];
  std::snprintf(detail, sizeof(detail), "bucket_mb=%g overlap=%d buckets=%zu max|grad-2*local|=%g",
                bucket_mb, overlap ? 1 : 0, sync.bucket_count(), worst);
  check("nccl_stream_order", worst == 0.0, detail);
}
#else
void stream_order_check(double, bool) {
  std::printf("CHECK nccl_stream_order SKIP (needs LibTorch 2.x)\n");
}
#endif

void optimizer_check() {
  const torch::Device cuda(torch::kCUDA, 0);
  for (const char* name : {"sgd", "adam", "adamw"}) {
    midge::StageConfig s;
    s.optimizer = name;
    s.lr = 0.01;
    s.momentum = 0.9;
    s.weight_decay = 1e-3;
    torch::manual_seed(5);
    std::vector<torch::Tensor> ours;
    std::vector<torch::Tensor> theirs;
    for (auto shape : {std::vector<std::int64_t>{64, 32, 3, 3}, {64}, {10, 64}, {10}}) {
      torch::Tensor p = torch::randn(shape, cuda);
      ours.push_back(p.clone().set_requires_grad(true));
      theirs.push_back(p.clone().set_requires_grad(true));
    }
    auto opt = midge::train::make_optimizer(s, ours);
    std::unique_ptr<torch::optim::Optimizer> ref;
    if (s.optimizer == "sgd") {
      ref = std::make_unique<torch::optim::SGD>(
          theirs, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weight_decay));
    } else if (s.optimizer == "adam") {
      ref = std::make_unique<torch::optim::Adam>(
          theirs,
          torch::optim::AdamOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
    } else {
      ref = std::make_unique<torch::optim::AdamW>(
          theirs,
          torch::optim::AdamWOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
    }
    for (int step = 0; step < 5; ++step) {
      for (std::size_t i = 0; i < ours.size(); ++i) {
        torch::Tensor g = torch::randn(ours[i].sizes(), cuda);
        ours[i].mutable_grad() = g.clone();
        theirs[i].mutable_grad() = g.clone();
      }
      opt->step();
      ref->step();
    }
    double worst = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) {
      const double diff = (ours[i] - theirs[i]).abs().max().item<double>();
      const double scale = theirs[i].abs().max().item<double>();
      worst = std::max(worst, diff / scale);
    }
    check(std::string("multi_tensor_") + name, worst < 1e-5,
          "max relative difference to torch::optim after 5 steps " + std::to_string(worst));
  }
}

// Check 7: the captured step against the ordinary one.
void cuda_graph_check(const std::string& optimizer) {
  const torch::Device cuda(torch::kCUDA, 0);
  // Deterministic kernels, so that "to rounding" means the optimizer's own
  // rounding (Adam) and not an algorithm choice.
  const bool benchmark = at::globalContext().benchmarkCuDNN();
  at::globalContext().setBenchmarkCuDNN(false);
  at::globalContext().setDeterministicCuDNN(true);
  midge::StageConfig s;
  s.optimizer = optimizer;
  s.lr = optimizer == "sgd" ? 0.05 : 1e-3;
  s.momentum = 0.9;
  s.weight_decay = 1e-4;
  struct Side {
    midge::model::ResNet net{nullptr};
    std::vector<torch::Tensor> params;
    std::unique_ptr<torch::optim::Optimizer> opt;
  };
  auto make_side = [&] {
    Side side;
    torch::manual_seed(21);
    side.net = midge::model::ResNet("resnet18", 5, 0.5);
    side.net->to(cuda);
    side.net->train();
    side.params = side.net->parameters();
    side.opt = midge::train::make_optimizer(s, side.params);
    return side;
  };
  Side plain = make_side();
  Side captured = make_side();
  // amp "off": fp32, so that the comparison is of the graph, not of bf16.
  auto step_of = [](Side& side) {
    return midge::bench::captured_step(side.net, *side.opt, side.params, "off");
  };
  auto plain_step = step_of(plain);
  midge::train::StepGraph graph(*captured.opt, step_of(captured), 3);
  // Each step starts the captured side from the plain side's state, copied
  // in place (the graph keeps its addresses): parameters, BatchNorm
  // statistics, momentum buffers and Adam's moments. Compared along a whole
  // run instead, Adam turns one rounding into percents within a few steps
  // (its update is about lr * sign(gradient) wherever a gradient is
  // rounding noise): on the CPU, the captured math run uncaptured differed
  // by 1.2e-7 after its first step and by 8% after 8 more (2026-12-04).
  auto start_from_plain = [&] {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < plain.params.size(); ++i) {
      captured.params[i].copy_(plain.params[i]);
    }
    const auto from = plain.net->buffers();
    auto to = captured.net->buffers();
    for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
    for (std::size_t i = 0; i < plain.params.size(); ++i) {
      auto a =
          plain.opt->state().find(midge::train::state_key(plain.opt->state(), plain.params[i]));
      auto b = captured.opt->state().find(
          midge::train::state_key(captured.opt->state(), captured.params[i]));
      if (a == plain.opt->state().end() || b == captured.opt->state().end()) continue;
      if (optimizer == "adam") {
        auto& sa = static_cast<torch::optim::AdamParamState&>(*a->second);
        auto& sb = static_cast<torch::optim::AdamParamState&>(*b->second);
        sb.exp_avg().copy_(sa.exp_avg());
        sb.exp_avg_sq().copy_(sa.exp_avg_sq());
      } else {
        auto& sa = static_cast<torch::optim::SGDParamState&>(*a->second);
        auto& sb = static_cast<torch::optim::SGDParamState&>(*b->second);
        if (sa.momentum_buffer().defined()) sb.momentum_buffer().copy_(sa.momentum_buffer());
      }
    }
  };
  double worst_loss = 0;
  double worst = 0;  // after each step, relative to the parameter's largest magnitude
  std::int64_t correct_plain = 0;
  std::int64_t correct_graph = 0;
  for (int step = 0; step < 12; ++step) {
    start_from_plain();
    if (step == 9) {
      midge::train::set_lr(*plain.opt, s.lr / 3);
      midge::train::set_lr(*captured.opt, s.lr / 3);
    }
    const std::int64_t batch = step == 6 ? 5 : 8;  // step 6: a partial batch
    torch::manual_seed(300 + step);
    torch::Tensor x = torch::randn({batch, 3, 64, 64}, cuda);
    torch::Tensor y =
        torch::randint(0, 5, {batch}, torch::TensorOptions().device(cuda).dtype(torch::kLong));
    torch::manual_seed(900 + step);  // dropout, as midge train reseeds each step
    const auto a = plain_step(x, y);
    const double loss_plain = a.loss.item<double>();
    correct_plain += a.correct.item<std::int64_t>();
    torch::manual_seed(900 + step);
    const auto b = batch == 8 ? graph.run(x, y) : step_of(captured)(x, y);
    const double loss_graph = b.loss.item<double>();
    correct_graph += b.correct.item<std::int64_t>();
    worst_loss = std::max(worst_loss, std::abs(loss_plain - loss_graph) / std::abs(loss_plain));
    for (std::size_t i = 0; i < plain.params.size(); ++i) {
      const double diff = (plain.params[i] - captured.params[i]).abs().max().item<double>();
      worst = std::max(worst, diff / (plain.params[i].abs().max().item<double>() + 1e-12));
    }
  }
  const auto buffers_a = plain.net->buffers();
  const auto buffers_b = captured.net->buffers();
  double worst_buffer = 0;
  for (std::size_t i = 0; i < buffers_a.size(); ++i) {
    const torch::Tensor d = (buffers_a[i].to(torch::kDouble) - buffers_b[i].to(torch::kDouble));
    worst_buffer = std::max(worst_buffer, d.abs().max().item<double>() /
                                              (buffers_a[i].abs().max().item<double>() + 1e-12));
  }
  const auto n = graph.counts();
  const bool counts_ok = n.warmup == 3 && n.captures == 2 && n.replays == 6;
  const bool ok = worst < 1e-4 && worst_buffer < 1e-4 && worst_loss < 1e-4 && counts_ok &&
                  correct_plain == correct_graph;
  check("cuda_graph_" + optimizer, ok,
        "12 steps, each from the same state (1 partial, lr changed at 9): max relative "
        "difference of parameters after a step " +
            std::to_string(worst) + ", BatchNorm statistics " + std::to_string(worst_buffer) +
            ", losses " + std::to_string(worst_loss) + "; correct " +
            std::to_string(correct_plain) + " vs " + std::to_string(correct_graph) + "; warm-up " +
            std::to_string(n.warmup) + ", captures " + std::to_string(n.captures) + ", replays " +
            std::to_string(n.replays) + " (expected 3, 2, 6)");
  at::globalContext().setDeterministicCuDNN(false);
  at::globalContext().setBenchmarkCuDNN(benchmark);
}

void copy_bandwidth() {
  const std::int64_t n = 100LL * 1024 * 1024 / 4;
  torch::Tensor d = torch::ones({n}, torch::TensorOptions().device(torch::kCUDA));
  torch::Tensor h = torch::empty({n}, torch::TensorOptions().pinned_memory(true));
  h.copy_(d);
  d.copy_(h);
  (void)d[0].item<float>();
  for (const char* dir : {"d2h", "h2d"}) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
      if (std::string(dir) == "d2h") {
        h.copy_(d);
      } else {
        d.copy_(h);
      }
    }
    (void)d[0].item<float>();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 10;
    std::printf(
        "{\"case\": \"pinned copy\", \"direction\": \"%s\", \"mib\": 100, \"gbps\": %.2f}\n", dir,
        100.0 * 1024 * 1024 / s / 1e9);
  }
}

#ifdef MIDGE_LIBTORCH2
std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Forward, backward and optimizer of midge's step (bench/step_bench.cpp's
// loop) timed by CUDA events, then its kernels through Kineto. optimizer
// "graph": midge's SGD with the step captured (run.cuda_graph); its phases
// are inside one graph, so only the whole step's span is timed.
void profile_step(int steps, const std::string& optimizer) {
  const bool captured = optimizer == "graph";
  const torch::Device cuda(torch::kCUDA, 0);
  torch::manual_seed(1);
  midge::model::ResNet net("resnet50", 10, 0.5);
  net->to(cuda);
  net->train();
  torch::Tensor x =
      torch::randn({32, 3, 512, 512}, cuda).contiguous(at::MemoryFormat::ChannelsLast);
  torch::Tensor y =
      torch::randint(0, 10, {32}, torch::TensorOptions().device(cuda).dtype(torch::kLong));
  std::vector<torch::Tensor> params = net->parameters();
  std::unique_ptr<torch::optim::Optimizer> owned =
      midge::bench::bench_sgd(captured ? "midge" : optimizer, params);
  torch::optim::Optimizer& opt = *owned;
  midge::train::LossScaler scaler(false);
  midge::distributed::SelfComm self;
  const c10::Stream stream = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->getStream(cuda);
  std::function<void(std::vector<c10::Event>*)> step = [&](std::vector<c10::Event>* ev) {
    if (ev) (*ev)[0].record(stream);
    opt.zero_grad();
    torch::Tensor logits;
    {
      midge::train::AutocastScope autocast("bf16", true);
      logits = net->forward(x);
    }
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits.to(torch::kFloat), y);
    if (ev) (*ev)[1].record(stream);
    (void)loss.item<double>();
    loss.backward();
    if (ev) (*ev)[2].record(stream);
    midge::train::apply_update(self, nullptr, scaler, params, opt);
    if (ev) (*ev)[3].record(stream);
  };
  std::unique_ptr<midge::train::StepGraph> graph;  // only for "graph": needs midge's optimizer
  if (captured) {
    graph = std::make_unique<midge::train::StepGraph>(
        opt, midge::bench::captured_step(net, opt, params, "bf16"), 3);
    // As midge train: the loss read after every step.
    step = [&](std::vector<c10::Event>* ev) {
      if (ev) (*ev)[0].record(stream);
      (void)graph->run(x, y).loss.item<double>();
      if (ev) (*ev)[3].record(stream);
    };
  }
  for (int i = 0; i < 5; ++i) step(nullptr);  // graph: 3 warm-up steps, capture, a replay
  torch::cuda::synchronize();
  double phase[3] = {0, 0, 0};
  double span = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) {
    std::vector<c10::Event> ev;
    for (int k = 0; k < 4; ++k) {
      ev.emplace_back(c10::DeviceType::CUDA, c10::EventFlag::BACKEND_DEFAULT);
    }
    step(&ev);
    ev[3].synchronize();
    span += ev[0].elapsedTime(ev[3]);
    if (!captured) {
      for (int k = 0; k < 3; ++k) phase[k] += ev[k].elapsedTime(ev[k + 1]);
    }
  }
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
      steps;
  namespace prof = torch::autograd::profiler;
  using torch::profiler::impl::ActivityType;
  const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
  const std::set<ActivityType> activities{ActivityType::CPU, ActivityType::CUDA};
  prof::prepareProfiler(config, activities);
  prof::enableProfiler(config, activities);
  for (int i = 0; i < steps; ++i) step(nullptr);
  torch::cuda::synchronize();
  const auto result = prof::disableProfiler();
  double busy_ns = 0;
  std::size_t kernels = 0;
  std::map<std::string, double> by_name;
  for (const auto& e : result->events()) {
    if (e.deviceType() != c10::DeviceType::CUDA) continue;
    busy_ns += static_cast<double>(e.durationNs());
    by_name[e.name()] += static_cast<double>(e.durationNs());
    ++kernels;
  }
  std::vector<std::pair<std::string, double>> top(by_name.begin(), by_name.end());
  std::sort(top.begin(), top.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string tops;
  for (std::size_t i = 0; i < top.size() && i < 8; ++i) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.3f", top[i].second / 1e6 / steps);
    tops += std::string(i > 0 ? ", " : "") + "[\"" + json_escape(top[i].first.substr(0, 90)) +
            "\", " + ms + "]";
  }
  std::printf(
      "{\"case\": \"profile\", \"side\": \"midge\", \"optimizer\": \"%s\", \"arch\": \"resnet50\", "
      "\"amp\": \"bf16\", \"wall_ms\": %.3f, \"forward_ms\": %.3f, \"backward_ms\": %.3f, "
      "\"optimizer_ms\": %.3f, \"step_gpu_ms\": %.3f, \"idle_ms\": %.3f, "
      "\"kernel_ms\": %.3f, \"kernels_per_step\": %.1f, \"top_kernels\": [%s]}\n",
      optimizer.c_str(), wall_ms, captured ? -1.0 : phase[0] / steps,
      captured ? -1.0 : phase[1] / steps, captured ? -1.0 : phase[2] / steps, span / steps,
      span / steps - busy_ns / 1e6 / steps, busy_ns / 1e6 / steps,
      static_cast<double>(kernels) / steps, tops.c_str());
  std::fflush(stdout);
}
#else
void profile_step(int /*steps*/, const std::string& /*optimizer*/) {
  std::printf(
      "{\"case\": \"profile\", \"side\": \"midge\", \"skipped\": \"needs LibTorch 2.x\"}\n");
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (!torch::cuda::is_available()) {
    std::cerr << "no CUDA device visible\n";
    return 2;
  }
  const int steps = argc > 1 ? std::stoi(argv[1]) : 10;
  // e.g. "fp16": only those step runs; "checks": the checks alone
  const std::string only_amp = argc > 2 ? argv[2] : "";
  at::globalContext().setBenchmarkCuDNN(true);  // as midge train on CUDA
  if (only_amp == "graph" || only_amp == "graph-checks") {
    // Issue #16 in one short call: the captured step's checks, its profile
    // next to the ordinary step's, and both steps' throughput
    // ("graph-checks": the checks alone).
    for (const char* optimizer : {"sgd", "adam"}) {
      try {
        cuda_graph_check(optimizer);
      } catch (const std::exception& e) {
        check(std::string("cuda_graph_") + optimizer, false, e.what());
      }
    }
    if (only_amp == "graph-checks") {
      std::printf("%d check(s) failed\n", failures);
      return failures == 0 ? 0 : 1;
    }
    for (const char* mode : {"midge", "graph"}) {
      try {
        profile_step(steps, mode);
      } catch (const std::exception& e) {
        check(std::string("profile_") + mode, false, e.what());
      }
    }
    midge::distributed::SelfComm one;
    for (const char* arch : {"resnet50", "resnet18"}) {
      for (bool graph : {false, true}) {
        midge::bench::StepBenchOptions o;
        o.arch = arch;
        o.image_size = 512;
        o.global_batch = 32;
        o.amp = "bf16";
        o.device = "cuda";
        o.sync = "off";
        o.cuda_graph = graph;
        o.steps = steps * 2;
        o.warmup = 5;
        try {
          const auto r = midge::bench::run_step_bench(one, o);
          std::cout << "{\"case\": \"step\", " << r.json(o).substr(1) << std::endl;
        } catch (const std::exception& e) {
          check(std::string("step_") + arch + (graph ? "_graph" : ""), false, e.what());
        }
      }
    }
    std::printf("%d check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
  }
  staging_check(25, true);
  staging_check(1, true);
  staging_check(25, false);
  midge::distributed::SelfComm self;
  std::unique_ptr<midge::distributed::NcclComm> nccl;
  try {
    nccl = midge::distributed::make_nccl_comm(self, 0);
    check("nccl_init", true, nccl->version());
    staging_check(25, true, nccl.get());
    staging_check(1, true, nccl.get());
    staging_check(25, false, nccl.get());
  } catch (const std::exception& e) {
    check("nccl_init", false, e.what());
  }
  stream_order_check(25, true);
  stream_order_check(1, true);
  stream_order_check(25, false);
  optimizer_check();
  if (only_amp == "checks") {
    std::printf("%d check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
  }
  copy_bandwidth();
  for (const char* optimizer : {"libtorch", "midge"}) {
    try {
      profile_step(steps, optimizer);
    } catch (const std::exception& e) {
      check("profile", false, e.what());
    }
  }
  struct Run {
    const char* arch;
    int size;
    int batch;
    const char* amp;
  };
  for (Run run : {Run{"resnet50", 512, 32, "bf16"}, Run{"resnet50", 512, 32, "fp16"},
                  Run{"resnet50", 512, 32, "off"}, Run{"resnet18", 512, 32, "bf16"}}) {
    if (!only_amp.empty() && only_amp != run.amp) continue;
    for (const char* sync : {"off-libtorch-sgd", "off", "on", "nccl"}) {
      for (bool overlap : {true, false}) {
        if (std::string(sync) != "on" && !overlap) continue;
        if (std::string(sync) == "nccl" && !nccl) continue;
        midge::bench::StepBenchOptions o;
        o.arch = run.arch;
        o.image_size = run.size;
        o.global_batch = run.batch;
        o.amp = run.amp;
        o.device = "cuda";
        o.sync = std::string(sync).rfind("off", 0) == 0 ? "off" : "on";
        o.optimizer = std::string(sync) == "off-libtorch-sgd" ? "libtorch" : "midge";
        o.nccl = std::string(sync) == "nccl" ? nccl.get() : nullptr;
        o.overlap = overlap;
        o.steps = steps;
        o.warmup = 3;
        const auto r = midge::bench::run_step_bench(self, o);
        std::cout << "{\"case\": \"step\", " << r.json(o).substr(1) << std::endl;
        if (std::string(run.amp) == "fp16" && std::string(sync) == "off") {
          check("fp16_loss_scaling_finite", std::isfinite(r.loss),
                "loss=" + std::to_string(r.loss));
        }
      }
    }
  }
  std::printf("%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
