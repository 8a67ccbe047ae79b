// The journal of a sweep, `<out>/sweep.h5`: what the sweep is (its spec,
// base configuration and seed) and where each trial stands. Rewritten
// atomically (temporary file, rename) under the sweep's lock whenever a
// trial starts, reaches a rung or ends, by the leader of the rank group
// running it (sweep/runner.cpp), so h5dump or h5py shows the sweep's state
// at any time, and a rerun of the same command knows which trials to skip.
// Schema: docs/results-schema.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midge::sweep {

// Where a trial stands; a string only in sweep.h5 (/trials/state).
// kInterrupted: it was running when its job died (or was stopped on
// request) and resumes from its state.h5.
enum class TrialState { kPending, kRunning, kPaused, kInterrupted, kComplete, kFailed, kStopped };
// "pending", "running", "paused", "interrupted", "complete", "failed", "stopped".
const char* trial_state_name(TrialState state);
// Throws IoError naming `file` for any other text.
TrialState parse_trial_state(const std::string& text, const std::string& file);
// Complete, failed or stopped: a rerun leaves it alone.
bool trial_ended(TrialState state);

// The sweep as a whole: root attribute `status` of sweep.h5.
enum class SweepStatus { kRunning, kComplete, kInterrupted };
const char* sweep_status_name(SweepStatus status);

struct TrialRecord {
  std::string id;
  std::string slug;
  TrialState state = TrialState::kPending;
  std::int64_t group = -1;  // rank group that ran it (-1: none yet)
  std::string started;      // UTC ISO 8601, empty if never started
  std::string finished;
  double seconds = 0;
  double accuracy = -1;  // validation accuracy of the final model (-1: none)
  double balanced_accuracy = -1;
  std::string error;  // why it failed
  // Successive halving (sweep/assignment.h): the highest rung reached (-1:
  // none), how many rungs it has been promoted past, and its validation
  // accuracy and loss at each rung (-1: not reached).
  std::int64_t rung = -1;
  std::int64_t promoted = 0;
  std::vector<double> rung_accuracy;
  std::vector<double> rung_loss;
  // `midge sweep --retry failed`: which attempt this is (1: the first), and
  // how each earlier one failed ("attempt N: error" lines; its folder kept
  // as trials/<id>.failed-N).
  std::int64_t attempt = 1;
  std::string earlier_errors;
};

struct Journal {
  std::string spec_path;
  std::string spec_text;
  std::string base_config;  // resolved INI of the base configuration
  std::int64_t sweep_seed = 0;
  std::int64_t world_size = 1;
  std::int64_t ranks_per_trial = 1;
  std::int64_t parts = 1;  // --part I/N: the N of the jobs running it (1: whole)
  std::int64_t rungs = 0;  // successive-halving rungs per trial (0: no halving)
  std::int64_t halving_rate = 0;
  SweepStatus status = SweepStatus::kRunning;
  std::string started;
  std::string finished;
  std::vector<TrialRecord> trials;  // in expansion order
};

void write_journal(const std::string& path, const Journal& journal);
Journal read_journal(const std::string& path);

}  // namespace midge::sweep
