#include "distributed/failure.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "core/errors.h"

namespace midge::distributed {

int run_rank(Communicator& world, const std::function<int()>& body) {
  int code = kExitSuccess;
  try {
    return body();
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
