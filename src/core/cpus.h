// The CPUs this process may run on, and how many threads a rank should use.
//
// Why not std::thread::hardware_concurrency(): that is the node's CPU
// count, but a process may be restricted to fewer (taskset, an MPI
// launcher's binding, Slurm's --cpus-per-task through affinity or a
// cgroup). Threads beyond the allowed CPUs only wait for each other, and
// OpenMP threads that spin-wait on CPUs another process holds slow both
// (bench/RESULTS.md, "Threads on a shared node").
#pragma once

#include <cstdint>
#include <vector>

namespace midge {

// CPUs in this process's affinity mask (at least 1).
int usable_cpus();
// The affinity mask as 64-bit words (CPU i is bit i % 64 of word i / 64).
std::vector<std::uint64_t> affinity_words();
// Whether two masks from affinity_words() share a CPU.
bool masks_overlap(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b);
// Default threads of a rank: its usable CPUs divided by the ranks whose
// masks overlap its own on its node (itself included), at least 1.
int default_threads(int usable, int sharing_ranks);

// OpenMP threads that wait for work spin on their CPU for a while (GNU
// OpenMP's default), which on a shared node takes CPUs from the other
// processes: two small trainings started together on 2 cores took 18.0 s
// with spinning threads and 9.0 s with passive ones (one alone: 6.3 s
// either way; bench/RESULTS.md). The runtime reads OMP_WAIT_POLICY when it
// is loaded, before main, so `midge` (apps/launcher.cpp) sets it before
// it starts midge-torch; for midge-torch started directly with the
// variable unset, this sets it to PASSIVE and executes the program again
// (same process id, so an MPI launcher's bookkeeping is unaffected). A
// value the user set is kept.
// Returns only when nothing was done (or the re-execution failed).
void prefer_passive_openmp(char** argv);

}  // namespace midge
