// MPI backend of Communicator. Internal to src/distributed: other modules get a
// Communicator& from distributed::Runtime and never see MPI types.
#pragma once

#include <memory>

#include "distributed/communicator.h"

namespace midge::distributed {

// A communicator over a duplicate of MPI_COMM_WORLD (so midge's traffic never
// matches messages of another library in the same process). MPI must be
// initialized.
std::unique_ptr<Communicator> make_mpi_world();

}  // namespace midge::distributed
