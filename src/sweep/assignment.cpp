#include "sweep/assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"

namespace midge::sweep {
namespace {

bool interrupted(const TrialRecord& t) { return t.state == TrialState::kInterrupted; }

double score_at(const std::vector<double>& v, std::int64_t rung) {
  const auto k = static_cast<std::size_t>(rung);
  return k < v.size() ? v[k] : -1.0;
}

// Trials of `part` with a known score at `rung`, best first.
std::vector<std::size_t> ranked_at(const Journal& j, std::int64_t rung, const Part& part) {
  std::vector<std::size_t> reached;
  for (std::size_t i = 0; i < j.trials.size(); ++i) {
    if (part.has(i) && score_at(j.trials[i].rung_accuracy, rung) >= 0) reached.push_back(i);
  }
  std::stable_sort(reached.begin(), reached.end(), [&](std::size_t a, std::size_t b) {
    const double acc_a = score_at(j.trials[a].rung_accuracy, rung);
    const double acc_b = score_at(j.trials[b].rung_accuracy, rung);
    if (acc_a != acc_b) return acc_a > acc_b;
    return score_at(j.trials[a].rung_loss, rung) < score_at(j.trials[b].rung_loss, rung);
  });
  return reached;
}

// The best paused trial that may be promoted, from the highest rung down.
bool promotable(const Journal& j, const Part& part, std::size_t* out) {
  if (j.halving_rate < 2) return false;
  for (std::int64_t rung = j.rungs - 1; rung >= 0; --rung) {
    const std::vector<std::size_t> ranked = ranked_at(j, rung, part);
    const std::size_t top = ranked.size() / static_cast<std::size_t>(j.halving_rate);
    for (std::size_t r = 0; r < top; ++r) {
      const TrialRecord& t = j.trials[ranked[r]];
      if (t.state == TrialState::kPaused && t.promoted == rung) {
        *out = ranked[r];
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::int64_t rungs_of(long long stage2_epochs, long long rung_epochs) {
  if (stage2_epochs <= 0 || rung_epochs <= 0) return 0;
  return (stage2_epochs + rung_epochs - 1) / rung_epochs;
}

std::int64_t rung_at(std::int64_t epoch, long long rung_epochs) {
  if (rung_epochs <= 0 || epoch % rung_epochs != 0) return -1;
  return epoch / rung_epochs;
}

Assignment next_assignment(const Journal& j, const Part& part) {
  for (std::size_t i = 0; i < j.trials.size(); ++i) {
    if (part.has(i) && interrupted(j.trials[i])) return {Action::kRun, i};
  }
  std::size_t best = 0;
  if (promotable(j, part, &best)) return {Action::kRun, best};
  for (std::size_t i = 0; i < j.trials.size(); ++i) {
    if (part.has(i) && j.trials[i].state == TrialState::kPending) return {Action::kRun, i};
  }
  for (std::size_t i = 0; i < j.trials.size(); ++i) {
    if (part.has(i) && j.trials[i].state == TrialState::kRunning) return {Action::kWait, 0};
  }
  return {Action::kDone, 0};
}

void take(Journal& j, std::size_t trial, std::int64_t group, const std::string& now) {
  TrialRecord& t = j.trials.at(trial);
  if (t.state == TrialState::kPaused) ++t.promoted;  // a promotion: it may pass its rung now
  t.state = TrialState::kRunning;
  t.group = group;
  t.error.clear();
  if (t.started.empty()) t.started = now;
}

bool reach_rung(Journal& j, std::size_t trial, std::int64_t rung, double accuracy, double loss,
                const Part& part) {
  TrialRecord& t = j.trials.at(trial);
  if (rung < 0 || rung >= j.rungs) {
    throw TrainError("trial " + t.id + " reached rung " + std::to_string(rung) +
                     " of a sweep with " + std::to_string(j.rungs));
  }
  const auto k = static_cast<std::size_t>(rung);
  t.rung_accuracy.resize(static_cast<std::size_t>(j.rungs), -1.0);
  t.rung_loss.resize(static_cast<std::size_t>(j.rungs), -1.0);
  if (t.rung_accuracy[k] < 0) {
    // A run that reaches its first rung without a validation score (stage 1
    // skipped), or with a loss that is not a number, ranks last there
    // rather than never being ranked.
    const bool scored = accuracy >= 0 && std::isfinite(loss);
    t.rung_accuracy[k] = scored ? accuracy : std::max(0.0, accuracy);
    t.rung_loss[k] = scored ? loss : std::numeric_limits<double>::max();
  }
  t.rung = std::max(t.rung, rung);
  if (t.promoted > rung) return true;
  t.state = TrialState::kPaused;
  // It goes on if it is the paused trial a free group would promote first
  // (interrupted and pending trials wait for groups that are free).
  std::size_t best = 0;
  if (promotable(j, part, &best) && best == trial) {
    ++t.promoted;
    t.state = TrialState::kRunning;
    return true;
  }
  return false;
}

void stop_paused(Journal& j, const Part& part) {
  for (std::size_t i = 0; i < j.trials.size(); ++i) {
    if (part.has(i) && j.trials[i].state == TrialState::kPaused)
      j.trials[i].state = TrialState::kStopped;
  }
}

}  // namespace midge::sweep
