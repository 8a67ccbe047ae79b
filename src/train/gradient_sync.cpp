#include "train/gradient_sync.h"

#include <c10/core/Event.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <chrono>
#include <thread>
#include <utility>

#include "core/errors.h"

namespace midge::train {

struct GradientSync::Bucket {
  std::vector<std::size_t> members;  // indices into params_
  std::int64_t numel = 0;
  std::size_t pending = 0;              // members whose gradient has not arrived this step
  torch::Tensor flat;                   // on the parameters' device
  torch::Tensor host;                   // page-locked staging (GPU without CUDA-aware MPI)
  std::unique_ptr<c10::Event> copied;   // GPU: recorded after the bucket is written
  std::unique_ptr<c10::Event> reduced;  // NCCL: recorded after its allreduce
};

namespace {
const c10::impl::DeviceGuardImplInterface* cuda_impl() {
  return c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
}
}  // namespace

GradientSync::GradientSync(distributed::Communicator& world, std::vector<torch::Tensor> params,
                           GradientSyncOptions options)
    : world_(world), nccl_(options.nccl) {
  for (auto& p : params) {
    if (p.requires_grad()) params_.push_back(p);
  }
  if (params_.empty()) return;
  cuda_ = params_.front().is_cuda();
  if (nccl_ != nullptr && !cuda_) throw TrainError("NCCL gradient sync needs parameters on a GPU");
  if (nccl_ != nullptr && nccl_->size() != world_.size()) {
    throw TrainError("NCCL gradient sync: the NCCL communicator has " +
                     std::to_string(nccl_->size()) + " ranks, the world " +
                     std::to_string(world_.size()));
  }
  device_buffers_ = cuda_ && (nccl_ != nullptr || world_.accepts_device_memory());
  for (const auto& p : params_) {
    if (p.scalar_type() != torch::kFloat) {
      throw TrainError("gradient sync needs float parameters, found " +
                       std::string(c10::toString(p.scalar_type())));
    }
    if (p.device() != params_.front().device()) {
      throw TrainError("gradient sync needs all parameters on one device");
    }
  }

  // Reverse order: backward reaches the last layers first.
  const auto limit = static_cast<std::int64_t>(options.bucket_mb * 1024 * 1024 / sizeof(float));
  slots_.resize(params_.size());
  for (std::size_t k = params_.size(); k-- > 0;) {
    const std::int64_t n = params_[k].numel();
    if (buckets_.empty() || (buckets_.back()->numel > 0 && buckets_.back()->numel + n > limit)) {
      buckets_.push_back(std::make_unique<Bucket>());
    }
    Bucket& b = *buckets_.back();
    slots_[k] = {buckets_.size() - 1, b.numel, false};
    b.members.push_back(k);
    b.numel += n;
    numel_ += n;
  }
  const auto device = params_.front().device();
  for (auto& b : buckets_) {
    b->pending = b->members.size();
    b->flat = torch::zeros({b->numel}, torch::TensorOptions().dtype(torch::kFloat).device(device));
    if (cuda_ && !device_buffers_) {
      b->host =
          torch::empty({b->numel}, torch::TensorOptions().dtype(torch::kFloat).pinned_memory(true));
    }
    if (cuda_) b->copied = std::make_unique<c10::Event>(c10::DeviceType::CUDA);
    if (nccl_ != nullptr) b->reduced = std::make_unique<c10::Event>(c10::DeviceType::CUDA);
  }

  if (nccl_ != nullptr) {
    // A high-priority stream, so reductions are scheduled ahead of the
    // backward kernels they overlap with.
    side_stream_ = cuda_impl()->getStreamFromGlobalPool(device, /*isHighPriority=*/true);
    if (options.overlap) {
      for (std::size_t k = 0; k < params_.size(); ++k) {
        hooks_.push_back(
            params_[k].register_hook([this, k](torch::Tensor grad) { on_gradient(k, grad); }));
      }
    }
    return;
  }
  reducer_ = std::make_unique<distributed::AsyncAllreduce>(world_, options.overlap);
  // Hooks only with a background reducer: without one (overlap off, or an
  // MPI below MPI_THREAD_SERIALIZED) a hook would run the allreduce itself,
  // and on CUDA autograd calls hooks from its own thread.
  if (reducer_->background()) {
    for (std::size_t k = 0; k < params_.size(); ++k) {
      hooks_.push_back(
          params_[k].register_hook([this, k](torch::Tensor grad) { on_gradient(k, grad); }));
    }
  }
}

GradientSync::~GradientSync() {
  for (std::size_t k = 0; k < hooks_.size(); ++k) params_[k].remove_hook(hooks_[k]);
  if (nccl_ != nullptr && nccl_in_flight_) {
    // Reductions possibly still queued on the side stream (an error path:
    // the trainer settles every epoch): abort them rather than wait for
    // peers that may never come. Buffers are freed only once the aborted
    // kernels are seen to have ended; otherwise they are left allocated,
    // as a kernel may still touch them.
    nccl_->abort();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool ended = false;
    while (!ended && std::chrono::steady_clock::now() < deadline) {
      ended = true;
      for (auto& b : buckets_) ended = ended && b->reduced->query();
      if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!ended) {
      for (auto& b : buckets_) (void)b.release();
    }
    return;
  }
  // Buckets still in flight means an error path (finish() always waits):
  // the reducer abandons its thread rather than wait for peers that may
  // never come, so the memory that thread may still write is left
  // allocated; the process is about to abort anyway.
  if (reducer_ && !reducer_->idle()) {
    for (auto& b : buckets_) (void)b.release();
  }
  reducer_.reset();
}

bool GradientSync::overlapping() const {
  if (nccl_ != nullptr) return !hooks_.empty();
  return reducer_ && reducer_->background() && !hooks_.empty();
}

double GradientSync::communication_seconds() const {
  return reducer_ ? reducer_->busy_seconds() : 0.0;
}

const char* GradientSync::staging() const {
  if (!cuda_) return "host";
  if (nccl_ != nullptr) return "device, NCCL";
  return device_buffers_ ? "device" : "pinned host";
}

void GradientSync::on_gradient(std::size_t index, const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  Slot& s = slots_[index];
  Bucket& b = *buckets_[s.bucket];
  if (s.arrived) {
    throw TrainError("gradient of parameter " + std::to_string(index) +
                     " arrived twice in one step; gradient accumulation across backward calls "
                     "is not supported with dist.overlap = true");
  }
  torch::NoGradGuard no_grad;
  b.flat.narrow(0, s.offset, grad.numel()).view(grad.sizes()).copy_(grad);
  s.arrived = true;
  if (--b.pending == 0) {
    const std::size_t before = next_launch_;
    launch_ready();
    launched_early_ += next_launch_ - before;
  }
}

// Launches complete buckets in index order (the same order on every rank).
void GradientSync::launch_ready() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_]->pending == 0) {
    launch(*buckets_[next_launch_]);
    ++next_launch_;
  }
}

