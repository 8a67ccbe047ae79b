#include "distributed/mpi_comm.h"

#include <mpi.h>
// OpenMPI declares MPIX_Query_cuda_support() here when built with CUDA.
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/cpus.h"
#include "core/errors.h"

namespace midge::distributed {
namespace {

int world_rank_for_messages() {
  int init = 0;
  int fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  int rank = -1;
  if (init != 0 && fin == 0) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

// Every MPI call is checked: communicators use MPI_ERRORS_RETURN, so a
// failure comes back as a code and becomes a DistError naming rank and call.
void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw DistError("rank " + std::to_string(world_rank_for_messages()) + ": " + call +
                  " failed: " + std::string(msg, static_cast<std::size_t>(len)));
}

MPI_Datatype to_mpi(DataType t) {
  switch (t) {
    case DataType::kFloat:
      return MPI_FLOAT;
    case DataType::kDouble:
      return MPI_DOUBLE;
    case DataType::kInt64:
      return MPI_INT64_T;
    case DataType::kByte:
      return MPI_BYTE;
  }
  return MPI_BYTE;
}

MPI_Op to_mpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return MPI_SUM;
    case ReduceOp::kMax:
      return MPI_MAX;
    case ReduceOp::kMin:
      return MPI_MIN;
  }
  return MPI_SUM;
}

// MPI counts are int; larger spans go in chunks.
constexpr std::size_t kMaxChunk = 1u << 30;

std::size_t element_size(DataType t) {
  switch (t) {
    case DataType::kFloat:
      return sizeof(float);
    case DataType::kDouble:
      return sizeof(double);
    case DataType::kInt64:
      return sizeof(std::int64_t);
    case DataType::kByte:
      return 1;
  }
  return 1;
}

// RAII owner of an MPI_Comm; never frees after MPI_Finalize.
class CommHandle {
 public:
  explicit CommHandle(MPI_Comm c) : comm_(c) {}
  ~CommHandle() {
    int fin = 0;
    MPI_Finalized(&fin);
    if (fin == 0 && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }
  CommHandle(const CommHandle&) = delete;
  CommHandle& operator=(const CommHandle&) = delete;
  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_;
};

class MpiComm final : public Communicator {
 public:
  // Takes ownership of `comm`; the node-local rank is found from it.
  explicit MpiComm(MPI_Comm comm) : handle_(comm) {
    init_ranks(comm);
    MPI_Comm node = MPI_COMM_NULL;
    check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    CommHandle node_handle(node);
    check(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(node, &local_size_), "MPI_Comm_size");
    // Which ranks of this node may run on this process's CPUs.
    const std::vector<std::uint64_t> mine = affinity_words();
    std::vector<std::uint64_t> all(mine.size() * static_cast<std::size_t>(local_size_), 0);
    check(MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_UINT64_T, all.data(),
                        static_cast<int>(mine.size()), MPI_UINT64_T, node),
          "MPI_Allgather");
    cpu_sharers_ = 0;
    for (int r = 0; r < local_size_; ++r) {
      const std::vector<std::uint64_t> theirs(
          all.begin() + static_cast<long>(r * mine.size()),
          all.begin() + static_cast<long>((r + 1) * mine.size()));
      cpu_sharers_ += masks_overlap(mine, theirs) ? 1 : 0;
    }
  }
  // Takes ownership of `comm`, a part of a communicator whose node-local
  // rank and size it keeps (Communicator::split).
  MpiComm(MPI_Comm comm, int local_rank, int local_size, int cpu_sharers)
      : handle_(comm), local_rank_(local_rank), local_size_(local_size), cpu_sharers_(cpu_sharers) {
    init_ranks(comm);
  }

  ~MpiComm() override {
    // Buffers MPI may still write into: left allocated (see abandoned_).
    for (auto& p : abandoned_) static_cast<void>(p.release());
  }
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  int cpu_sharers() const override { return cpu_sharers_; }
  std::string backend() const override { return "mpi"; }

  bool background_thread_ok() const override {
    int provided = MPI_THREAD_SINGLE;
    check(MPI_Query_thread(&provided), "MPI_Query_thread");
    return provided >= MPI_THREAD_SERIALIZED;
  }

