#include "sweep/group_runner.h"

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
#include "core/fault.h"
#include "core/log.h"
#include "core/stop_request.h"
#include "core/text.h"
#include "distributed/agreement.h"
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

// Answers of a group leader that are not a trial index.
constexpr std::int64_t kNothingLeft = -1;
constexpr std::int64_t kWaitForOthers = -2;
constexpr std::int64_t kLeaderFailed = -3;
// A rank's answer in the failure agreement when its trial did not fail.
constexpr std::int64_t kNoFailure = std::numeric_limits<std::int64_t>::max();
// How often a group with nothing to do looks at the journal again.
constexpr auto kJournalPoll = std::chrono::milliseconds(500);

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
      std::string error;
      if (leader()) {
        try {
          pick = next_trial();
        } catch (const std::exception& e) {
          pick = kLeaderFailed;
          error = e.what();
        }
      }
      pick = tell_group(pick);
      if (pick == kLeaderFailed) {
        // The journal cannot be read or written: every rank of the group
        // stops alike (run_sweep lets the other groups finish first).
        control_.broadcast(error, 0);
        throw distributed::RankFailure(
            0, kExitRunFailed,
            text::format("group %lld could not take a trial from %s: %s",
                         static_cast<long long>(index_), journal_.c_str(), error.c_str()));
      }
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
    return control_
        .reduce_within(leader() ? value : 0, distributed::ReduceOp::kSum,
                       distributed::Communicator::kNoTimeout)
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
      const char* how = t.state == TrialState::kPaused ? "promoted from rung"
                        : !t.started.empty()           ? "resuming"
                                                       : "starting";
      const std::string rung =
          t.state == TrialState::kPaused ? " " + std::to_string(t.promoted) : std::string();
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
        t.state = TrialState::kRunning;
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
    const double timeout = plan_.configs[trial].dist.timeout;
    const auto t0 = Clock::now();
    train::TrainOutcome r;
    std::string error;
    bool failed = false;
    bool lost = false;
    {
      // The trial's own communicator: whatever a failed trial leaves on it
      // (a reduction another rank never joined) dies with it, and the next
      // trial starts on a fresh one. Freed below, after the group's agreement.
      std::unique_ptr<distributed::Communicator> comm = group_.split(0, group_.rank());
      try {
        // Between taking the trial and training it: agreed, so a rank that
        // fails here fails the trial on every rank of the group.
        std::exception_ptr start_error;
        try {
          if (fault::fault_here("between_trials")) {
            throw TrainError(fault::fault_message("between_trials"));
          }
        } catch (...) {
          start_error = std::current_exception();
        }
        distributed::Agreement(*comm, timeout)
            .agree("the start of trial " + spec.id, false, start_error);
        train::TrainOptions options;
        options.pause_before = [&](const train::PausePoint& p) { return pause_at(trial, p); };
        options.cache_dir = (fs::path(out_) / "cache").string();
        r = train::train_run(plan_.configs[trial], *comm, folder, options);
      } catch (const distributed::PeerLost& e) {
        failed = true;
        lost = true;
        error = e.what();
      } catch (const std::exception& e) {
        failed = true;
        error = e.what();
      }
      if (lost) {
        // A rank of the group is gone or stuck: it will not join any
        // agreement, so the trial is recorded failed here and the job ends
        // (a rerun skips the trial and resumes the others).
        error = text::format("group %lld: %s", static_cast<long long>(index_), error.c_str());
        record(trial, seconds_since(t0), r, error);
        throw DistError("trial " + spec.id + " (" + spec.slug + "): " + error);
      }
    }
    // Did the trial fail on any rank of the group, and which is the first?
    // Agreed failures (distributed/agreement.h) reach every rank at once; a
    // rank that failed elsewhere waits only dist.timeout: its peers may be
    // stuck in a collective it left, or waiting for a leader's message.
    const std::int64_t mine = failed ? group_.rank() : kNoFailure;
    const std::optional<std::int64_t> first =
        agree_.reduce_within(mine, distributed::ReduceOp::kMin,
                             failed ? timeout : distributed::Communicator::kNoTimeout);
    if (!first) {
      error = text::format("rank %d of group %lld: %s", group_.rank(),
                           static_cast<long long>(index_), error.c_str());
      record(trial, seconds_since(t0), r, error);
      throw DistError("trial " + spec.id + " (" + spec.slug +
                      ") failed on some ranks of its group while the others did not report "
                      "within " +
                      text::format("%.0f", timeout) +
                      " s (dist.timeout; stuck in a collective); ending the job: " + error);
    }
    if (*first != kNoFailure) {
      const int root = static_cast<int>(*first);
      agree_.broadcast(error, root);
      // An agreed failure names its rank already.
      if (group_.size() > 1 && error.rfind("rank ", 0) != 0) {
        error = text::format("rank %d: %s", root, error.c_str());
      }
      failed = true;
    }
    if (leader()) record(trial, seconds_since(t0), r, failed ? error : std::string());
  }

  // The trial's outcome into the journal, and the progress line.
  void record(std::size_t trial, double seconds, const train::TrainOutcome& r,
              const std::string& error) {
    edit_journal([&](Journal& j, bool*) {
      TrialRecord& t = j.trials[trial];
      if (t.state == TrialState::kFailed) return 0;  // another rank of the group recorded it
      t.seconds += seconds;
      std::string result;
      if (!error.empty()) {
        t.state = TrialState::kFailed;
        t.error = error;
        t.finished = io::utc_timestamp();
        result = "FAILED: " + error;
      } else if (r.paused) {
        t.state = TrialState::kPaused;
        result = text::format("paused at rung %lld", static_cast<long long>(t.rung));
      } else if (r.interrupted) {
        // Not failed: a rerun resumes it from its state.h5, first of all.
        t.state = TrialState::kInterrupted;
        result = std::string("interrupted by ") +
                 (stop_signal_name()[0] != '\0' ? stop_signal_name() : "request") +
                 ", resumes when the sweep is rerun";
      } else {
        t.state = TrialState::kComplete;
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
      complete += t.state == TrialState::kComplete ? 1 : 0;
      failed += t.state == TrialState::kFailed ? 1 : 0;
      stopped += t.state == TrialState::kStopped ? 1 : 0;
      if (t.state == TrialState::kComplete || t.state == TrialState::kFailed) spent += t.seconds;
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

}  // namespace

double run_group(const SweepPlan& plan, const std::string& out, distributed::Communicator& group,
                 distributed::Communicator& control, distributed::Communicator& agree,
                 std::int64_t index, std::int64_t groups) {
  GroupRunner runner(plan, out, group, control, agree, index, groups);
  runner.run();
  return runner.busy_seconds();
}

}  // namespace midge::sweep
