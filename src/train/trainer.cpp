#include "train/trainer.h"

#include <filesystem>

#include "core/errors.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/stop_request.h"
#include "core/text.h"
#include "data/hashing.h"
#include "io/atomic_file.h"
#include "io/integrity.h"
#include "io/run_file.h"
#include "train/checkpointer.h"
#include "train/final_report.h"
#include "train/recorder.h"
#include "train/session.h"
#include "train/stage_runner.h"

namespace midge::train {
namespace fs = std::filesystem;
namespace {

// run.h5's content hashes (data/hashing.h), by rank 0; a stop request ends
// the hashing between files.
void hash_images(Session& s, Recorder& r) {
  const Clock::time_point start = Clock::now();
  data::RunHashes h = data::hash_run_files(s.split, s.config, [] {
    fault::stop_here("stop_hashing");
    return stop_requested();
  });
  io::RunRecord& rec = r.record();
  rec.train_sha256 = std::move(h.train);
  rec.val_sha256 = std::move(h.val);
  rec.holdout_sha256 = std::move(h.holdout);
  rec.input_keys = std::move(h.input_keys);
  rec.input_paths = std::move(h.input_paths);
  rec.input_sha256 = std::move(h.input_sha256);
  log::info(text::format("SHA-256 of %zu images in %.1f s",
                         s.split.train.size() + s.split.val.size() + s.split.holdout.size(),
                         seconds_since(start)));
}

// Whether `run_file` holds a complete run is rank 0's to say; every rank
// acts on its answer (file-system facts are decided once).
bool already_complete(Session& s, const std::string& run_file, TrainOutcome* outcome) {
  double done[3] = {0, 0, 0};  // complete, accuracy, balanced accuracy
  s.rank0_phase("reading " + run_file, [&] {
    if (!fs::exists(run_file)) return;
    const io::RunRecord existing = io::read_run_file(run_file);
    if (existing.status != io::RunStatus::kComplete) return;
    done[0] = 1;
    done[1] = existing.eval.accuracy;
    done[2] = existing.eval.balanced_accuracy;
  });
  s.world.broadcast(done, 3, 0);
  outcome->already_complete = done[0] != 0;
  outcome->accuracy = done[1];
  outcome->balanced_accuracy = done[2];
  return outcome->already_complete;
}

// Which state.h5 generation a run resumes from (rank 0 decides): the
// newest when whole, else the one before it, saying why; with neither
// whole, how to start over.
std::int64_t choose_state(const std::string& newest, const std::string& previous) {
  std::string why;
  if (fs::exists(newest)) {
    try {
      io::check_seal(newest);
      return 1;
    } catch (const CorruptFileError& e) {
      why = e.what();
    }
  }
  if (!fs::exists(previous)) {
    if (why.empty()) return 0;
    throw CorruptFileError(why + "; no " + previous + " to resume from instead: remove " + newest +
                           " (and run.h5) to start this run over");
  }
  try {
    io::check_seal(previous);
  } catch (const CorruptFileError& e) {
    throw CorruptFileError("neither state file is whole (" + why + "; " + e.what() + "): remove " +
                           newest + ", " + previous + " and run.h5 to start this run over");
  }
  std::string aside;
  if (!why.empty()) {
    // Moved aside, not left in place: the next checkpoint would otherwise
    // keep the corrupt file as the previous generation.
    aside = newest + ".corrupt";
    std::error_code ec;
    fs::rename(newest, aside, ec);
    if (ec) throw IoError("cannot move " + newest + " aside to " + aside + ": " + ec.message());
    aside = " (kept as " + aside + ")";
  }
  log::warn((why.empty() ? "no " + newest : why) + aside + "; resuming from " + previous +
            ", one checkpoint back");
  return 2;
}

// Setup after the session: hashes, state.h5 (whether there is one is rank
// 0's to say; every rank then reads it for the weights). False when a stop
// was agreed during the hashing.
bool prepare(Session& s, Recorder& r, Checkpointer& c, RunProgress& progress) {
  open_session(s);
  r.describe_session();
  if (s.rank0_phase("hashing the images", [&] { hash_images(s, r); }).stop) return false;
  c.begin();
  const std::string newest = s.path("state.h5");
  const std::string previous = previous_state_path(newest);
  std::int64_t choice = 0;  // 0: none, 1: the newest, 2: the one before it
  s.rank0_phase("looking for " + newest, [&] { choice = choose_state(newest, previous); });
  s.world.broadcast(&choice, 1, 0);
  if (choice != 0) {
    const std::string state_file = choice == 1 ? newest : previous;
    s.agree.phase("reading " + state_file, [&] { c.resume_from(state_file); });
  }
  r.record().amp = s.amp;
  c.state().amp = s.amp;
  progress.epochs_done =
      static_cast<std::int64_t>(r.record().stage1.size() + r.record().stage2.size());
  return true;
}

void log_start(const Session& s) {
  if (!s.rank0()) return;
  log::info(text::format("%d taxa, %zu training and %zu validation images; %s on %s, %d rank(s)",
                         s.classes, s.split.train.size(), s.split.val.size(),
                         s.config.model.arch.c_str(), s.device.describe().c_str(), s.world.size()));
  if (!s.split.holdout.empty()) {
    log::info(text::format("held out of training for the open-set evaluation: %s (%zu images)",
                           text::join(s.split.holdout_classes, ", ").c_str(),
                           s.split.holdout.size()));
  }
}

}  // namespace

TrainOutcome train_run(const Config& config, distributed::Communicator& world,
                       const std::string& out, const TrainOptions& options) {
  // Checked before anything is written (the command line checks it too).
  if (auto v = rank_rule_violations(config, world.size()); !v.empty()) {
    throw ConfigError(text::join(v, "; "));
  }
  Session s(config, world, out, options.cache_dir);
  s.agree.phase("checking dist.backend", [&] { check_backend_available(config); });
  TrainOutcome outcome;
  outcome.run_file = s.path("run.h5");
  outcome.model_file = s.path("model.h5");
  if (already_complete(s, outcome.run_file, &outcome)) return outcome;
  Recorder r(s);
  r.begin();
  s.rank0_phase("creating " + out, [&] {
    fs::create_directories(out);
    if (int n = io::remove_stale_temporaries(out); n > 0) {
      log::info(text::format("removed %d temporary file(s) of an interrupted writer in %s", n,
                             out.c_str()));
    }
  });
  Checkpointer c(s, r);
  RunProgress progress;
  try {
    if (!prepare(s, r, c, progress)) {
      // Asked to stop before training started: nothing to keep but run.h5.
      r.write(io::RunStatus::kInterrupted);
      outcome.interrupted = true;
      if (s.rank0()) log::info("stopped by request before training started (rerun to start)");
      return outcome;
    }
    outcome.resumed = c.resumed();
    log_start(s);
    r.write();
    run_stage(1, s, r, c, options.pause_before, progress);
    if (!progress.interrupted) run_stage(2, s, r, c, options.pause_before, progress);
    if (!progress.paused && !progress.interrupted) {
      write_final_report(s, r, c, progress, &outcome);
    }
    outcome.paused = progress.paused;
    outcome.interrupted = progress.interrupted;
  } catch (const std::exception& e) {
    r.record().status = io::RunStatus::kFailed;
    r.record().error = e.what();
    r.record().finished = io::utc_timestamp();
    if (s.rank0()) {
      try {
        r.write_alone();  // no agreement: the peers may be gone
      } catch (const std::exception& again) {
        log::error("could not record the failure in " + outcome.run_file + ": " + again.what());
      }
    }
    throw;
  }
  return outcome;
}

}  // namespace midge::train
