// GoogleTest main for tests that run on every rank under mpiexec.
//
// Each rank runs every test; only rank 0 prints (the other ranks' printers
// are removed), and the exit code is the maximum over ranks, so a failure on
// any rank fails the CTest test.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "core/logging.h"
#include "distributed/runtime.h"
#include "mpi/mpi_world.h"

namespace midge::testing {
namespace {
distributed::Communicator* g_world = nullptr;
}

distributed::Communicator& mpi_world() { return *g_world; }

}  // namespace midge::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  midge::distributed::Runtime runtime(&argc, &argv);
  if (!runtime.using_mpi()) {
    std::cerr << "midge_mpi_tests must run under mpiexec (no MPI launcher detected)\n";
    return 1;
  }
  midge::testing::g_world = &runtime.world();
  midge::init_logging(runtime.world().rank(), runtime.world().size(), "warn");
  if (runtime.world().rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  std::int64_t failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  runtime.world().allreduce(&failed, 1, midge::distributed::ReduceOp::kMax);
  if (failed != 0 && runtime.world().rank() == 0) {
    std::cerr << "at least one rank had failing tests\n";
  }
  runtime.finalize();
  return static_cast<int>(failed);
}
