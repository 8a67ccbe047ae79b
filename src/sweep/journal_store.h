// The journal (sweep.h5) across the jobs that run a sweep: whether a
// folder's journal belongs to this very sweep, the journal a run of the
// command starts from (new, or the old one with its running trials of this
// part marked interrupted), and run.h5 of trials halving stopped. Used by
// run_sweep (sweep/runner.h) under the journal's lock.
#pragma once

#include <string>

#include "sweep/journal.h"
#include "sweep/runner.h"

namespace midge::sweep {

// Throws ConfigError naming every difference when `old` (read from `path`)
// is the journal of another sweep.
void check_same_sweep(const Journal& old, const SweepPlan& plan, const std::string& path);

// A new journal for `plan`, or the one at `path` after check_same_sweep;
// trials of this part that were running when an earlier job died become
// interrupted (taken first, resumed from their state.h5). With
// plan.retry_failed, this part's failed trials become pending again, on
// their next attempt, each folder moved aside to trials/<id>.failed-N.
Journal prepared_journal(const SweepPlan& plan, const std::string& path, int world_size);

// Trials that halving ended between `before` and `after`: their run.h5
// says "stopped" too (its status attributes only).
void mark_stopped_runs(const Journal& before, const Journal& after, const std::string& out);

}  // namespace midge::sweep
