#include "sweep/runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <thread>

#include "collect/summary.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/stop_request.h"
#include "core/text.h"
#include "io/file_lock.h"
#include "io/run_file.h"
#include "sweep/assignment.h"
#include "sweep/journal.h"
#include "sweep/summary.h"
#include "train/resume.h"
#include "train/trainer.h"

namespace midge::sweep {
namespace fs = std::filesystem;
namespace {

constexpr double kForever = std::numeric_limits<double>::infinity();
// Answers of a group leader that are not a trial index.
constexpr std::int64_t kNothingLeft = -1;
constexpr std::int64_t kWaitForOthers = -2;
// A rank's answer in the failure agreement when its trial did not fail.
constexpr std::int64_t kNoFailure = std::numeric_limits<std::int64_t>::max();
// How often a group with nothing to do looks at the journal again.
constexpr auto kJournalPoll = std::chrono::milliseconds(500);

// The journal of a previous run in the same folder must describe this very
// sweep; every difference is named.
void check_same_sweep(const Journal& old, const SweepPlan& plan, const std::string& path) {
  // The base configuration holds sweep.seed too, so one comparison covers both.
  std::vector<std::string> diffs;
  if (old.base_config != plan.base_config) {
    // What `midge train` may change on resume (threads, loader, cache) may
    // change between runs of a sweep too.
    diffs = config_differences(resolve_config_text(old.base_config, path, {}),
                               resolve_config_text(plan.base_config, "this sweep", {}),
                               train::key_may_change_on_resume);
  }
  std::vector<std::string> before;
  std::vector<std::string> now;
  for (const auto& t : old.trials) before.push_back(t.slug);
  for (const auto& t : plan.trials) now.push_back(t.slug);
  if (before != now) {
    std::vector<std::string> gone;
    std::vector<std::string> added;
    for (const auto& s : before)
      if (std::find(now.begin(), now.end(), s) == now.end()) gone.push_back(s);
    for (const auto& s : now)
      if (std::find(before.begin(), before.end(), s) == before.end()) added.push_back(s);
    std::string d = "trials (";
    if (!gone.empty()) d += "only in the journal: " + text::join(gone, "; ");
    if (!added.empty())
      d += std::string(gone.empty() ? "" : "; ") + "only in this spec: " + text::join(added, "; ");
    if (gone.empty() && added.empty()) d += "the same trials in another order";
    diffs.push_back(d + ")");
  }
  if (!diffs.empty()) {
    throw ConfigError(path + " belongs to another sweep: " + text::join(diffs, ", ") +
                      "; use another --out");
  }
}

// One rank group's view of the sweep.
class GroupRunner {
 public:
  GroupRunner(const SweepPlan& plan, std::string out, distributed::Communicator& group,
              distributed::Communicator& control, distributed::Communicator& agree,
              std::int64_t index, std::int64_t groups)
      : plan_(plan),
        out_(std::move(out)),
        journal_((fs::path(out_) / "sweep.h5").string()),
        lock_((fs::path(out_) / "sweep.lock").string()),
        group_(group),
        control_(control),
        agree_(agree),
        index_(index),
        groups_(groups) {}

  // Seconds this group spent in trials (training, pausing, agreeing).
  double busy_seconds() const { return busy_; }

  // Takes trials until none is left.
  void run() {
    for (;;) {
      // Asked to stop (core/stop_request.h): decided by the whole group, as
      // a signal may reach some of its ranks only; the rerun of the job
      // takes up what is left.
      if (group_.allreduce_value<std::int64_t>(stop_requested() ? 1 : 0,
                                               distributed::ReduceOp::kMax) != 0) {
        return;
      }
      std::int64_t pick = kNothingLeft;
      if (leader()) pick = next_trial();
      pick = tell_group(pick);
      if (pick == kNothingLeft) return;
      if (pick == kWaitForOthers) {
        if (leader()) std::this_thread::sleep_for(kJournalPoll);
        continue;
      }
      const auto t0 = Clock::now();
      run_trial(static_cast<std::size_t>(pick));
      busy_ += seconds_since(t0);
    }
  }

 private:
  bool leader() const { return group_.rank() == 0; }

