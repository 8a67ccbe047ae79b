// AsyncAllreduce: sums spans of floats over a Communicator on a background
// thread, in the order they were submitted, so that the submitting thread
// (autograd's backward pass) keeps computing while earlier gradient buckets
// travel. This is the overlap of Horovod's background thread and PyTorch
// DDP's bucket launches, reduced to what midge needs.
//
// Why a thread and not MPI_Iallreduce: with most MPI libraries (OpenMPI's
// libnbc included) a non-blocking collective only advances while some MPI
// call is being made, i.e. not while the caller is busy in backward; a
// thread inside a blocking MPI_Allreduce always makes progress.
//
// Invariants:
//  - Every rank submits the same spans (counts) in the same order; the
//    thread issues them in that order, so the collectives match.
//  - A submitted span must stay valid and untouched until wait_all()
//    returns.
//  - While spans are in flight, no other thread may call collectives on the
//    same communicator (wait_all() first). With MPI this needs thread level
//    SERIALIZED; without it (Communicator::background_thread_ok() false)
//    submit() reduces inline, i.e. no overlap but still correct.
//  - An error in the thread (a DistError from MPI) is rethrown by
//    wait_all(); later spans are then skipped.
//  - Destroying it with spans still in flight happens only on an error path
//    (the owner threw mid-step). The peers of those reductions may never
//    arrive, and waiting would stop this rank from reaching the abort that
//    ends the job, so the thread is detached instead: idle() tells the
//    owner beforehand that its buffers must then be left allocated.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <thread>

#include "distributed/communicator.h"

namespace midge::distributed {

class AsyncAllreduce {
 public:
  // background = false reduces each span inside submit() (overlap off).
  AsyncAllreduce(Communicator& comm, bool background);
  ~AsyncAllreduce();
  AsyncAllreduce(const AsyncAllreduce&) = delete;
  AsyncAllreduce& operator=(const AsyncAllreduce&) = delete;

  // Queues an in-place sum of `count` floats at `data` (host memory, or
  // device memory when comm.accepts_device_memory()). `ready`, if given,
  // runs on the reducing thread just before the reduction and blocks until
  // the data is really there (e.g. waits for a GPU copy into `data`), so
  // the submitter never waits for it.
  void submit(float* data, std::size_t count, std::function<void()> ready = {});
  // Blocks until every submitted span is reduced; rethrows the thread's
  // first error.
  void wait_all();
  // Spans submitted since construction; the k-th (from 0) is done once
  // wait_done(k + 1) returns.
  std::size_t submitted() const;
  // Blocks until the first `count` spans ever submitted are reduced (they
  // finish in submission order), so the caller can use early results while
  // later spans are still in flight; rethrows the thread's first error.
  void wait_done(std::size_t count);
  // True when nothing is queued or being reduced.
  bool idle() const;
  // True when spans are reduced on the background thread.
  bool background() const { return background_; }
  // Seconds spent inside reductions (waiting for the data included) since
  // construction: the communication time, hidden or not.
  double busy_seconds() const;

 private:
  struct State;  // shared with the thread, which may outlive this object
  static void reduce_loop(Communicator& comm, const std::shared_ptr<State>& st);
  Communicator& comm_;
  bool background_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace midge::distributed
