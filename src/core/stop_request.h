// A polite stop asked for from outside: SIGUSR2 (what the Slurm scripts ask
// Slurm to send before a time limit, `#SBATCH --signal=B:USR2@120`) or
// SIGTERM (preemption, `scancel`, a system shutting down).
//
// The handler only records which signal came; training and sweeps look at
// stop_requested() at step boundaries (train/trainer.cpp agrees over the
// ranks there), write what they need to resume and end with
// kExitResumable. A second signal changes nothing: a rank that is saving
// keeps saving. SIGUSR1 is left alone because NCCL and other libraries use
// it; SIGINT keeps its default (an interactive Ctrl-C ends at once and
// resumes from the last checkpoint).
//
// Installed by the commands that train (`midge train`, `midge sweep`)
// after MPI has started, so it replaces whatever handler an MPI library
// set for these signals; other commands keep the default (end at once).
#pragma once

namespace midge {

// Idempotent; thread-safe to call before any worker thread starts.
void install_stop_handlers();
// Whether SIGUSR2 or SIGTERM has arrived since the handlers were installed.
bool stop_requested() noexcept;
// "SIGUSR2" or "SIGTERM" (the first that came), "" when none.
const char* stop_signal_name() noexcept;
// As if a signal had come (tests), or forgetting one (0).
void set_stop_request_for_testing(int signal_number) noexcept;

}  // namespace midge
