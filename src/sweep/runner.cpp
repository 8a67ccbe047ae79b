#include "sweep/runner.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "collect/summary.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/table.h"
#include "core/text.h"
#include "io/run_file.h"
#include "sweep/journal.h"
#include "train/trainer.h"

namespace midge::sweep {
namespace fs = std::filesystem;
namespace {

bool finished_state(const std::string& state) {
  return state == "complete" || state == "failed" || state == "stopped";
}

// The journal of a previous run in the same folder must describe this very
// sweep; every difference is named.
void check_same_sweep(const Journal& old, const SweepPlan& plan, const std::string& path) {
  // The base configuration holds sweep.seed too, so one comparison covers both.
  std::vector<std::string> diffs;
  if (old.base_config != plan.base_config) {
    diffs = config_differences(resolve_config_text(old.base_config, path, {}),
                               resolve_config_text(plan.base_config, "this sweep", {}));
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

std::string ranking_table(const Journal& j) {
  std::vector<const TrialRecord*> done;
  for (const auto& t : j.trials)
    if (t.state == "complete") done.push_back(&t);
  std::stable_sort(done.begin(), done.end(), [](const TrialRecord* a, const TrialRecord* b) {
    return a->accuracy > b->accuracy;
  });
  TextTable table(
      {{"rank"}, {"accuracy", 8}, {"balanced", 8}, {"id", 12, true}, {"parameters", 0, true}});
  for (std::size_t i = 0; i < done.size(); ++i) {
    table.add_row({std::to_string(i + 1), text::format("%.4f", done[i]->accuracy),
                   text::format("%.4f", done[i]->balanced_accuracy), done[i]->id, done[i]->slug});
  }
  return table.str();
}

}  // namespace

SweepOutcome run_sweep(const SweepPlan& plan, distributed::Communicator& world,
                       const std::string& out) {
  const bool rank0 = world.rank() == 0;
  SweepOutcome outcome;
  outcome.journal = (fs::path(out) / "sweep.h5").string();
  Journal j;
  if (fs::exists(outcome.journal)) {
    j = read_journal(outcome.journal);  // every rank: the same verdict
    check_same_sweep(j, plan, outcome.journal);
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
  j.world_size = world.size();
  j.ranks_per_trial = plan.ranks_per_trial;
  j.status = "running";
  // Rank 0's view of which trials are done decides for everyone.
  std::vector<std::int64_t> done(j.trials.size(), 0);
  for (std::size_t i = 0; i < j.trials.size(); ++i) done[i] = finished_state(j.trials[i].state);
  world.broadcast(done.data(), done.size(), 0);
  auto save = [&] {
    if (rank0) write_journal(outcome.journal, j);
  };
  if (rank0) fs::create_directories(out);
  save();

  const std::size_t total = plan.trials.size();
  std::size_t left = 0;
  for (auto d : done) left += d == 0 ? 1 : 0;
  double spent = 0;
  std::size_t ran = 0;
  for (std::size_t i = 0; i < total; ++i) {
    TrialRecord& rec = j.trials[i];
    if (done[i] != 0) continue;
    rec.state = "running";
    rec.group = 0;
    rec.error.clear();
    if (rec.started.empty()) rec.started = io::utc_timestamp();
    save();
    if (rank0) {
      log::info(text::format("trial %zu/%zu %s (%s) on group 0: starting", i + 1, total,
                             rec.id.c_str(), rec.slug.c_str()));
    }
    const auto t0 = Clock::now();
    const std::string folder = (fs::path(out) / "trials" / rec.id).string();
    try {
      const train::TrainOutcome r = train::train_run(plan.configs[i], world, folder);
      rec.state = "complete";
      rec.accuracy = r.accuracy;
      rec.balanced_accuracy = r.balanced_accuracy;
    } catch (const std::exception& e) {
      rec.state = "failed";
      rec.error = e.what();
    }
    const double seconds = seconds_since(t0);
    rec.finished = io::utc_timestamp();
    rec.seconds += seconds;
    save();
    if (rec.state == "failed" && world.size() > 1) {
      throw TrainError("trial " + rec.id + " (" + rec.slug + ") failed: " + rec.error);
    }
    spent += seconds;
    ++ran;
    --left;
    std::size_t complete = 0;
    std::size_t failed = 0;
    for (const auto& t : j.trials) {
      complete += t.state == "complete" ? 1 : 0;
      failed += t.state == "failed" ? 1 : 0;
    }
    if (rank0) {
      const std::string result = rec.state == "complete"
                                     ? text::format("val acc %.3f", rec.accuracy)
                                     : "FAILED: " + rec.error;
      log::info(text::format(
          "trial %zu/%zu %s on group 0: %s, %s; %zu complete, %zu failed, %zu to go, ETA %s", i + 1,
          total, rec.slug.c_str(), result.c_str(), duration_text(rec.seconds).c_str(), complete,
          failed, left,
          duration_text(spent / static_cast<double>(ran) * static_cast<double>(left)).c_str()));
    }
  }
  for (const auto& t : j.trials) {
    outcome.complete += t.state == "complete" ? 1 : 0;
    outcome.failed += t.state == "failed" ? 1 : 0;
    outcome.stopped += t.state == "stopped" ? 1 : 0;
  }
  j.status = "complete";
  j.finished = io::utc_timestamp();
  save();
  outcome.ranking = ranking_table(j);
  if (rank0 && outcome.complete > 0) {
    const collect::Collection c = collect::collect_runs({(fs::path(out) / "trials").string()});
    outcome.summary = (fs::path(out) / "summary.h5").string();
    collect::write_summary_h5(c, outcome.summary);
    collect::write_summary_csv(c, (fs::path(out) / "summary.csv").string());
  }
  return outcome;
}

}  // namespace midge::sweep
