// The world communicator of an MPI test binary (set up by mpi_test_main.cpp).
#pragma once

#include "distributed/communicator.h"

namespace midge::testing {

distributed::Communicator& mpi_world();

}  // namespace midge::testing
