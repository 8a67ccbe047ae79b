#include "distributed/failure.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "core/errors.h"
#include "distributed/agreement.h"

namespace midge::distributed {

int run_rank(Communicator& world, const std::function<int()>& body) {
  int code = kExitSuccess;
  try {
    return body();
  } catch (const RankFailure& e) {
    // Agreed: every rank threw this very error at the same point and
    // returns its code; MPI ends normally. Said once, by rank 0.
    if (world.rank() == 0) spdlog::error("{}", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    code = exit_code_of(e);
    spdlog::error("{}", e.what());
  } catch (...) {
    code = kExitRunFailed;
    spdlog::error("unknown exception");
  }
  if (world.size() > 1) {
    spdlog::error("rank {} failed (exit code {}); aborting all {} ranks", world.rank(), code,
                  world.size());
    world.abort(code);
  }
  return code;
}

}  // namespace midge::distributed
