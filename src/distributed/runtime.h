// distributed::Runtime: decides once per process whether this is an MPI job and owns
// MPI's lifetime.
//
// A plain `midge ...` is a world of size 1 and never touches MPI (OpenMPI's
// singleton start-up forks helper daemons and is slow, and fails on some
// login nodes). Launch by mpirun/mpiexec or srun is detected from the
// variables the launcher sets (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_SIZE,
// ...). MIDGE_MPI=1 forces MPI, MIDGE_MPI=0 forbids it.
//
// Lifetime: the constructor initializes MPI with thread level MULTIPLE
// requested (Communicator::background_thread_ok() tells whether what was
// granted allows the background reducer). Gradient buckets are
// not reduced on autograd's threads: the hooks there only copy gradients
// into buckets and queue them (train/gradient_sync.cpp), and one background
// thread of AsyncAllreduce issues the allreduces, while no other thread
// calls collectives (distributed/async_allreduce.h). That needs SERIALIZED;
// below it (Communicator::background_thread_ok() false) buckets are reduced
// inline where they are launched, without overlap. finalize() must be
// called on the success path. The destructor deliberately does NOT
// finalize: on a failure path other ranks may still sit in a collective, and
// MPI_Finalize would then hang; exiting without it (or via abort) makes the
// launcher tear the whole job down instead.
#pragma once

#include <memory>

#include "distributed/communicator.h"

namespace midge::distributed {

// True when the environment says an MPI launcher started this process.
bool launched_by_mpi();

class Runtime {
 public:
  Runtime(int* argc, char*** argv);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  Communicator& world() { return *world_; }
  bool using_mpi() const { return mpi_; }
  // Frees communicators, then MPI_Finalize. Idempotent.
  void finalize();

 private:
  bool mpi_ = false;
  bool finalized_ = false;
  std::unique_ptr<Communicator> world_;
};

}  // namespace midge::distributed
