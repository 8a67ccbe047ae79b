#include "sweep/status.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/config.h"
#include "core/errors.h"
#include "core/text.h"
#include "io/run_file.h"
#include "sweep/journal.h"

namespace midge::sweep {
namespace fs = std::filesystem;

namespace {

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

std::string duration_text(double seconds) {
  if (seconds < 0) return "unknown";
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) return text::format("%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return text::format("%lldm%02llds", s / 60, s % 60);
}

std::string progress_text(const RunProgressView& p) {
  if (!p.error.empty() && p.status.empty()) return "run.h5 not readable yet (" + p.error + ")";
  if (p.stage == 0)
    return "no epoch finished yet" + (p.step.empty() ? std::string() : "; now " + p.step);
  std::string out = text::format("stage %d epoch %lld/%lld", p.stage, p.epoch, p.stage_epochs);
  if (p.last_val_acc >= 0) out += text::format(", val acc %.4f", p.last_val_acc);
  if (p.seconds_left >= 0) out += ", about " + duration_text(p.seconds_left) + " left";
  if (!p.step.empty()) out += "; now " + p.step;
  return out;
}

}  // namespace

RunProgressView run_progress(const std::string& run_h5) {
  RunProgressView p;
  p.path = run_h5;
  io::RunRecord r;
  try {
    r = io::read_run_file(run_h5);
  } catch (const Error& e) {
    p.error = e.what();
    return p;
  }
  p.status = io::run_status_name(r.status);
  if (r.status == io::RunStatus::kRunning) {
    std::ifstream in(fs::path(run_h5).parent_path() / "progress.txt");
    std::getline(in, p.step);
  }
  p.error = r.error;
  if (r.has_eval) p.accuracy = r.eval.accuracy;
  long long epochs1 = 0;
  long long epochs2 = 0;
  try {
    const Config c = resolve_config_text(r.config, run_h5, {});
    epochs1 = c.stage1.epochs;
    epochs2 = c.stage2.epochs;
  } catch (const Error&) {
    // A configuration this midge cannot read (another version): no totals.
  }
  const io::History* last = nullptr;
  if (!r.stage2.epoch.empty()) {
    last = &r.stage2;
    p.stage = 2;
    p.stage_epochs = epochs2;
  } else if (!r.stage1.epoch.empty()) {
    last = &r.stage1;
    p.stage = 1;
    p.stage_epochs = epochs1;
  }
  if (last != nullptr) {
    p.epoch = static_cast<long long>(last->epoch.size());
    if (!last->val_acc.empty()) p.last_val_acc = last->val_acc.back();
  }
  if (r.status == io::RunStatus::kRunning && p.stage > 0) {
    // Epochs left in this stage, and all of stage 2 while in stage 1; an
    // epoch of stage 2 (whole network) takes longer than one of stage 1,
    // so stage 2's time is unknown until it has begun: its epochs are
    // counted at stage 1's pace, a lower bound.
    const long long left = std::max(0LL, p.stage_epochs - p.epoch) + (p.stage == 1 ? epochs2 : 0);
    p.seconds_left = mean_of(last->seconds) * static_cast<double>(left);
  }
  return p;
}

StatusReport read_status(const std::string& folder) {
  StatusReport s;
  s.folder = folder;
  const fs::path dir(folder);
  std::error_code ec;
  if (fs::is_regular_file(dir / "sweep.h5", ec)) {
    s.is_sweep = true;
    const Journal j = read_journal((dir / "sweep.h5").string());
    s.sweep_status = sweep_status_name(j.status);
    s.trials = static_cast<std::int64_t>(j.trials.size());
    std::vector<double> done_seconds;
    for (const auto& t : j.trials) {
      switch (t.state) {
        case TrialState::kPending:
          ++s.pending;
          break;
        case TrialState::kRunning: {
          ++s.running;
          StatusReport::Running run{t.id, t.group, t.started, {}};
          run.progress = run_progress((dir / "trials" / t.id / "run.h5").string());
          s.running_trials.push_back(run);
          break;
        }
        case TrialState::kComplete:
          ++s.complete;
          done_seconds.push_back(t.seconds);
          if (t.accuracy > s.best_accuracy) {
            s.best_accuracy = t.accuracy;
            s.best_id = t.id;
            s.best_slug = t.slug;
          }
          break;
        case TrialState::kFailed:
          ++s.failed;
          s.failed_trials.push_back({t.id, t.slug, t.error});
          break;
        case TrialState::kStopped:
          ++s.stopped;
          break;
        default:
          ++s.other;
      }
    }
    // Trials still to run at the mean time of a finished one, spread over
    // the rank groups, plus what the running ones have left.
    const std::int64_t groups = std::max<std::int64_t>(
        1, j.world_size / std::max<std::int64_t>(1, j.ranks_per_trial) * j.parts);
    if (!done_seconds.empty()) {
      double running_left = 0;
      for (const auto& r : s.running_trials)
        running_left = std::max(running_left, std::max(0.0, r.progress.seconds_left));
      s.seconds_left = mean_of(done_seconds) * static_cast<double>(s.pending + s.other) /
                           static_cast<double>(groups) +
                       running_left;
    }
    return s;
  }
  fs::path run = dir;
  if (fs::is_directory(dir, ec)) run = dir / "run.h5";
  if (!fs::is_regular_file(run, ec)) {
    throw UsageError("midge status: " + folder +
                     " holds neither sweep.h5 (a sweep) nor run.h5 (a run)");
  }
  s.run = run_progress(run.string());
  if (s.run.status.empty()) throw DataError(run.string() + ": " + s.run.error);
  return s;
}

std::string status_text(const StatusReport& r) {
  std::string out;
  if (!r.is_sweep) {
    const RunProgressView& p = r.run;
    out += "run " + p.path + ": " + p.status + "\n";
    if (p.status == "running") out += "  " + progress_text(p) + "\n";
    if (p.accuracy >= 0) out += text::format("  validation accuracy %.4f\n", p.accuracy);
    if (!p.error.empty()) out += "  error: " + p.error + "\n";
    return out;
  }
  out += text::format(
      "sweep %s: %s; %lld trial(s): %lld complete, %lld running, %lld pending, %lld failed",
      r.folder.c_str(), r.sweep_status.c_str(), static_cast<long long>(r.trials),
      static_cast<long long>(r.complete), static_cast<long long>(r.running),
      static_cast<long long>(r.pending), static_cast<long long>(r.failed));
  if (r.other > 0)
    out += text::format(", %lld paused or interrupted", static_cast<long long>(r.other));
  if (r.stopped > 0) out += text::format(", %lld stopped early", static_cast<long long>(r.stopped));
  out += "\n";
  for (const auto& t : r.running_trials) {
    out += text::format("  running %s (group %lld, since %s): ", t.id.c_str(),
                        static_cast<long long>(t.group), t.started.c_str()) +
           progress_text(t.progress) + "\n";
  }
  for (const auto& t : r.failed_trials)
    out += "  failed  " + t.id + " (" + t.slug + "): " + t.error + "\n";
  if (r.best_accuracy >= 0) {
    out += text::format("best so far: %s, validation accuracy %.4f (%s)\n", r.best_id.c_str(),
                        r.best_accuracy, r.best_slug.empty() ? "base" : r.best_slug.c_str());
  }
  if (r.pending + r.running + r.other > 0)
    out += "time left: about " + duration_text(r.seconds_left) + "\n";
  return out;
}

int status_exit_code(const StatusReport& r) {
  if (!r.is_sweep) {
    if (r.run.status == "complete" || r.run.status == "stopped") return 0;
    if (r.run.status == "failed") return 1;
    return 3;  // running, paused, interrupted
  }
  if (r.failed > 0) return 1;
  if (r.pending + r.running + r.other > 0) return 3;
  return 0;
}

}  // namespace midge::sweep
