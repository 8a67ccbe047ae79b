#include "sweep/journal.h"

#include "core/errors.h"
#include "io/hdf5.h"

namespace midge::sweep {

namespace {
constexpr const char* kTrialStateNames[] = {"pending",  "running", "paused", "interrupted",
                                            "complete", "failed",  "stopped"};
}  // namespace

const char* trial_state_name(TrialState state) { return kTrialStateNames[static_cast<int>(state)]; }

TrialState parse_trial_state(const std::string& text, const std::string& file) {
  for (int i = 0; i < 7; ++i) {
    if (text == kTrialStateNames[i]) return static_cast<TrialState>(i);
  }
  throw IoError(file + ": unknown trial state '" + text + "'");
}

bool trial_ended(TrialState state) {
  return state == TrialState::kComplete || state == TrialState::kFailed ||
         state == TrialState::kStopped;
}

const char* sweep_status_name(SweepStatus status) {
  switch (status) {
    case SweepStatus::kComplete:
      return "complete";
    case SweepStatus::kInterrupted:
      return "interrupted";
    case SweepStatus::kRunning:
      break;
  }
  return "running";
}

void write_journal(const std::string& path, const Journal& j) {
  io::H5Writer f(path);
  f.set_attr("", "format", std::string("midge-sweep"));
  f.set_attr("", "schema_version", std::int64_t{1});
  f.set_attr("", "spec_path", j.spec_path);
  f.set_attr("", "spec", j.spec_text);
  f.set_attr("", "config", j.base_config);
  f.set_attr("", "sweep_seed", j.sweep_seed);
  f.set_attr("", "world_size", j.world_size);
  f.set_attr("", "ranks_per_trial", j.ranks_per_trial);
  f.set_attr("", "parts", j.parts);
  f.set_attr("", "rungs", j.rungs);
  f.set_attr("", "halving_rate", j.halving_rate);
  f.set_attr("", "status", std::string(sweep_status_name(j.status)));
  f.set_attr("", "started", j.started);
  f.set_attr("", "finished", j.finished);
  std::vector<std::string> id, slug, state, started, finished, error, earlier_errors;
  std::vector<std::int64_t> group, rung, promoted, attempt;
  std::vector<double> seconds, accuracy, balanced, rung_accuracy, rung_loss;
  for (const auto& t : j.trials) {
    id.push_back(t.id);
    slug.push_back(t.slug);
    state.push_back(trial_state_name(t.state));
    started.push_back(t.started);
    finished.push_back(t.finished);
    error.push_back(t.error);
    attempt.push_back(t.attempt);
    earlier_errors.push_back(t.earlier_errors);
    group.push_back(t.group);
    seconds.push_back(t.seconds);
    accuracy.push_back(t.accuracy);
    balanced.push_back(t.balanced_accuracy);
    rung.push_back(t.rung);
    promoted.push_back(t.promoted);
    for (std::int64_t r = 0; r < j.rungs; ++r) {
      const auto k = static_cast<std::size_t>(r);
      rung_accuracy.push_back(k < t.rung_accuracy.size() ? t.rung_accuracy[k] : -1.0);
      rung_loss.push_back(k < t.rung_loss.size() ? t.rung_loss[k] : -1.0);
    }
  }
  f.write("trials/id", id);
  f.write("trials/parameters", slug);
  f.write("trials/state", state);
  f.write("trials/group", group);
  f.write("trials/started", started);
  f.write("trials/finished", finished);
  f.write("trials/seconds", seconds);
  f.write("trials/accuracy", accuracy);
  f.write("trials/balanced_accuracy", balanced);
  f.write("trials/error", error);
  f.write("trials/attempt", attempt);
  f.write("trials/earlier_errors", earlier_errors);
  if (j.rungs > 0) {
    const std::vector<std::uint64_t> dims{j.trials.size(), static_cast<std::uint64_t>(j.rungs)};
    f.write("trials/rung", rung);
    f.write("trials/promoted", promoted);
    f.write("trials/rung_accuracy", rung_accuracy, dims);
    f.write("trials/rung_loss", rung_loss, dims);
  }
  f.commit();
}

Journal read_journal(const std::string& path) {
  io::H5Reader f(path);
  if (!f.has_attr("", "format") || f.attr_string("", "format") != "midge-sweep") {
    throw DataError(path + " is not a midge sweep journal");
  }
  Journal j;
  j.spec_path = f.attr_string("", "spec_path");
  j.spec_text = f.attr_string("", "spec");
  j.base_config = f.attr_string("", "config");
  j.sweep_seed = f.attr_int64("", "sweep_seed");
  j.world_size = f.attr_int64("", "world_size");
  j.ranks_per_trial = f.attr_int64("", "ranks_per_trial");
  // Journals written before sweep parts and successive halving existed lack
  // these: one part, no halving (Journal's defaults).
  if (f.has_attr("", "parts")) j.parts = f.attr_int64("", "parts");
  if (f.has_attr("", "rungs")) j.rungs = f.attr_int64("", "rungs");
  if (f.has_attr("", "halving_rate")) j.halving_rate = f.attr_int64("", "halving_rate");
  {
    const std::string status = f.attr_string("", "status");
    j.status = status == "complete"      ? SweepStatus::kComplete
               : status == "interrupted" ? SweepStatus::kInterrupted
                                         : SweepStatus::kRunning;
  }
  j.started = f.attr_string("", "started");
  j.finished = f.attr_string("", "finished");
  const auto id = f.read_strings("trials/id");
  const auto slug = f.read_strings("trials/parameters");
  const auto state = f.read_strings("trials/state");
  const auto group = f.read_int64s("trials/group");
  const auto started = f.read_strings("trials/started");
  const auto finished = f.read_strings("trials/finished");
  const auto seconds = f.read_doubles("trials/seconds");
  const auto accuracy = f.read_doubles("trials/accuracy");
  const auto balanced = f.read_doubles("trials/balanced_accuracy");
  const auto error = f.read_strings("trials/error");
  // Journals written before --retry lack these: every trial on attempt 1.
  const bool attempts = f.exists("trials/attempt");
  const auto attempt =
      attempts ? f.read_int64s("trials/attempt") : std::vector<std::int64_t>(id.size(), 1);
  const auto earlier_errors =
      attempts ? f.read_strings("trials/earlier_errors") : std::vector<std::string>(id.size());
  std::vector<std::int64_t> rung, promoted;
  std::vector<double> rung_accuracy, rung_loss;
  if (j.rungs > 0) {
    rung = f.read_int64s("trials/rung");
    promoted = f.read_int64s("trials/promoted");
    rung_accuracy = f.read_doubles("trials/rung_accuracy");
    rung_loss = f.read_doubles("trials/rung_loss");
  }
  // Every per-trial dataset has one value per trial (rung curves: `rungs`
  // per trial): a file whose lengths disagree is refused by name before
  // anything is indexed.
  if (j.rungs < 0 || j.rungs > 64) {
    throw CorruptFileError(path + " is corrupt: attribute rungs = " + std::to_string(j.rungs) +
                           " (0..64 expected)");
  }
  const auto width = static_cast<std::size_t>(j.rungs);
  const std::size_t n = id.size();
  const auto per_trial = [&](const char* name, std::size_t got, std::size_t each) {
    if (got != n * each) {
      throw CorruptFileError(path + " is corrupt: dataset /trials/" + name + " has " +
                             std::to_string(got) + " values, " + std::to_string(n * each) +
                             " expected (" + std::to_string(n) + " trials in /trials/id)");
    }
  };
  per_trial("parameters", slug.size(), 1);
  per_trial("state", state.size(), 1);
  per_trial("group", group.size(), 1);
  per_trial("started", started.size(), 1);
  per_trial("finished", finished.size(), 1);
  per_trial("seconds", seconds.size(), 1);
  per_trial("accuracy", accuracy.size(), 1);
  per_trial("balanced_accuracy", balanced.size(), 1);
  per_trial("error", error.size(), 1);
  per_trial("attempt", attempt.size(), 1);
  per_trial("earlier_errors", earlier_errors.size(), 1);
  if (width > 0) {
    per_trial("rung", rung.size(), 1);
    per_trial("promoted", promoted.size(), 1);
    per_trial("rung_accuracy", rung_accuracy.size(), width);
    per_trial("rung_loss", rung_loss.size(), width);
  }
  // ... and each is a list (rung curves: trials x rungs), as written.
  for (const auto& name : f.children("trials")) {
    const bool curve = name == "rung_accuracy" || name == "rung_loss";
    const auto dims = f.shape("trials/" + name);
    if (dims.size() != (curve ? 2U : 1U) || (curve && dims[1] != width)) {
      throw CorruptFileError(path + " is corrupt: dataset /trials/" + name + " has " +
                             std::to_string(dims.size()) + " dimension(s), " +
                             (curve ? "2 (trials x rungs)" : "1 (one value per trial)") +
                             " expected");
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    TrialRecord t;
    t.id = id[i];
    t.slug = slug[i];
    t.state = parse_trial_state(state[i], path);
    t.group = group[i];
    t.started = started[i];
    t.finished = finished[i];
    t.seconds = seconds[i];
    t.accuracy = accuracy[i];
    t.balanced_accuracy = balanced[i];
    t.error = error[i];
    t.attempt = attempt[i];
    t.earlier_errors = earlier_errors[i];
    if (width > 0) {
      t.rung = rung[i];
      t.promoted = promoted[i];
      t.rung_accuracy.assign(rung_accuracy.begin() + static_cast<std::ptrdiff_t>(i * width),
                             rung_accuracy.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
      t.rung_loss.assign(rung_loss.begin() + static_cast<std::ptrdiff_t>(i * width),
                         rung_loss.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
    }
    j.trials.push_back(std::move(t));
  }
  return j;
}

}  // namespace midge::sweep
