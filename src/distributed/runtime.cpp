#include "distributed/runtime.h"

#include <mpi.h>

#include <cstdlib>
#include <string>

#include "core/errors.h"
#include "distributed/mpi_comm.h"

namespace midge::distributed {

bool launched_by_mpi() {
  if (const char* force = std::getenv("MIDGE_MPI")) {
    return std::string(force) == "1";
  }
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK",
                          "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"}) {
    if (std::getenv(var) != nullptr) return true;
  }
  return false;
}

Runtime::Runtime(int* argc, char*** argv) {
  mpi_ = launched_by_mpi();
  if (!mpi_) {
    world_ = std::make_unique<SelfComm>();
    return;
  }
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
    throw DistError("MPI_Init_thread failed");
  }
  world_ = make_mpi_world();
}

Runtime::~Runtime() = default;

void Runtime::finalize() {
  if (!mpi_ || finalized_) return;
  world_.reset();  // free communicators while MPI is still up
  finalized_ = true;
  MPI_Finalize();
}

}  // namespace midge::distributed
