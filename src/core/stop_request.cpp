#include "core/stop_request.h"

#include <atomic>
#include <csignal>
#include <cstring>

#include "core/errors.h"

namespace midge {
namespace {

// Lock-free, so reading and writing it is async-signal-safe.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int number) {
  int none = 0;
  g_signal.compare_exchange_strong(none, number);  // keep the first
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // System calls interrupted by the signal (reads, MPI's polls) go on.
  action.sa_flags = SA_RESTART;
  for (int number : {SIGUSR2, SIGTERM}) {
    if (sigaction(number, &action, nullptr) != 0) {
      throw Error(std::string("could not install the handler for ") +
                  (number == SIGUSR2 ? "SIGUSR2" : "SIGTERM") + ": " + std::strerror(errno));
    }
  }
}

bool stop_requested() noexcept { return g_signal.load() != 0; }

const char* stop_signal_name() noexcept {
  switch (g_signal.load()) {
    case SIGUSR2:
      return "SIGUSR2";
    case SIGTERM:
      return "SIGTERM";
    case 0:
      return "";
    default:
      return "a signal";
  }
}

void set_stop_request_for_testing(int signal_number) noexcept { g_signal.store(signal_number); }

}  // namespace midge