  // The leader's value, on every rank of the group. Polled: ranks waiting
  // for their leader sleep instead of spinning in MPI.
  std::int64_t tell_group(std::int64_t value) {
    return control_.reduce_within(leader() ? value : 0, distributed::ReduceOp::kSum, kForever)
        .value_or(0);
  }

  // Reads the journal under the lock, lets `change` edit it and writes it
  // back when `change` says it changed something.
  template <class F>
  auto edit_journal(F&& change) {
    io::FileLock lock(lock_);
    Journal j = read_journal(journal_);
    bool changed = true;
    auto result = change(j, &changed);
    if (changed) write_journal(journal_, j);
    return result;
  }

  std::int64_t next_trial() {
    return edit_journal([&](Journal& j, bool* changed) -> std::int64_t {
      const Assignment a = next_assignment(j, plan_.part);
      if (a.action != Action::kRun) {
        *changed = false;
        return a.action == Action::kWait ? kWaitForOthers : kNothingLeft;
      }
      const TrialRecord& t = j.trials[a.trial];
      const char* how = t.state == "paused"  ? "promoted from rung"
                        : !t.started.empty() ? "resuming"
                                             : "starting";
      const std::string rung =
          t.state == "paused" ? " " + std::to_string(t.promoted) : std::string();
      log::info(text::format("trial %zu/%zu %s (%s) on group %lld: %s%s", a.trial + 1,
                             j.trials.size(), t.id.c_str(), t.slug.c_str(),
                             static_cast<long long>(index_), how, rung.c_str()));
      take(j, a.trial, index_, io::utc_timestamp());
      return static_cast<std::int64_t>(a.trial);
    });
  }

  // Successive halving at the start of a stage-2 epoch (train::PauseQuestion).
  bool pause_at(std::size_t trial, const train::PausePoint& p) {
    if (!plan_.halving) return false;
    const std::int64_t rung = rung_at(p.epoch, plan_.rung_epochs);
    if (rung < 0) return false;
    std::int64_t pause = 0;
    if (leader()) {
      pause = edit_journal([&](Journal& j, bool*) -> std::int64_t {
        const bool goes_on = reach_rung(j, trial, rung, p.val_acc, p.val_loss, plan_.part);
        TrialRecord& t = j.trials[trial];
        // Held as running until its state.h5 is written (train_run
        // returns), so no other group takes it up half saved.
        t.state = "running";
        log::info(text::format(
            "trial %zu/%zu %s at rung %lld: val acc %.3f, loss %.4f; %s", trial + 1,
            j.trials.size(), t.slug.c_str(), static_cast<long long>(rung),
            t.rung_accuracy[static_cast<std::size_t>(rung)],
            t.rung_loss[static_cast<std::size_t>(rung)], goes_on ? "goes on" : "paused"));
        return goes_on ? 0 : 1;
      });
    }
    return tell_group(pause) != 0;
  }

  void run_trial(std::size_t trial) {
    const Trial& spec = plan_.trials[trial];
    const std::string folder = (fs::path(out_) / "trials" / spec.id).string();
    const auto t0 = Clock::now();
    train::TrainOutcome r;
    std::string error;
    bool failed = false;
    try {
      train::TrainOptions options;
      options.pause_before = [&](const train::PausePoint& p) { return pause_at(trial, p); };
      options.cache_dir = (fs::path(out_) / "cache").string();
      r = train::train_run(plan_.configs[trial], group_, folder, options);
    } catch (const std::exception& e) {
      failed = true;
      error = e.what();
    }
    // Did the trial fail on any rank of the group, and which is the first?
    // A rank that failed waits only so long: its peers may be stuck in a
    // collective it left, or waiting for a leader's message it will not send.
    const std::int64_t mine = failed ? group_.rank() : kNoFailure;
    const std::optional<std::int64_t> first = agree_.reduce_within(
        mine, distributed::ReduceOp::kMin, failed ? kTrialAgreementSeconds : kForever);
    if (!first) {
      error = text::format("rank %d of group %lld: %s", group_.rank(),
                           static_cast<long long>(index_), error.c_str());
      record(trial, seconds_since(t0), r, error);
      throw DistError("trial " + spec.id + " (" + spec.slug +
                      ") failed on some ranks of its group while the others did not report "
                      "within " +
                      text::format("%.0f", kTrialAgreementSeconds) +
                      " s (stuck in a collective); ending the job: " + error);
    }
    if (*first != kNoFailure) {
      const int root = static_cast<int>(*first);
      agree_.broadcast(error, root);
      if (group_.size() > 1) error = text::format("rank %d: %s", root, error.c_str());
      failed = true;
    }
    if (leader()) record(trial, seconds_since(t0), r, failed ? error : std::string());
  }

