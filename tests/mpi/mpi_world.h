// The world communicator of an MPI test binary (set up by mpi_test_main.cpp).
#pragma once

#include "dist/communicator.h"

namespace midge::testing {

dist::Communicator& mpi_world();

}  // namespace midge::testing
