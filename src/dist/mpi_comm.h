// MPI backend of Communicator. Internal to src/dist: other modules get a
// Communicator& from dist::Runtime and never see MPI types.
#pragma once

#include <memory>

#include "dist/communicator.h"

namespace midge::dist {

// A communicator over a duplicate of MPI_COMM_WORLD (so midge's traffic never
// matches messages of another library in the same process). MPI must be
// initialized.
std::unique_ptr<Communicator> make_mpi_world();

}  // namespace midge::dist
