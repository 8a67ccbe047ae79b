// `midge status OUT`: where a sweep or a single run stands, read from its
// files only (sweep.h5, the trials' run.h5, or a run's run.h5), never from
// the scheduler, so it costs the cluster nothing and works the same under
// Slurm, mpirun or on a laptop. The files are rewritten atomically as a run
// goes (io/atomic_file.h), so a reader always sees a whole file.
//
// What the files cannot say: a process that died without a word (the node
// lost, kill -9) leaves its trial "running" in sweep.h5; status reports the
// last epoch it finished and when, so a run that stopped moving shows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midge::sweep {

// One run's progress from its run.h5.
struct RunProgressView {
  std::string path;
  std::string status;          // run.h5 status: running, complete, failed, interrupted
  int stage = 0;               // the stage of the last epoch finished (0: none yet)
  long long epoch = 0;         // epochs finished in that stage
  long long stage_epochs = 0;  // that stage's epochs in the run's configuration
  double last_val_acc = -1;
  double accuracy = -1;      // final validation accuracy (complete runs)
  double seconds_left = -1;  // mean epoch time x epochs left (-1: unknown)
  // The batch in progress, from progress.txt beside run.h5 (run.progress_seconds):
  // "stage S epoch E batch B/N at TIME"; empty when there is none.
  std::string step;
  std::string error;  // why it failed, or why run.h5 could not be read
};

RunProgressView run_progress(const std::string& run_h5);

struct StatusReport {
  bool is_sweep = false;
  std::string folder;
  std::string sweep_status;  // sweep.h5 status (sweeps)
  std::int64_t trials = 0;
  std::int64_t pending = 0;
  std::int64_t running = 0;
  std::int64_t complete = 0;
  std::int64_t failed = 0;
  std::int64_t other = 0;    // paused or interrupted: resumed by a rerun
  std::int64_t stopped = 0;  // ended on request (successive halving): finished
  struct Running {
    std::string id;
    std::int64_t group = -1;
    std::string started;
    RunProgressView progress;
  };
  std::vector<Running> running_trials;
  struct Failed {
    std::string id;
    std::string slug;
    std::string error;
  };
  std::vector<Failed> failed_trials;
  std::string best_id;  // highest validation accuracy among complete trials
  std::string best_slug;
  double best_accuracy = -1;
  double seconds_left = -1;  // estimate; -1 unknown
  RunProgressView run;       // a single run (is_sweep false)
};

// From FOLDER/sweep.h5 (a sweep) or FOLDER/run.h5 (a run; FOLDER may also
// be the run.h5 itself). Throws UsageError when neither exists.
StatusReport read_status(const std::string& folder);

// The lines `midge status` prints.
std::string status_text(const StatusReport& r);

// 0 when everything finished (complete, or stopped early by halving) and
// nothing failed; 1 when anything failed (even while others still run, so
// that a script waiting on it learns of a failure at once); 3 while
// anything is still to run (pending, running, paused, interrupted).
int status_exit_code(const StatusReport& r);

}  // namespace midge::sweep
