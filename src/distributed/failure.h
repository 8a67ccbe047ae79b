// How a failure on one rank ends the job: never with a hang.
//
// A failure the ranks agreed on (RankFailure, distributed/agreement.h) is
// raised on every rank alike: each returns its exit code and MPI finishes
// normally, no abort.
//
// run_rank() runs a command body for this rank. An exception is logged on
// the rank that caught it (the log line carries the rank tag and the error
// names what failed) and mapped to an exit code (2 usage, 1 run failed). In a
// world of several ranks the failing rank then calls abort on the world, so
// ranks blocked in a collective are torn down within seconds instead of
// waiting forever for a peer that will never arrive.
#pragma once

#include <functional>

#include "distributed/communicator.h"

namespace midge::distributed {

// Returns body()'s exit code, or the failure's code when size() == 1 or
// the failure was agreed; otherwise, with more ranks, a failure aborts the
// job and does not return.
int run_rank(Communicator& world, const std::function<int()>& body);

}  // namespace midge::distributed
