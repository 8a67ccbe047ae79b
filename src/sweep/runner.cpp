#include "sweep/runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "collect/summary.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/stop_request.h"
#include "core/text.h"
#include "distributed/agreement.h"
#include "io/file_lock.h"
#include "io/run_file.h"
#include "sweep/assignment.h"
#include "sweep/group_runner.h"
#include "sweep/journal.h"
#include "sweep/journal_store.h"
#include "sweep/summary.h"
#include "train/resume.h"
#include "train/trainer.h"
namespace midge::sweep {
namespace fs = std::filesystem;
SweepOutcome run_sweep(const SweepPlan& plan, distributed::Communicator& world,
                       const std::string& out) {
  const auto start = Clock::now();
  const bool rank0 = world.rank() == 0;
  const int k = plan.ranks_per_trial;
  if (k < 1 || world.size() % k != 0) {
    throw UsageError(
        text::format("--ranks-per-trial %d does not divide the %d ranks", k, world.size()));
  }
  SweepOutcome outcome;
  outcome.journal = (fs::path(out) / "sweep.h5").string();
  const std::string lock = (fs::path(out) / "sweep.lock").string();
  // Rank 0 checks the folder's journal and prepares it under the lock
  // (other parts' jobs may be at work); every rank learns its verdict.
  // One job per part at a time: the part's lock is held by rank 0 for the
  // whole run (the kernel drops it when the job dies).
  std::unique_ptr<io::FileLock> part_lock;
  std::exception_ptr prepare_error;
  if (rank0) {
    try {
      fs::create_directories(out);
      const std::string name =
          text::format("sweep.part-%zu-of-%zu.lock", plan.part.index, plan.part.count);
      part_lock = io::FileLock::try_lock((fs::path(out) / name).string());
      if (!part_lock) {
        throw ConfigError(out + ": another job is running " +
                          (plan.part.count > 1
                               ? text::format("part %zu/%zu of ", plan.part.index, plan.part.count)
                               : std::string()) +
                          "this sweep now (" + name + " is locked)");
      }
      io::FileLock held(lock);
      write_journal(outcome.journal, prepared_journal(plan, outcome.journal, world.size()));
    } catch (...) {
      prepare_error = std::current_exception();
    }
  }
  const double timeout = plan.configs.empty() ? 120.0 : plan.configs.front().dist.timeout;
  distributed::Agreement(world, timeout)
      .agree("preparing " + outcome.journal, false, prepare_error);
  // Collective: every rank is in its group and its group's control channel.
  const int index = world.rank() / k;
  const int groups = world.size() / k;
  std::unique_ptr<distributed::Communicator> group = world.split(index, world.rank());
  std::unique_ptr<distributed::Communicator> control = group->split(0, group->rank());
  std::unique_ptr<distributed::Communicator> agree = group->split(0, group->rank());
  world.reduce_within(0, distributed::ReduceOp::kSum,
                      distributed::Communicator::kNoTimeout);  // journal written before reads
  if (rank0) {
    std::size_t mine = 0;
    for (std::size_t i = 0; i < plan.trials.size(); ++i) mine += plan.part.has(i) ? 1 : 0;
    const std::string part =
        plan.part.count > 1
            ? text::format(" (part %zu/%zu: %zu of them)", plan.part.index, plan.part.count, mine)
            : std::string();
    log::info(text::format("sweep of %zu trials%s on %d group(s) of %d rank(s); journal %s",
                           plan.trials.size(), part.c_str(), groups, k, outcome.journal.c_str()));
    if (plan.halving && plan.part.count > 1 && mine < static_cast<std::size_t>(plan.halving_rate)) {
      log::warn(text::format(
          "part %zu/%zu has %zu trial(s), fewer than sweep.halving_rate (%lld): each part halves "
          "on its own, so none of its trials can be promoted past rung 0; use fewer parts",
          plan.part.index, plan.part.count, mine, plan.halving_rate));
    }
  }
  double busy_seconds = 0;
  // A group that cannot go on (its journal unreadable) lets the others end
  // their trials; the job then fails on every rank alike.
  std::string group_error;
  try {
    busy_seconds = run_group(plan, out, *group, *control, *agree, index, groups);
  } catch (const distributed::RankFailure& e) {
    group_error = e.what();
  }
  world.reduce_within(0, distributed::ReduceOp::kSum,
                      distributed::Communicator::kNoTimeout);  // every group is done
  const auto failed_group = world.allreduce_value<std::int64_t>(
      group_error.empty() ? world.size() : world.rank(), distributed::ReduceOp::kMin);
  if (failed_group < world.size()) {
    world.broadcast(group_error, static_cast<int>(failed_group));
    throw distributed::RankFailure(static_cast<int>(failed_group), kExitRunFailed, group_error);
  }
  // How well dynamic assignment kept the groups busy in this run of the
  // command: each group's time in trials over the sweep's wall time.
  std::vector<double> busy(static_cast<std::size_t>(groups), 0.0);
  if (group->rank() == 0) busy[static_cast<std::size_t>(index)] = busy_seconds;
  world.allreduce(busy);
  const double wall = seconds_since(start);
  outcome.wall_seconds = wall;
  for (double b : busy) outcome.busy_share.push_back(wall > 0 ? b / wall : 0);
  if (rank0) {
    std::vector<std::string> shares;
    for (double b : outcome.busy_share) shares.push_back(text::format("%.1f%%", 100 * b));
    log::info(text::format("sweep: %.1f s wall; time in trials per group: %s", wall,
                           text::join(shares, ", ").c_str()));
  }

  // Whether this job was asked to stop, alike on every rank.
  const bool stop = world.allreduce_value<std::int64_t>(stop_requested() ? 1 : 0,
                                                        distributed::ReduceOp::kMax) != 0;
  // complete, failed, stopped, left (not ended) in this part.
  std::vector<std::int64_t> counts(4, 0);
  if (rank0) {
    std::optional<io::FileLock> held(std::in_place, lock);
    const Journal before = read_journal(outcome.journal);
    Journal j = before;
    // Trials paused at a rung wait for promotions that a stopped job's
    // rerun may still make: only a sweep that ran out of work stops them.
    if (!stop) stop_paused(j, plan.part);
    // Complete once every part's trials are done (the last part's job says so).
    bool all_done = true;
    for (const auto& t : j.trials) {
      all_done = all_done && (t.state == TrialState::kComplete || t.state == TrialState::kFailed ||
                              t.state == TrialState::kStopped);
    }
    if (all_done) {
      j.status = SweepStatus::kComplete;
      j.finished = io::utc_timestamp();
    } else if (stop) {
      j.status = SweepStatus::kInterrupted;
    }
    write_journal(outcome.journal, j);
    mark_stopped_runs(before, j, out);
    for (std::size_t i = 0; i < j.trials.size(); ++i) {
      if (!plan.part.has(i)) continue;
      counts[0] += j.trials[i].state == TrialState::kComplete ? 1 : 0;
      counts[1] += j.trials[i].state == TrialState::kFailed ? 1 : 0;
      counts[2] += j.trials[i].state == TrialState::kStopped ? 1 : 0;
    }
    for (std::size_t i = 0; i < j.trials.size(); ++i) {
      if (plan.part.has(i)) ++counts[3];
    }
    counts[3] -= counts[0] + counts[1] + counts[2];
    held.reset();  // other parts' groups go on while the summary is made
    if (counts[0] > 0) {
      const collect::Collection c = collect::collect_runs({(fs::path(out) / "trials").string()});
      const SweepSummary ranked = summarize_sweep(plan.trials, c);
      // Written under the lock, so parts ending together write one at a time.
      const io::FileLock writing(lock);
      outcome.summary = (fs::path(out) / "summary.h5").string();
      collect::write_summary_h5(c, outcome.summary,
                                [&](io::H5Node& f) { write_sweep_group(ranked, f); });
      collect::write_summary_csv(c, (fs::path(out) / "summary.csv").string());
      write_ranking_csv(ranked, (fs::path(out) / "ranking.csv").string());
      outcome.ranking = ranking_text(ranked);
    }
  }
  world.broadcast(counts.data(), counts.size(), 0);
  outcome.complete = static_cast<std::size_t>(counts[0]);
  outcome.failed = static_cast<std::size_t>(counts[1]);
  outcome.stopped = static_cast<std::size_t>(counts[2]);
  outcome.left = static_cast<std::size_t>(counts[3]);
  outcome.interrupted = stop && outcome.left > 0;
  return outcome;
}

}  // namespace midge::sweep
