#include "core/cpus.h"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <thread>

namespace midge {

namespace {
constexpr int kWords = CPU_SETSIZE / 64;
}

std::vector<std::uint64_t> affinity_words() {
  std::vector<std::uint64_t> words(kWords, 0);
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    // No mask to read: every CPU the machine reports.
    const unsigned n = std::max(1U, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n && i < CPU_SETSIZE; ++i)
      words[i / 64] |= std::uint64_t{1} << (i % 64);
    return words;
  }
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) words[static_cast<std::size_t>(i / 64)] |= std::uint64_t{1} << (i % 64);
  }
  return words;
}

int usable_cpus() {
  int n = 0;
  for (std::uint64_t w : affinity_words()) n += __builtin_popcountll(w);
  return std::max(1, n);
}

bool masks_overlap(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if ((a[i] & b[i]) != 0) return true;
  return false;
}

int default_threads(int usable, int sharing_ranks) {
  return std::max(1, usable / std::max(1, sharing_ranks));
}

void prefer_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Not re-executed (no /proc): the runtime keeps its default policy.
}

}  // namespace midge