  // The trial's outcome into the journal, and the progress line.
  void record(std::size_t trial, double seconds, const train::TrainOutcome& r,
              const std::string& error) {
    edit_journal([&](Journal& j, bool*) {
      TrialRecord& t = j.trials[trial];
      t.seconds += seconds;
      std::string result;
      if (!error.empty()) {
        t.state = "failed";
        t.error = error;
        t.finished = io::utc_timestamp();
        result = "FAILED: " + error;
      } else if (r.paused) {
        t.state = "paused";
        result = text::format("paused at rung %lld", static_cast<long long>(t.rung));
      } else if (r.interrupted) {
        // Not failed: a rerun resumes it from its state.h5, first of all.
        t.state = "interrupted";
        result = std::string("interrupted by ") +
                 (stop_signal_name()[0] != '\0' ? stop_signal_name() : "request") +
                 ", resumes when the sweep is rerun";
      } else {
        t.state = "complete";
        t.accuracy = r.accuracy;
        t.balanced_accuracy = r.balanced_accuracy;
        t.finished = io::utc_timestamp();
        result = text::format("val acc %.3f", r.accuracy);
      }
      log::info(progress_line(j, trial, result));
      return 0;
    });
  }

  std::string progress_line(const Journal& j, std::size_t trial, const std::string& result) const {
    std::size_t complete = 0;
    std::size_t failed = 0;
    std::size_t stopped = 0;
    std::size_t to_go = 0;
    double spent = 0;
    std::size_t mine = 0;
    for (std::size_t i = 0; i < j.trials.size(); ++i) {
      if (!plan_.part.has(i)) continue;  // counts and ETA of this job's part
      const TrialRecord& t = j.trials[i];
      ++mine;
      complete += t.state == "complete" ? 1 : 0;
      failed += t.state == "failed" ? 1 : 0;
      stopped += t.state == "stopped" ? 1 : 0;
      if (t.state == "complete" || t.state == "failed") spent += t.seconds;
    }
    to_go = mine - complete - failed - stopped;
    const std::size_t ended = complete + failed;
    // Trials left, at the mean length of the ended ones, shared by the groups.
    const std::string eta =
        ended == 0 ? std::string("unknown")
                   : duration_text(spent / static_cast<double>(ended) * static_cast<double>(to_go) /
                                   static_cast<double>(groups_));
    const TrialRecord& t = j.trials[trial];
    return text::format(
        "trial %zu/%zu %s on group %lld: %s, %s; %zu complete, %zu failed, %zu to go, ETA %s",
        trial + 1, j.trials.size(), t.slug.c_str(), static_cast<long long>(index_), result.c_str(),
        duration_text(t.seconds).c_str(), complete, failed, to_go, eta.c_str());
  }

