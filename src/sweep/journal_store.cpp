#include "sweep/journal_store.h"

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

// Failed trials of this part start again from scratch: the failed
// attempt's folder is kept beside as <id>.failed-N (N its attempt), so
// nothing it wrote is lost, and its error stays in the journal.
void retry_failed_trials(const SweepPlan& plan, const fs::path& out, Journal* j) {
  std::vector<std::string> retried;
  for (std::size_t i = 0; i < j->trials.size(); ++i) {
    TrialRecord& t = j->trials[i];
    if (!plan.part.has(i) || t.state != TrialState::kFailed) continue;
    const fs::path folder = out / "trials" / t.id;
    const fs::path aside = out / "trials" / (t.id + ".failed-" + std::to_string(t.attempt));
    std::error_code ec;
    if (fs::exists(folder, ec)) {
      if (fs::exists(aside, ec)) {
        throw IoError("cannot set aside " + folder.string() + ": " + aside.string() +
                      " exists already");
      }
      fs::rename(folder, aside, ec);
      if (ec) {
        throw IoError("cannot move " + folder.string() + " to " + aside.string() + ": " +
                      ec.message());
      }
    }
    TrialRecord again;
    again.id = t.id;
    again.slug = t.slug;
    again.attempt = t.attempt + 1;
    again.earlier_errors = t.earlier_errors + (t.earlier_errors.empty() ? "" : "\n") + "attempt " +
                           std::to_string(t.attempt) + ": " + t.error;
    t = again;
    retried.push_back(text::format("%zu", i + 1));
  }
  log::info(retried.empty()
                ? std::string("--retry failed: no failed trial to run again")
                : text::format("--retry failed: trial(s) %s run again (earlier attempts kept as "
                               "trials/<id>.failed-N)",
                               text::join(retried, ", ").c_str()));
}

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
    if (j.trials[i].state == TrialState::kRunning) others.push_back(std::to_string(i + 1));
  }
  if (!others.empty() && j.parts != static_cast<std::int64_t>(plan.part.count)) {
    throw ConfigError(text::format(
        "%s: trial(s) %s are running in jobs that split this sweep into %lld part(s); run it "
        "with --part I/%lld like them (if those jobs are gone, run each part once to finish)",
        path.c_str(), text::join(others, ", ").c_str(), static_cast<long long>(j.parts),
        static_cast<long long>(j.parts)));
  }
  for (std::size_t i = 0; i < j.trials.size(); ++i) {
    if (plan.part.has(i) && j.trials[i].state == TrialState::kRunning)
      j.trials[i].state = TrialState::kInterrupted;
  }
  if (plan.retry_failed) retry_failed_trials(plan, fs::path(path).parent_path(), &j);
  j.parts = static_cast<std::int64_t>(plan.part.count);
  j.world_size = world_size;
  j.ranks_per_trial = plan.ranks_per_trial;
  j.status = SweepStatus::kRunning;
  return j;
}

// Trials that halving ended: their run.h5 says so too.
void mark_stopped_runs(const Journal& before, const Journal& after, const std::string& out) {
  for (std::size_t i = 0; i < after.trials.size(); ++i) {
    if (after.trials[i].state != TrialState::kStopped ||
        before.trials[i].state == TrialState::kStopped)
      continue;
    const std::string run = (fs::path(out) / "trials" / after.trials[i].id / "run.h5").string();
    if (!fs::exists(run)) continue;
    io::set_run_status(run, io::RunStatus::kStopped, io::utc_timestamp());
  }
}

}  // namespace midge::sweep
