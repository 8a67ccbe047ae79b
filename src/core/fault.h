// Fault injection for tests: makes one rank fail (or hang) at a named place,
// so that the agreement between ranks (distributed/agreement.h) can be
// tested with real processes. Inert unless the environment variable
// MIDGE_FAULT is set; nothing in a normal run reads it twice.
//
//   MIDGE_FAULT=<site>@rank<r>[:step<n>]
//
// <r> is the rank in the job (world rank, set once by set_fault_rank()),
// <n> (default 1) the n-th time that rank reaches the site (steps count
// across stages and trials of the process). A fault fires once per process,
// so in a sweep it hits exactly one trial. Sites:
//   loss          the training step's loss becomes NaN
//   loader        the training loader reports more unreadable images than
//                 data.max_bad_fraction allows
//   model_write   writing model.h5 (rank 0 writes it; use rank0) fails
//   final_eval    the final evaluation fails on that rank
//   between_trials  a sweep group's rank fails after the trial is taken,
//                 before it starts training
//   hang          the rank stops at the step (sleeps) and never arrives:
//                 the others give up after dist.timeout seconds
// and sites where the rank sends itself SIGUSR2 (a stop request, as Slurm
// would), to test that a stop is seen in every phase:
//   stop_hashing, stop_validation, stop_final_eval, stop_gradcam
//
// Why an environment variable and not a build option: the chaos tests run
// the very binary users run (tests/mpi/chaos.sh).
#pragma once

#include <string>

namespace midge::fault {

// The process's rank in the job; called once when the world is known.
void set_fault_rank(int rank);
// Whether the fault configured for `site` fires now on this rank (counts
// this visit). Throws UsageError for a MIDGE_FAULT that cannot be parsed.
bool fault_here(const char* site);
// For a fault that fires: never returns (the process sleeps until it is
// ended); used by the "hang" site.
[[noreturn]] void hang_forever();
// Sends this process SIGUSR2 when the fault for `site` fires.
void stop_here(const char* site);
// The message of an injected failure at `site`.
std::string fault_message(const char* site);

}  // namespace midge::fault