  // OpenMPI answers at run time (a CUDA build may run without CUDA
  // transports). Other MPIs (MPICH, Cray, Intel) have no portable query:
  // MIDGE_MPI_CUDA_AWARE=1 declares the MPI CUDA-aware, =0 forbids it.
  bool accepts_device_memory() const override {
    if (const char* force = std::getenv("MIDGE_MPI_CUDA_AWARE")) {
      return std::string(force) == "1";
    }
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
    return MPIX_Query_cuda_support() == 1;
#else
    return false;
#endif
  }

  void barrier() override { check(MPI_Barrier(handle_.get()), "MPI_Barrier"); }

  bool reduce_span_within(std::int64_t* data, std::size_t count, ReduceOp op,
                          double seconds) override {
    // The buffers live on the heap, owned by this communicator until the
    // request completes: a request that times out stays pending, and MPI
    // may still write into its buffers while the job is being ended.
    auto pending = std::make_unique<PendingReduce>();
    pending->in.assign(data, data + count);
    pending->out.assign(count, 0);
    check(MPI_Iallreduce(pending->in.data(), pending->out.data(), static_cast<int>(count),
                         MPI_INT64_T, to_mpi(op), handle_.get(), &pending->request),
          "MPI_Iallreduce");
    // Polled, because MPI has no wait with a time-out. The first
    // milliseconds without sleeping (a per-step agreement usually completes
    // at once), then with short pauses between tests, which keep a waiting
    // rank from taking a core from its node's peers.
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      int done = 0;
      check(MPI_Test(&pending->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done != 0) {
        std::copy(pending->out.begin(), pending->out.end(), data);
        return true;
      }
      const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
      if (waited.count() > seconds) {
        abandoned_.push_back(std::move(pending));
        return false;
      }
      if (waited.count() < 0.002) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(waited.count() < 0.05 ? 1 : 2));
      }
    }
  }

  std::unique_ptr<Communicator> split(int color, int key) override {
    MPI_Comm out = MPI_COMM_NULL;
    check(MPI_Comm_split(handle_.get(), color, key, &out), "MPI_Comm_split");
    return std::make_unique<MpiComm>(out, local_rank_, local_size_, cpu_sharers_);
  }

  [[noreturn]] void abort(int code) override {
    spdlog::default_logger()->flush();
    MPI_Abort(handle_.get(), code);
    std::_Exit(code);  // MPI_Abort should not return; make sure of it.
  }

 protected:
  void allreduce_raw(void* data, std::size_t count, DataType type, ReduceOp op) override {
    auto* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(kMaxChunk, count - done);
      check(MPI_Allreduce(MPI_IN_PLACE, p + done * element_size(type), static_cast<int>(n),
                          to_mpi(type), to_mpi(op), handle_.get()),
            "MPI_Allreduce");
      done += n;
    }
  }

  void broadcast_raw(void* data, std::size_t count, DataType type, int root) override {
    if (root < 0 || root >= size_) {
      throw DistError("broadcast root " + std::to_string(root) + " outside world of size " +
                      std::to_string(size_));
    }
    auto* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(kMaxChunk, count - done);
      check(MPI_Bcast(p + done * element_size(type), static_cast<int>(n), to_mpi(type), root,
                      handle_.get()),
            "MPI_Bcast");
      done += n;
    }
  }

 private:
  void init_ranks(MPI_Comm comm) {
    check(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(comm, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm, &size_), "MPI_Comm_size");
  }

  struct PendingReduce {
    std::vector<std::int64_t> in;
    std::vector<std::int64_t> out;
    MPI_Request request = MPI_REQUEST_NULL;
  };

  CommHandle handle_;
  // Reductions that timed out, still pending in MPI: kept (never freed)
  // until the process ends, which follows soon (the job is aborted).
  std::vector<std::unique_ptr<PendingReduce>> abandoned_;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  int cpu_sharers_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_world() {
  MPI_Comm dup = MPI_COMM_NULL;
  check(MPI_Comm_dup(MPI_COMM_WORLD, &dup), "MPI_Comm_dup");
  return std::make_unique<MpiComm>(dup);
}

std::string mpi_library_version() {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(buf, &len);
  std::string v(buf, static_cast<std::size_t>(len));
  // Keep the first line ("Open MPI v4.1.4, package: ..." -> up to the comma).
  v = v.substr(0, v.find('\n'));
  return v.substr(0, v.find(','));
}

}  // namespace midge::distributed
