// GradientSync: averages the gradients of data-parallel ranks in fused
// buckets, launched from autograd hooks while backward is still running
// (dist.overlap = true) or all after backward (dist.overlap = false).
//
// How (the scheme of PyTorch DDP and Horovod, written for midge):
//  - Only parameters that require gradients take part (stage 1: the head;
//    stage 2: everything), so a frozen backbone is never synchronized.
//  - Parameters are packed into buckets of about dist.bucket_mb MiB in
//    reverse registration order, which is roughly the order backward
//    produces their gradients (fc first, conv1 last).
//  - A hook on each parameter copies its gradient into its bucket's flat
//    buffer; when a bucket is complete it goes to distributed::AsyncAllreduce,
//    whose thread sums it over ranks while backward continues. Buckets are
//    launched strictly in index order on every rank (a complete bucket
//    waits for its predecessors), so the collectives match across ranks
//    whatever order the hooks fire in.
//  - finish() (after backward, before the optimizer step) launches what is
//    left (a parameter that got no gradient contributes zeros) and writes
//    sum / world_size into every parameter's .grad, bucket by bucket as each
//    reduction completes (on a GPU the copies back of early buckets then run
//    while the last one is still being reduced).
//  - GPU: buckets live on the GPU; with a CUDA-aware MPI
//    (Communicator::accepts_device_memory) the device buffer is reduced in
//    place, otherwise it is copied to page-locked host memory with an
//    asynchronous copy plus an event that the reducing thread waits on, so
//    the backward thread never blocks on the copy.
//  - GPU with NCCL (GradientSyncOptions::nccl, dist.backend): no thread and
//    no host copies. A complete bucket's event is recorded on the compute
//    stream, a side stream waits for it and runs ncclAllReduce on the
//    device buffer, and finish() makes the compute stream wait for each
//    bucket's reduction before scaling it into .grad: the host never
//    blocks, and communication overlaps backward on the GPU itself.
//
// Invariants: every rank constructs GradientSync with the same parameter
// list and options; each parameter receives at most one gradient per step
// (no gradient accumulation across backward calls before finish()).
// Hooks are removed in the destructor.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "distributed/async_allreduce.h"
#include "distributed/communicator.h"
#include "distributed/nccl_comm.h"

namespace midge::train {

struct GradientSyncOptions {
  double bucket_mb = 25;  // dist.bucket_mb
  bool overlap = true;    // dist.overlap
  // Reduce GPU buckets with this NCCL communicator (over the same ranks as
  // the world given to GradientSync) instead of the world; not owned.
  distributed::NcclComm* nccl = nullptr;
};

class GradientSync {
 public:
  GradientSync(distributed::Communicator& world, std::vector<torch::Tensor> params,
               GradientSyncOptions options);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // After backward: completes the reduction and writes the averaged
  // gradients. Returns the seconds spent in it, i.e. the communication not
  // hidden behind backward ("exposed").
  double finish();

  // After the last step of an epoch, before its weights are evaluated or
  // saved: waits until every reduction has completed and throws the
  // DistError of a failed one. The MPI path reports failures in finish()
  // already; the NCCL path's reductions may still run on their stream
  // after finish() returned (the host never waits there). Like the MPI
  // path, it waits for peers without a time limit: a rank that dies ends
  // the job (distributed/failure.h), an NCCL error aborts the wait.
  void settle();

  std::size_t bucket_count() const { return buckets_.size(); }
  // Number of floats reduced per step.
  std::int64_t numel() const { return numel_; }
  // True when buckets are reduced on a background thread during backward.
  bool overlapping() const;
  // Buckets of the last step that were launched from hooks, i.e. before
  // backward ended (a bucket waits for all its gradients and for its
  // predecessors).
  std::size_t launched_during_backward() const { return last_launched_early_; }
  // Seconds spent in reductions so far, hidden behind backward or not
  // (0 with NCCL: its reductions run on a stream the host never waits on).
  double communication_seconds() const;
  // "host", "pinned host", "device" or "device, NCCL": where and how
  // buckets are reduced.
  const char* staging() const;

 private:
  struct Bucket;
  struct Slot {
    std::size_t bucket = 0;
    std::int64_t offset = 0;
    bool arrived = false;
  };

  void on_gradient(std::size_t index, const torch::Tensor& grad);
  void launch_ready();
  void launch(Bucket& bucket);

  distributed::Communicator& world_;
  std::vector<torch::Tensor> params_;
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  std::vector<unsigned> hooks_;
  std::mutex mutex_;  // hooks may run on autograd's device threads
  std::size_t next_launch_ = 0;
  std::size_t span_base_ = 0;            // reducer spans submitted before this step
  std::size_t launched_early_ = 0;       // this step so far
  std::size_t last_launched_early_ = 0;  // the last finished step
  std::int64_t numel_ = 0;
  bool cuda_ = false;
  bool device_buffers_ = false;
  std::unique_ptr<distributed::AsyncAllreduce> reducer_;  // MPI path
  distributed::NcclComm* nccl_ = nullptr;                 // NCCL path
  std::optional<c10::Stream> side_stream_;                // NCCL's stream
  bool nccl_in_flight_ = false;  // reductions launched since the last settle()
};

}  // namespace midge::train
