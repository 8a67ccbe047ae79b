// Communicator: the collective operations midge needs, over plain spans of
// numbers, with a world of size 1 by default.
//
// Training, sweeps and evaluation talk only to this interface; whether it is
// backed by MPI (MpiComm, src/distributed/mpi_comm.cpp) or is a single process
// (SelfComm) is decided once at start-up by distributed::Runtime. That keeps
// `#ifdef`s and mpi.h out of every other module and lets an NCCL backend be
// added behind the same interface.
//
// Invariants: every collective must be called by every rank of the
// communicator in the same order with the same counts (as in MPI). Errors
// throw DistError naming the rank and the call; they never hang by
// themselves, but a rank that stops calling collectives leaves the others
// waiting, which is why distributed::run_rank (failure.h) aborts the whole job when
// one rank fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace midge::distributed {

enum class ReduceOp { kSum, kMax, kMin };
enum class DataType { kFloat, kDouble, kInt64, kByte };

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank among the processes on this node and their number: picks the GPU
  // and divides the node's cores into per-rank thread pools.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // Ranks of the job on this node whose CPU affinity masks overlap this
  // process's (itself included): the ranks that share its CPUs, found once
  // for the world and kept by split() like local_rank(). Threads per rank
  // are the usable CPUs divided by this (core/cpus.h).
  virtual int cpu_sharers() const { return 1; }
  // "self" or "mpi", for logs.
  virtual std::string backend() const = 0;
  // Whether collectives may be issued from a thread other than the one that
  // created the communicator (one thread at a time): MPI thread level
  // SERIALIZED or better. Gradient overlap (distributed/async_allreduce.h) needs it.
  virtual bool background_thread_ok() const = 0;
  // Whether allreduce accepts pointers to GPU memory (CUDA-aware MPI); when
  // false, GPU gradients are staged through pinned host memory.
  virtual bool accepts_device_memory() const = 0;

  // In-place reductions over `count` elements at `data`.
  void allreduce(float* data, std::size_t count, ReduceOp op = ReduceOp::kSum);
  void allreduce(double* data, std::size_t count, ReduceOp op = ReduceOp::kSum);
  void allreduce(std::int64_t* data, std::size_t count, ReduceOp op = ReduceOp::kSum);
  template <class T>
  void allreduce(std::vector<T>& v, ReduceOp op = ReduceOp::kSum) {
    allreduce(v.data(), v.size(), op);
  }
  template <class T>
  T allreduce_value(T v, ReduceOp op = ReduceOp::kSum) {
    allreduce(&v, 1, op);
    return v;
  }

  // Copies root's `count` elements to every rank.
  void broadcast(float* data, std::size_t count, int root = 0);
  void broadcast(double* data, std::size_t count, int root = 0);
  void broadcast(std::int64_t* data, std::size_t count, int root = 0);
  // Root's string (any length) to every rank.
  void broadcast(std::string& s, int root = 0);

  virtual void barrier() = 0;

  // `count` values at `data` reduced over the ranks by `op` in place,
  // waiting at most `seconds` for the others (false when they did not all
  // arrive in time; `data` is then unchanged). Polled, first briefly
  // without sleeping (an agreement every training step must not add a
  // sleep to each step), then with short sleeps, so that a rank that waits
  // long leaves its core to others. For agreeing where a peer may be gone
  // or stuck (distributed/agreement.h) and for ranks that only wait for a
  // peer's message. A call that timed out leaves its request pending with
  // buffers owned by the communicator (never by the caller's stack frame):
  // the job is then ended (abort), as MPI cannot cancel a collective.
  virtual bool reduce_span_within(std::int64_t* data, std::size_t count, ReduceOp op,
                                  double seconds) = 0;
  // A `seconds` for reduce_within that waits until every rank arrives.
  static constexpr double kNoTimeout = std::numeric_limits<double>::infinity();

  // One value: the reduced value, or nullopt on time-out.
  std::optional<std::int64_t> reduce_within(std::int64_t value, ReduceOp op, double seconds) {
    if (!reduce_span_within(&value, 1, op, seconds)) return std::nullopt;
    return value;
  }

  // Ranks with the same `color` form a new communicator, ordered by `key`
  // (then by old rank). Collective over this communicator. The new
  // communicator keeps this one's local_rank()/local_size(): a process's
  // place among the job's processes on its node, which picks its GPU and
  // thread share, does not change with the group it trains in.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;

  // Ends every rank of the job with `code`; does not return.
  [[noreturn]] virtual void abort(int code) = 0;

 protected:
  virtual void allreduce_raw(void* data, std::size_t count, DataType type, ReduceOp op) = 0;
  virtual void broadcast_raw(void* data, std::size_t count, DataType type, int root) = 0;
};

// The single-process world: every collective is the identity.
class SelfComm final : public Communicator {
 public:
  SelfComm() = default;
  // A world of one that answers background_thread_ok() as an MPI granting
  // less than MPI_THREAD_SERIALIZED would: tests the paths that must then
  // reduce from the calling thread only, without MPI.
  explicit SelfComm(bool background_thread_ok) : background_ok_(background_thread_ok) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  std::string backend() const override { return "self"; }
  bool background_thread_ok() const override { return background_ok_; }
  // Collectives are no-ops here, but callers that stage through host
  // memory for MPI get the same path with one rank (tested on GPU).
  bool accepts_device_memory() const override { return false; }
  void barrier() override {}
  bool reduce_span_within(std::int64_t* /*data*/, std::size_t /*count*/, ReduceOp /*op*/,
                          double /*seconds*/) override {
    return true;
  }
  std::unique_ptr<Communicator> split(int color, int key) override;
  [[noreturn]] void abort(int code) override;

 protected:
  void allreduce_raw(void*, std::size_t, DataType, ReduceOp) override {}
  void broadcast_raw(void*, std::size_t, DataType, int root) override;

 private:
  bool background_ok_ = true;
};

// Version string of the MPI library linked in (callable before MPI starts).
std::string mpi_library_version();

}  // namespace midge::distributed
