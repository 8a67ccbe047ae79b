// Running a sweep's trials (`midge sweep` without --dry-run).
//
// Rank groups: the world of R ranks is split into R/K groups of K
// consecutive ranks (Communicator::split); each trial is a data-parallel
// `midge train` run of one group writing `<out>/trials/<id>/` (run.h5,
// model.h5, state.h5; train/trainer.h). Without MPI the one group is this
// process and trials run one after another.
//
// Agreement: groups take work dynamically. A group's leader (its rank 0)
// takes the sweep's file lock (io/file_lock.h, `<out>/sweep.lock`), reads
// the journal `<out>/sweep.h5`, picks the next trial (sweep/assignment.h),
// marks it running and writes the journal back before releasing the lock;
// then it tells its group. No coordinator rank or thread: the journal is
// the shared state, and the lock makes every read-modify-write of it
// atomic, so groups finishing at once never lose each other's updates.
// The leader's messages to its group go over a control communicator, the
// failure agreement after each trial over a third one that carries nothing
// else (so a failure report can never be read as a leader's message), and
// both, like the final wait, are polled with short sleeps so that idle
// ranks leave their cores to the groups still training.
//
// Failure isolation: each trial runs on a communicator of its own, split
// from the group's for it and freed when it ends. Inside a trial every
// training step and phase boundary ends in an agreement of the group's
// ranks (distributed/agreement.h), so a failure that only some ranks see
// (a NaN loss, unreadable images, a failed model.h5 write on the leader, a
// rank failing between two trials) is raised on every rank of the group
// alike: the trial is recorded failed with the first failing rank and its
// cause, and the group takes the next trial. Only a rank that is gone or
// stuck (it never reaches an agreement within the trial's dist.timeout)
// ends the job: the others record the trial failed and abort; a rerun
// skips that trial and resumes the others.
//
// Successive halving (sweep.halving): before each rung the trainer asks
// (train::PauseQuestion); the leader records the rung score and decides
// under the lock (sweep::reach_rung), and a paused trial's folder keeps its
// state.h5 until a group promotes it.
//
// Stop on request (SIGUSR2/SIGTERM, core/stop_request.h): every group's
// trial stops at its next step boundary with its state.h5 (train/trainer.h)
// and is recorded as interrupted, not failed; no group takes another
// trial, and the journal says "interrupted".
//
// Resume: rerunning the same command skips complete, failed and stopped
// trials, goes on with paused ones and resumes interrupted ones (running
// when the job died) from their state.h5 first. A journal of another sweep
// in the same folder (other trials, base configuration or sweep.seed) is
// refused with the differences named (ConfigError).
//
// At the end world rank 0 stops trials still paused, writes
// `<out>/summary.h5` and `summary.csv` through the collector and returns
// the trials ranked by validation accuracy.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "distributed/communicator.h"
#include "sweep/assignment.h"
#include "sweep/spec.h"

namespace midge::sweep {

struct SweepPlan {
  SweepSpec spec;
  std::string base_config;  // resolved INI of the base configuration
  long long sweep_seed = 0;
  int ranks_per_trial = 1;
  bool halving = false;  // sweep.halving and its settings, from the base configuration
  long long halving_rate = 3;
  long long rung_epochs = 1;
  Part part;  // --part I/N: the trials this job runs (sweep/assignment.h)
  // --retry failed: this part's failed trials run again, their folders
  // set aside (prepared_journal, sweep/journal_store.h).
  bool retry_failed = false;
  std::vector<Trial> trials;
  std::vector<Config> configs;  // one per trial, resolved and validated
};

struct SweepOutcome {
  // Trials of this job's part.
  std::size_t complete = 0;
  std::size_t failed = 0;
  std::size_t stopped = 0;
  std::size_t left = 0;  // not ended: pending, interrupted or paused
  // Asked to stop (SIGUSR2/SIGTERM) with trials left: rerunning the same
  // command resumes them (the command exits with kExitResumable).
  bool interrupted = false;
  std::string journal;
  std::string summary;
  std::string ranking;  // configurations ranked (sweep/summary.h), for printing
  // This run of the command: wall seconds from the start of run_sweep to
  // the end of the last trial, and each group's share of it spent in trials.
  double wall_seconds = 0;
  std::vector<double> busy_share;
};

SweepOutcome run_sweep(const SweepPlan& plan, distributed::Communicator& world,
                       const std::string& out);

}  // namespace midge::sweep
