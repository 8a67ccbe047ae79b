// Running a sweep's trials (`midge sweep` without --dry-run).
//
// Today one rank group: all ranks of the job train each trial together
// (data-parallel, as `midge train` on those ranks), trial after trial in
// expansion order; without MPI the trials run one after another in this
// process. Splitting the world into several groups that take trials
// dynamically, successive halving and the decoded-image cache are not
// built yet (docs/sweeps.md).
//
// Files: `<out>/trials/<id>/` holds each trial's run.h5, model.h5 and
// state.h5 (train/trainer.h); `<out>/sweep.h5` is the journal
// (sweep/journal.h), rewritten by rank 0 when a trial starts or ends; at
// the end rank 0 writes `<out>/summary.h5` and `summary.csv` through the
// collector and returns the trials ranked by validation accuracy.
//
// Failure isolation: a trial that throws is marked failed with its error
// and the next one starts. With several ranks per trial a failure seen by
// only some ranks would leave the others inside a collective, so there the
// failure is recorded and the job ends (as `midge train` does); a rerun
// skips it.
//
// Resume: rerunning the same command skips complete, failed and stopped
// trials and continues an interrupted one from its state.h5. A journal of
// another sweep in the same folder (other trials, base configuration or
// sweep.seed) is refused with the differences named (ConfigError).
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "distributed/communicator.h"
#include "sweep/spec.h"

namespace midge::sweep {

struct SweepPlan {
  SweepSpec spec;
  std::string base_config;  // resolved INI of the base configuration
  long long sweep_seed = 0;
  int ranks_per_trial = 1;
  std::vector<Trial> trials;
  std::vector<Config> configs;  // one per trial, resolved and validated
};

struct SweepOutcome {
  std::size_t complete = 0;
  std::size_t failed = 0;
  std::size_t stopped = 0;
  std::string journal;
  std::string summary;
  std::string ranking;  // table of the trials by validation accuracy
};

SweepOutcome run_sweep(const SweepPlan& plan, distributed::Communicator& world,
                       const std::string& out);

}  // namespace midge::sweep
