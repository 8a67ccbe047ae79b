#include "core/fault.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <regex>
#include <thread>

#include "core/errors.h"
#include "core/log.h"

namespace midge::fault {
namespace {

struct Spec {
  bool set = false;
  std::string site;
  int rank = 0;
  long long step = 1;
};

std::atomic<int> g_rank{0};
std::mutex g_mutex;
long long g_visits = 0;
bool g_fired = false;

const Spec& spec() {
  static const Spec kSpec = [] {
    Spec out;
    const char* v = std::getenv("MIDGE_FAULT");
    if (v == nullptr || *v == '\0') return out;
    static const std::regex kPattern(R"(([a-z_0-9]+)@rank([0-9]+)(:step([0-9]+))?)");
    std::smatch m;
    const std::string text(v);
    if (!std::regex_match(text, m, kPattern)) {
      throw UsageError("MIDGE_FAULT = '" + text +
                       "' is not <site>@rank<r>[:step<n>] (tests only; unset it)");
    }
    out.set = true;
    out.site = m[1];
    out.rank = std::stoi(m[2]);
    if (m[4].matched) out.step = std::stoll(m[4]);
    return out;
  }();
  return kSpec;
}

}  // namespace

void set_fault_rank(int rank) { g_rank = rank; }

bool fault_here(const char* site) {
  const Spec& s = spec();
  if (!s.set || s.site != site || s.rank != g_rank.load()) return false;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_fired) return false;
  if (++g_visits < s.step) return false;
  g_fired = true;
  // Tests time the reaction from this line (tests/mpi/chaos.sh).
  log::warn(std::string("MIDGE_FAULT: ") + site + " fired on rank " + std::to_string(s.rank));
  return true;
}

void hang_forever() {
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

void stop_here(const char* site) {
  if (fault_here(site)) std::raise(SIGUSR2);
}

std::string fault_message(const char* site) {
  return std::string("fault injected (MIDGE_FAULT) at ") + site + " on rank " +
         std::to_string(g_rank.load());
}

}  // namespace midge::fault