void GradientSync::launch(Bucket& b) {
  if (nccl_ != nullptr) {
    // Ordered after the copies into the bucket (current stream), reduced
    // on the side stream; finish() orders the compute stream after it.
    b.copied->record(cuda_impl()->getStream(b.flat.device()));
    b.copied->block(*side_stream_);
    nccl_in_flight_ = true;
    nccl_->allreduce_sum(b.flat.data_ptr<float>(), static_cast<std::size_t>(b.numel),
                         *side_stream_);
    b.reduced->record(*side_stream_);
    return;
  }
  if (!cuda_) {
    reducer_->submit(b.flat.data_ptr<float>(), static_cast<std::size_t>(b.numel));
    return;
  }
  if (!device_buffers_) b.host.copy_(b.flat, /*non_blocking=*/true);
  float* data = device_buffers_ ? b.flat.data_ptr<float>() : b.host.data_ptr<float>();
  // The copies above are queued on the current stream; the reducing thread
  // waits for them through the event instead of blocking backward here.
  const c10::impl::DeviceGuardImplInterface* impl =
      c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
  b.copied->record(impl->getStream(b.flat.device()));
  c10::Event* event = b.copied.get();
  reducer_->submit(data, static_cast<std::size_t>(b.numel), [event] {
    while (!event->query()) std::this_thread::sleep_for(std::chrono::microseconds(20));
  });
}

void GradientSync::settle() {
  if (nccl_ == nullptr) return;
  for (auto& b : buckets_) {
    // Polled, so that an error the watchdog reports (and the abort that
    // lets the kernel return) ends the wait.
    while (!b->reduced->query()) {
      nccl_->check();
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  nccl_->check();
  nccl_in_flight_ = false;
}

double GradientSync::finish() {
  if (params_.empty()) return 0;
  const auto t0 = std::chrono::steady_clock::now();
  if (nccl_ != nullptr) nccl_->check();
  torch::NoGradGuard no_grad;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last_launched_early_ = launched_early_;
    launched_early_ = 0;
    // Without hooks (overlap off) or for parameters that got no gradient
    // this step: copy (or zero) now, then launch what is left in order.
    for (std::size_t k = 0; k < params_.size(); ++k) {
      Slot& s = slots_[k];
      if (s.arrived) continue;
      Bucket& b = *buckets_[s.bucket];
      torch::Tensor dst = b.flat.narrow(0, s.offset, params_[k].numel());
      const torch::Tensor& g = params_[k].grad();
      if (g.defined()) {
        dst.view(g.sizes()).copy_(g);
      } else {
        dst.zero_();
      }
      s.arrived = true;
      --b.pending;
    }
    launch_ready();
  }
  const double inv = 1.0 / static_cast<double>(world_.size());
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    Bucket& b = *buckets_[i];
    if (nccl_ != nullptr) {
      b.reduced->block(cuda_impl()->getStream(b.flat.device()));
    } else {
      reducer_->wait_done(span_base_ + i + 1);
    }
    if (cuda_ && !device_buffers_) b.flat.copy_(b.host, /*non_blocking=*/true);
    b.flat.mul_(inv);
    for (std::size_t k : b.members) {
      torch::Tensor& p = params_[k];
      torch::Tensor avg = b.flat.narrow(0, slots_[k].offset, p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(avg);
      } else {
        // In the parameter's layout (channels-last for convolutions): the
        // optimizer's multi-tensor kernels take their fast path only when
        // parameter and gradient strides agree.
        p.mutable_grad() = torch::empty_like(p).copy_(avg);
      }
      slots_[k].arrived = false;
    }
    b.pending = b.members.size();
  }
  next_launch_ = 0;
  if (reducer_) span_base_ = reducer_->submitted();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace midge::train
