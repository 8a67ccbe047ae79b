#include "step_bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "model/resnet.h"
#include "train/gradient_sync.h"
#include "train/optimizer.h"
#include "train/precision.h"
#include "train/step_graph.h"
#include "train/update.h"

namespace midge::bench {

std::string StepBenchResult::json(const StepBenchOptions& o) const {
  char buf[1024];
  std::snprintf(
      buf, sizeof(buf),
      "{\"arch\": \"%s\", \"image_size\": %d, \"global_batch\": %d, \"ranks\": %d, "
      "\"device\": \"%s\", \"amp\": \"%s\", \"threads\": %d, \"sync\": \"%s\", "
      "\"overlap\": %s, \"bucket_mb\": %g, \"buckets\": %zu, "
      "\"launched_during_backward\": %zu, \"staging\": \"%s\", \"step_s\": %.5f, "
      "\"exposed_comm_s\": %.5f, \"comm_s\": %.5f, \"exposed_share\": %.4f, "
      "\"images_per_second\": %.3f, \"loss\": %.4f, \"optimizer\": \"%s\", "
      "\"cuda_graph\": %s, \"graph_replays\": %lld}",
      o.arch.c_str(), o.image_size, o.global_batch, ranks, o.device.c_str(), o.amp.c_str(),
      torch::get_num_threads(), o.sync.c_str(), o.overlap ? "true" : "false", o.bucket_mb, buckets,
      launched_during_backward, staging.c_str(), step_seconds, exposed_seconds, comm_seconds,
      step_seconds > 0 ? exposed_seconds / step_seconds : 0.0, images_per_second, loss,
      o.optimizer.c_str(), o.cuda_graph ? "true" : "false", static_cast<long long>(graph_replays));
  return buf;
}

std::unique_ptr<torch::optim::Optimizer> bench_sgd(const std::string& which,
                                                   std::vector<torch::Tensor> params) {
  if (which == "libtorch") {
    return std::make_unique<torch::optim::SGD>(params,
                                               torch::optim::SGDOptions(1e-4).momentum(0.9));
  }
  StageConfig sgd;
  sgd.optimizer = "sgd";
  sgd.lr = 1e-4;
  sgd.momentum = 0.9;
  sgd.weight_decay = 0;
  return train::make_optimizer(sgd, std::move(params));
}

train::StepFunction captured_step(model::ResNet net, torch::optim::Optimizer& opt,
                                  std::vector<torch::Tensor> params, const std::string& amp) {
  auto self = std::make_shared<distributed::SelfComm>();
  auto scaler = std::make_shared<train::LossScaler>(false);
  return [net, &opt, params, amp, self, scaler](const torch::Tensor& input,
                                                const torch::Tensor& labels) mutable {
    opt.zero_grad();
    torch::Tensor logits;
    {
      train::AutocastScope autocast(amp, input.is_cuda());
      logits = net->forward(input);
    }
    logits = logits.to(torch::kFloat);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
    loss.backward();
    train::apply_update(*self, nullptr, *scaler, params, opt);
    return train::StepOutputs{loss.detach(), logits.argmax(1).eq(labels).sum()};
  };
}

StepBenchResult run_step_bench(distributed::Communicator& world, const StepBenchOptions& o) {
  using Clock = std::chrono::steady_clock;
  const bool cuda = o.device == "cuda";
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  const int per_rank = o.global_batch / world.size();

  // Same weights and the same global batch on every rank and in every run.
  torch::manual_seed(1);
  model::ResNet net(o.arch, o.classes, 0.5);
  net->to(device);
  net->train();
  torch::Tensor x = torch::randn({o.global_batch, 3, o.image_size, o.image_size});
  torch::Tensor y = torch::randint(0, o.classes, {o.global_batch});
  x = x.narrow(0, static_cast<std::int64_t>(world.rank()) * per_rank, per_rank).to(device);
  if (cuda) x = x.contiguous(at::MemoryFormat::ChannelsLast);
  y = y.narrow(0, static_cast<std::int64_t>(world.rank()) * per_rank, per_rank).to(device);

  std::vector<torch::Tensor> params = net->parameters();
  std::unique_ptr<torch::optim::Optimizer> optimizer = bench_sgd(o.optimizer, params);
  torch::optim::Optimizer& opt = *optimizer;
  train::LossScaler scaler(o.amp == "fp16");
  std::unique_ptr<train::GradientSync> sync;
  if (o.sync == "on" || (o.sync == "auto" && world.size() > 1)) {
    sync = std::make_unique<train::GradientSync>(
        world, params, train::GradientSyncOptions{o.bucket_mb, o.overlap, o.nccl});
  }

  std::unique_ptr<train::StepGraph> graph;
  int warmup = o.warmup;
  if (o.cuda_graph) {
    if (sync || o.amp == "fp16" || !cuda) {
      throw std::invalid_argument("step bench: cuda_graph needs one GPU, no sync, no fp16");
    }
    graph = std::make_unique<train::StepGraph>(opt, captured_step(net, opt, params, o.amp), 3);
    warmup = std::max(warmup, 5);  // 3 warm-up steps, the capture, a first replay
  }

  StepBenchResult r;
  r.ranks = world.size();
  double exposed = 0;
  double comm_start = 0;
  Clock::time_point t0;
  for (int step = 0; step < warmup + o.steps; ++step) {
    if (graph) {
      if (step == warmup) t0 = Clock::now();
      r.loss = graph->run(x, y).loss.item<double>();  // as midge train: checked after each step
      continue;
    }
    if (step == warmup) {
      world.barrier();
      t0 = Clock::now();
      exposed = 0;
      comm_start = sync ? sync->communication_seconds() : 0.0;
    }
    opt.zero_grad();
    torch::Tensor logits;
    {
      train::AutocastScope autocast(o.amp, cuda);
      logits = net->forward(x);
    }
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits.to(torch::kFloat), y);
    r.loss = loss.item<double>();  // as midge train: checked for NaN before backward
    (scaler.enabled() ? loss * scaler.scale() : loss).backward();
    const double e = train::apply_update(world, sync.get(), scaler, params, opt);
    if (step >= warmup) exposed += e;
  }
  // The GPU queue drains before the clock stops (NCCL: its side stream too).
  if (sync) sync->settle();
  if (cuda) (void)params.front().sum().item<float>();
  world.barrier();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  r.step_seconds = elapsed / o.steps;
  r.exposed_seconds = exposed / o.steps;
  if (sync) {
    r.comm_seconds = (sync->communication_seconds() - comm_start) / o.steps;
    r.buckets = sync->bucket_count();
    r.launched_during_backward = sync->launched_during_backward();
    r.staging = sync->staging();
  }
  r.images_per_second = o.global_batch / r.step_seconds;
  if (graph) r.graph_replays = graph->counts().replays;
  r.loss = world.allreduce_value(r.loss) / world.size();
  return r;
}

}  // namespace midge::bench
