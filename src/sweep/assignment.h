// Which trial a free rank group takes next, and successive halving's
// decision when a trial reaches a rung: pure functions over the journal,
// called by a group leader while it holds the sweep's lock
// (sweep/runner.cpp), so every decision is made on the journal's latest
// state and written back before anyone else decides.
//
// Order of preference for a free group:
//   1. an interrupted trial (it was running when its job died), in
//      expansion order; it resumes from its state.h5;
//   2. with halving, a paused trial that may be promoted, from the highest
//      rung down (asynchronous successive halving, ASHA: Li et al. 2020);
//   3. the next pending trial in expansion order;
//   4. nothing now, but trials are running elsewhere: wait (they may make
//      a paused trial promotable);
//   5. nothing left: the sweep is over, and trials still paused are stopped.
//
// Rung k of a trial is reached before stage-2 epoch k * sweep.rung_epochs
// (k = 0: at the end of stage 1). A trial paused at rung k may be promoted
// when it is among the best floor(n / rate) of the n trials whose score at
// rung k is known, by validation accuracy, ties by lower loss, then by
// expansion order. Promotion never waits for a rung to fill; a trial that
// is never promoted is stopped when the sweep ends. Because decisions are
// functions of the journal alone, a killed sweep resumed from its journal
// makes the decisions the uninterrupted one would have made when trials
// arrive in the same order (always so with one group).
#pragma once

#include <cstddef>
#include <cstdint>

#include "sweep/journal.h"

namespace midge::sweep {

enum class Action { kRun, kWait, kDone };

// The share of a sweep one job runs (`midge sweep --part I/N`, Slurm job
// arrays): trials whose index modulo N is I. A part is a sweep of its own
// for assignment and halving; the default part is the whole sweep.
struct Part {
  std::size_t index = 0;
  std::size_t count = 1;
  bool has(std::size_t trial) const { return trial % count == index; }
};

struct Assignment {
  Action action = Action::kDone;
  std::size_t trial = 0;  // with kRun
};

// Successive-halving rungs of a run with `stage2_epochs` epochs in stage 2
// (the end of stage 2 is the finish, not a rung).
std::int64_t rungs_of(long long stage2_epochs, long long rung_epochs);

// The rung reached before stage-2 epoch `epoch` (0-based), or -1 if that
// point is no rung.
std::int64_t rung_at(std::int64_t epoch, long long rung_epochs);

// What a free group of `part` should do; does not change the journal.
Assignment next_assignment(const Journal& journal, const Part& part = {});

// Marks `trial` running on `group` (start time set if it never started).
void take(Journal& journal, std::size_t trial, std::int64_t group, const std::string& now);

// Trial `trial` reached rung `rung` with these validation metrics: records
// the score (kept if already known, as on a resumed run) and returns
// whether it goes on now. It goes on without a new decision when it was
// promoted past this rung before; otherwise it is paused, and goes on only
// if it is the paused trial a free group would promote first (then it is
// promoted); interrupted and pending trials do not hold it back.
bool reach_rung(Journal& journal, std::size_t trial, std::int64_t rung, double accuracy,
                double loss, const Part& part = {});

// End of the sweep (of `part`): paused trials become stopped (at their rung).
void stop_paused(Journal& journal, const Part& part = {});

}  // namespace midge::sweep
