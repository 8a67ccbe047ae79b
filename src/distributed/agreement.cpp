#include "distributed/agreement.h"

#include <cstdio>

namespace midge::distributed {
namespace {

// The message and exit code of a caught exception.
std::pair<std::string, int> describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return {e.what(), exit_code_of(e)};
  } catch (...) {
    return {"unknown exception", kExitRunFailed};
  }
}

}  // namespace

Verdict Agreement::agree(const std::string& where, bool stop, const std::exception_ptr& error,
                         std::int64_t bad_images) {
  Verdict v;
  if (comm_.size() == 1) {
    if (error) std::rethrow_exception(error);
    v.stop = stop;
    v.bad_images = bad_images;
    return v;
  }
  std::int64_t sums[3] = {stop ? 1 : 0, error ? 1 : 0, bad_images};
  if (!comm_.reduce_span_within(sums, 3, ReduceOp::kSum, timeout_)) {
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.0f", timeout_);
    throw PeerLost("rank " + std::to_string(comm_.rank()) + ": not every rank of " +
                   std::to_string(comm_.size()) + " reached the agreement at " + where +
                   " within " + seconds +
                   " s (dist.timeout): a rank is gone or stuck; ending the job");
  }
  v.stop = sums[0] > 0;
  v.bad_images = sums[2];
  if (sums[1] == 0) return v;
  // Every rank is here (the sums arrived), so blocking collectives are safe.
  const std::int64_t first =
      comm_.allreduce_value<std::int64_t>(error ? comm_.rank() : comm_.size(), ReduceOp::kMin);
  std::string message;
  std::int64_t code = kExitRunFailed;
  if (error) std::tie(message, code) = describe(error);
  const int root = static_cast<int>(first);
  comm_.broadcast(message, root);
  comm_.broadcast(&code, 1, root);
  const std::string others =
      sums[1] > 1 ? " (and " + std::to_string(sums[1] - 1) + " other rank(s))" : std::string();
  throw RankFailure(
      root, static_cast<int>(code),
      "rank " + std::to_string(root) + others + " failed at " + where + ": " + message);
}

}  // namespace midge::distributed
