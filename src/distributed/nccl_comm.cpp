#include "distributed/nccl_comm.h"

#include "core/errors.h"
#include "core/random.h"

#ifdef MIDGE_WITH_NCCL

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <dlfcn.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

namespace midge::distributed {
namespace {

// NCCL's entry points, from the libnccl already in the process (loaded by
// the CUDA LibTorch) or, failing that, libnccl.so.2 from the library path.
struct NcclApi {
  decltype(&ncclGetVersion) get_version = nullptr;
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) init_rank = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclCommGetAsyncError) get_async_error = nullptr;
  decltype(&ncclCommAbort) abort = nullptr;
  decltype(&ncclCommDestroy) destroy = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
};

template <class F>
void resolve(void* lib, const char* name, F* out) {
  void* f = ::dlsym(lib, name);
  if (f == nullptr) {
    throw DistError(std::string("dist.backend = nccl: the NCCL library lacks ") + name +
                    " (NCCL 2.12 or newer is needed)");
  }
  *out = reinterpret_cast<F>(f);
}

const NcclApi& api() {
  static const NcclApi a = [] {
    void* lib = ::dlopen("libnccl.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (lib == nullptr) lib = ::dlopen("libnccl.so.2", RTLD_NOW);
    if (lib == nullptr) {
      throw DistError(
          "dist.backend = nccl: libnccl.so.2 is not loaded and not on the library path (it comes "
          "with a CUDA LibTorch, or PyPI's nvidia-nccl package; use dist.backend = mpi)");
    }
    NcclApi r;
    resolve(lib, "ncclGetVersion", &r.get_version);
    resolve(lib, "ncclGetUniqueId", &r.get_unique_id);
    resolve(lib, "ncclCommInitRank", &r.init_rank);
    resolve(lib, "ncclAllReduce", &r.all_reduce);
    resolve(lib, "ncclCommGetAsyncError", &r.get_async_error);
    resolve(lib, "ncclCommAbort", &r.abort);
    resolve(lib, "ncclCommDestroy", &r.destroy);
    resolve(lib, "ncclGetErrorString", &r.error_string);
    return r;
  }();
  return a;
}

class NcclCommImpl final : public NcclComm {
 public:
  NcclCommImpl(Communicator& bootstrap, int device)
      : rank_(bootstrap.rank()), size_(bootstrap.size()) {
    const NcclApi& n = api();
    int v = 0;
    call(n.get_version(&v), "ncclGetVersion");
    version_ = "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
               std::to_string(v % 100);
    ncclUniqueId id;
    std::memset(&id, 0, sizeof id);
    if (rank_ == 0) call(n.get_unique_id(&id), "ncclGetUniqueId");
    std::string bytes(reinterpret_cast<const char*>(&id), sizeof id);
    bootstrap.broadcast(bytes, 0);
    if (bytes.size() != sizeof id) throw DistError("NCCL bootstrap: unique id of the wrong size");
    std::memcpy(&id, bytes.data(), sizeof id);
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
    call(n.init_rank(&comm_, size_, id, rank_), "ncclCommInitRank");
    watchdog_ = std::thread([this] { watch(); });
  }

  ~NcclCommImpl() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    watchdog_.join();
    if (aborted_) return;
    if (std::uncaught_exceptions() > 0) {
      // An error path: a reduction may wait for a peer that never comes,
      // and the watchdog is gone; waiting could hang, aborting cannot.
      api().abort(comm_);
      return;
    }
    // Queued reductions finish before the communicator goes.
    try {
      c10::cuda::device_synchronize();
      api().destroy(comm_);
    } catch (...) {
      api().abort(comm_);
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string version() const override { return version_; }

  void allreduce_sum(float* data, std::size_t count, const c10::Stream& stream) override {
    const cudaStream_t s = c10::cuda::CUDAStream(stream).stream();
    // Under the lock: the watchdog cannot abort (free) the communicator
    // between the check and the enqueue.
    std::lock_guard<std::mutex> lock(mutex_);
    if (aborted_) throw DistError(error_);
    call(api().all_reduce(data, data, count, ncclFloat, ncclSum, comm_, s), "ncclAllReduce");
  }

  void check() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!aborted_) poll_locked();
    if (aborted_) throw DistError(error_);
  }

  void abort() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (aborted_) return;
    error_ = "the NCCL communicator of rank " + std::to_string(rank_) +
             " was aborted after an error elsewhere";
    api().abort(comm_);
    aborted_ = true;
  }

 private:
  void call(ncclResult_t r, const char* what) {
    if (r == ncclSuccess || r == ncclInProgress) return;
    throw DistError(std::string(what) + " failed on rank " + std::to_string(rank_) + ": " +
                    api().error_string(r));
  }

  // With mutex_ held: asks NCCL for an asynchronous error; on one, aborts.
  void poll_locked() {
    ncclResult_t state = ncclSuccess;
    const ncclResult_t r = api().get_async_error(comm_, &state);
    if (r != ncclSuccess || (state != ncclSuccess && state != ncclInProgress)) {
      error_ = "NCCL reported an error on rank " + std::to_string(rank_) + ": " +
               api().error_string(r != ncclSuccess ? r : state) +
               "; the NCCL communicator was aborted";
      api().abort(comm_);
      aborted_ = true;
    }
  }

  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; })) {
      if (aborted_) return;
      poll_locked();
    }
  }

  int rank_;
  int size_;
  std::string version_;
  ncclComm_t comm_ = nullptr;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::atomic<bool> aborted_{false};
  std::string error_;  // under mutex_
  std::thread watchdog_;
};

}  // namespace

bool nccl_built() { return true; }

std::uint64_t gpu_key(int device) {
  const cudaDeviceProp* p = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(device));
  const std::uint64_t h = fnv1a(p->uuid.bytes, sizeof p->uuid.bytes);
  return h == 0 ? 1 : h;
}

bool nccl_available(std::string* why) {
  try {
    (void)api();
    return true;
  } catch (const DistError& e) {
    *why = e.what();
    return false;
  }
}

std::unique_ptr<NcclComm> make_nccl_comm(Communicator& bootstrap, int device) {
  return std::make_unique<NcclCommImpl>(bootstrap, device);
}

}  // namespace midge::distributed

#else  // no NCCL in this build

namespace midge::distributed {

bool nccl_built() { return false; }

std::uint64_t gpu_key(int /*device*/) { return 0; }

bool nccl_available(std::string* why) {
  *why =
      "this midge was built without NCCL (it needs a CUDA LibTorch and NCCL's nccl.h at build "
      "time)";
  return false;
}

std::unique_ptr<NcclComm> make_nccl_comm(Communicator& /*bootstrap*/, int /*device*/) {
  throw UsageError(
      "dist.backend = nccl, but this midge was built without NCCL (it needs a CUDA LibTorch and "
      "NCCL's nccl.h at build time); use dist.backend = auto or mpi");
}

}  // namespace midge::distributed

#endif
