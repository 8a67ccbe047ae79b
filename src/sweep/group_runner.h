// One rank group's part of a sweep (sweep/runner.h): the group loop. Its
// leader takes trials from the journal under the lock and tells the group;
// each trial runs on a communicator of its own through train::train_run;
// successive halving's rung questions are answered under the lock; the
// outcome (complete, failed with the first failing rank, paused,
// interrupted) goes into the journal with a progress line and an ETA.
#pragma once

#include <cstdint>
#include <string>

#include "distributed/communicator.h"
#include "sweep/runner.h"

namespace midge::sweep {

// Runs trials on `group` until none is left for it or a stop is agreed;
// returns the seconds the group spent in trials. `control` carries the
// leader's messages, `agree` only each trial's failure agreement (both
// split from `group`). Throws distributed::RankFailure on every rank of
// the group when its leader cannot use the journal.
double run_group(const SweepPlan& plan, const std::string& out, distributed::Communicator& group,
                 distributed::Communicator& control, distributed::Communicator& agree,
                 std::int64_t index, std::int64_t groups);

}  // namespace midge::sweep