  const SweepPlan& plan_;
  std::string out_;
  std::string journal_;
  std::string lock_;
  distributed::Communicator& group_;
  distributed::Communicator& control_;  // the leader's messages to its group
  distributed::Communicator& agree_;    // the outcome of each trial, nothing else
  std::int64_t index_;
  std::int64_t groups_;
  double busy_ = 0;
};

// A new journal for `plan`, or the one in the folder after checking that it
// belongs to this very sweep; trials of this part that were running when an
// earlier job died become interrupted (taken first, resumed from their
// state.h5). Called under the journal's lock: jobs of other parts may be
// writing it.
Journal prepared_journal(const SweepPlan& plan, const std::string& path, int world_size) {
  Journal j;
  if (fs::exists(path)) {
    j = read_journal(path);
    check_same_sweep(j, plan, path);
  } else {
    j.spec_path = plan.spec.path;
    j.spec_text = plan.spec.text;
    j.base_config = plan.base_config;
    j.sweep_seed = plan.sweep_seed;
    j.started = io::utc_timestamp();
    for (const auto& t : plan.trials) {
      TrialRecord r;
      r.id = t.id;
      r.slug = t.slug;
      j.trials.push_back(r);
    }
  }
  j.rungs = 0;
  j.halving_rate = 0;
  if (plan.halving) {
    for (const auto& c : plan.configs) {
      j.rungs = std::max(j.rungs, rungs_of(c.stage2.epochs, plan.rung_epochs));
    }
    j.halving_rate = plan.halving_rate;
  }
  // Running trials of a sweep cut into another number of parts belong to
  // jobs that may still run (the part locks of one cut cannot see another):
  // taking a share cut differently could train some twice.
  std::vector<std::string> others;
  for (std::size_t i = 0; i < j.trials.size(); ++i) {
    if (j.trials[i].state == "running") others.push_back(std::to_string(i + 1));
  }
  if (!others.empty() && j.parts != static_cast<std::int64_t>(plan.part.count)) {
    throw ConfigError(text::format(
        "%s: trial(s) %s are running in jobs that split this sweep into %lld part(s); run it "
        "with --part I/%lld like them (if those jobs are gone, run each part once to finish)",
        path.c_str(), text::join(others, ", ").c_str(), static_cast<long long>(j.parts),
        static_cast<long long>(j.parts)));
  }
  for (std::size_t i = 0; i < j.trials.size(); ++i) {
    if (plan.part.has(i) && j.trials[i].state == "running") j.trials[i].state = "interrupted";
  }
  j.parts = static_cast<std::int64_t>(plan.part.count);
  j.world_size = world_size;
  j.ranks_per_trial = plan.ranks_per_trial;
  j.status = "running";
  return j;
}

// Trials that halving ended: their run.h5 says so too.
void mark_stopped_runs(const Journal& before, const Journal& after, const std::string& out) {
  for (std::size_t i = 0; i < after.trials.size(); ++i) {
    if (after.trials[i].state != "stopped" || before.trials[i].state == "stopped") continue;
    const std::string run = (fs::path(out) / "trials" / after.trials[i].id / "run.h5").string();
    if (!fs::exists(run)) continue;
    io::RunRecord rec = io::read_run_file(run);
    rec.status = "stopped";
    rec.finished = io::utc_timestamp();
    io::write_run_file(run, rec);
  }
}

}  // namespace

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
  // Every rank checks the folder's journal (the same verdict everywhere);
  // rank 0 prepares it under the lock (other parts' jobs may be at work).
  if (fs::exists(outcome.journal)) {
    check_same_sweep(read_journal(outcome.journal), plan, outcome.journal);
  }
  // One job per part at a time: held by rank 0 for the whole run (the
  // kernel drops it when the job dies).
  std::unique_ptr<io::FileLock> part_lock;
  if (rank0) {
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
  }
  // Collective: every rank is in its group and its group's control channel.
  const int index = world.rank() / k;
  const int groups = world.size() / k;
  std::unique_ptr<distributed::Communicator> group = world.split(index, world.rank());
  std::unique_ptr<distributed::Communicator> control = group->split(0, group->rank());
  std::unique_ptr<distributed::Communicator> agree = group->split(0, group->rank());
  world.reduce_within(0, distributed::ReduceOp::kSum, kForever);  // journal written before reads
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
  GroupRunner runner(plan, out, *group, *control, *agree, index, groups);
  runner.run();
  world.reduce_within(0, distributed::ReduceOp::kSum, kForever);  // every group is done
  // How well dynamic assignment kept the groups busy in this run of the
  // command: each group's time in trials over the sweep's wall time.
  std::vector<double> busy(static_cast<std::size_t>(groups), 0.0);
  if (group->rank() == 0) busy[static_cast<std::size_t>(index)] = runner.busy_seconds();
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
      all_done = all_done && (t.state == "complete" || t.state == "failed" || t.state == "stopped");
    }
    if (all_done) {
      j.status = "complete";
      j.finished = io::utc_timestamp();
    } else if (stop) {
      j.status = "interrupted";
    }
    write_journal(outcome.journal, j);
    mark_stopped_runs(before, j, out);
    for (std::size_t i = 0; i < j.trials.size(); ++i) {
      if (!plan.part.has(i)) continue;
      counts[0] += j.trials[i].state == "complete" ? 1 : 0;
      counts[1] += j.trials[i].state == "failed" ? 1 : 0;
      counts[2] += j.trials[i].state == "stopped" ? 1 : 0;
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
