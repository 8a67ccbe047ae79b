// NcclComm: sums float buffers in GPU memory over the ranks of a
// Communicator with NCCL, enqueued on a CUDA stream, without host staging.
// The gradient path for GPUs (train/gradient_sync.h, dist.backend).
//
// How:
//  - Bootstrapped over the (MPI) communicator it serves: its rank 0 makes
//    the ncclUniqueId, a broadcast hands it to the others, and every rank
//    joins with its own GPU. One NcclComm per communicator, so each trial
//    group of a sweep has its own. NCCL refuses two ranks on one GPU: use
//    as many ranks per node as GPUs.
//  - NCCL's functions are looked up at run time in the libnccl that the
//    CUDA LibTorch has already loaded (or libnccl.so.2 on the library
//    path): midge needs NCCL's header to build, but no link to it, so a
//    relocatable bundle runs with the NCCL of the node's PyTorch.
//  - Failures: a watchdog thread polls ncclCommGetAsyncError every 100 ms;
//    on an error it aborts the communicator (kernels waiting for a peer
//    return, so no stream stays blocked) and check() throws a DistError
//    naming the rank. Enqueueing and aborting exclude each other (one
//    mutex), so no reduction is enqueued on an aborted communicator. A
//    rank that dies is handled as with MPI: the job is aborted
//    (distributed/failure.h). Destroyed while an exception is in flight,
//    or after abort(), the communicator is aborted, never waited for.
//
// Built only with a CUDA LibTorch and NCCL's header (CMake sets
// MIDGE_WITH_NCCL); elsewhere nccl_built() is false and make_nccl_comm
// throws a UsageError.
#pragma once

#include <c10/core/Stream.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "distributed/communicator.h"

namespace midge::distributed {

class NcclComm {
 public:
  virtual ~NcclComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "NCCL 2.28.9", for logs.
  virtual std::string version() const = 0;
  // Enqueues an in-place sum of `count` floats at device pointer `data` on
  // `stream` (a CUDA stream of this rank's GPU); returns at once.
  virtual void allreduce_sum(float* data, std::size_t count, const c10::Stream& stream) = 0;
  // Throws DistError when NCCL reported an asynchronous error (the
  // communicator is then aborted). Asks NCCL itself, not only the
  // watchdog's last look; cheap, call once per step.
  virtual void check() = 0;
  // Aborts the communicator now (error paths: reductions that may never
  // complete are abandoned); later calls of allreduce_sum throw.
  virtual void abort() = 0;
};

// Whether this midge was built with the NCCL backend.
bool nccl_built();

// Whether NCCL can be used by this process: built in and its library
// loadable; otherwise false and *why says what is missing.
bool nccl_available(std::string* why);

// A number naming CUDA device `device` of this process across the job (a
// hash of the GPU's UUID: two ranks get the same number exactly when they
// drive the same physical GPU, whatever CUDA_VISIBLE_DEVICES says). 0
// without NCCL in the build.
std::uint64_t gpu_key(int device);

// Collective over `bootstrap`: one NCCL communicator over its ranks, this
// rank on CUDA device `device`.
std::unique_ptr<NcclComm> make_nccl_comm(Communicator& bootstrap, int device);

}  // namespace midge::distributed
