// A job in which one rank fails while the others wait in a collective that
// can never complete: the shape of a real crash mid-epoch. Used by
// rank_failure.sh to check that the whole job ends quickly and says which
// rank failed and why.
//
// usage: midge_rank_failure_probe FAIL_RANK [throw|kill]
//   throw: the rank throws (an error midge reports);
//   kill:  the rank dies by SIGKILL (out-of-memory killer, node failure).
#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/logging.h"
#include "distributed/failure.h"
#include "distributed/runtime.h"

int main(int argc, char** argv) {
  const int fail_rank = argc > 1 ? std::atoi(argv[1]) : 1;
  const std::string mode = argc > 2 ? argv[2] : "throw";
  midge::distributed::Runtime runtime(&argc, &argv);
  auto& world = runtime.world();
  midge::init_logging(world.rank(), world.size(), "info");
  const int code = midge::distributed::run_rank(world, [&]() -> int {
    world.barrier();
    if (world.rank() == fail_rank && mode == "kill") std::raise(SIGKILL);
    if (world.rank() == fail_rank) {
      throw midge::DataError("probe: corrupt image batch on rank " + std::to_string(fail_rank));
    }
    std::vector<float> grads(1024, 1.0f);
    world.allreduce(grads);  // never completes: fail_rank does not join
    return 0;
  });
  runtime.finalize();
  return code;
}
