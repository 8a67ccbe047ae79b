#include "distributed/async_allreduce.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <utility>

#include "core/clock.h"

namespace midge::distributed {
// A member of State, not of an anonymous namespace: State has external
// linkage, and a unity build (CMake's UNITY_BUILD) warns about a member
// whose type has internal linkage.
struct AsyncAllreduce::State {
  struct Span {
    float* data;
    std::size_t count;
    std::function<void()> ready;
  };
  std::mutex mutex;
  std::condition_variable work_ready;
  std::condition_variable work_done;
  std::deque<Span> queue;
  std::size_t submitted = 0;
  std::size_t completed = 0;  // in submission order; skipped ones count
  std::size_t pending() const { return submitted - completed; }  // queued + being reduced
  bool stop = false;
  std::exception_ptr error;
  double busy_seconds = 0;
};

AsyncAllreduce::AsyncAllreduce(Communicator& comm, bool background)
    : comm_(comm),
      background_(background && comm.background_thread_ok()),
      state_(std::make_shared<State>()) {
  if (background_) {
    thread_ = std::thread([&comm, st = state_] { reduce_loop(comm, st); });
  }
}

AsyncAllreduce::~AsyncAllreduce() {
  if (!background_) return;
  bool abandon = false;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    abandon = state_->pending() > 0;
    state_->queue.clear();
    state_->stop = true;
  }
  state_->work_ready.notify_all();
  if (abandon) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

void AsyncAllreduce::submit(float* data, std::size_t count, std::function<void()> ready) {
  if (!background_) {
    const auto t0 = Clock::now();
    if (ready) ready();
    comm_.allreduce(data, count);  // an error leaves the counts untouched
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->busy_seconds += seconds_since(t0);
    ++state_->submitted;
    ++state_->completed;
    return;
  }
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->queue.push_back({data, count, std::move(ready)});
    ++state_->submitted;
  }
  state_->work_ready.notify_one();
}

void AsyncAllreduce::wait_all() { wait_done(submitted()); }

std::size_t AsyncAllreduce::submitted() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->submitted;
}

void AsyncAllreduce::wait_done(std::size_t count) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->work_done.wait(
      lock, [this, count] { return state_->completed >= count || state_->error != nullptr; });
  if (state_->error) {
    // Let the thread drain (later spans are skipped), then report.
    state_->work_done.wait(lock, [this] { return state_->pending() == 0; });
    std::exception_ptr e = state_->error;
    state_->error = nullptr;
    std::rethrow_exception(e);
  }
}

bool AsyncAllreduce::idle() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->pending() == 0;
}

double AsyncAllreduce::busy_seconds() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->busy_seconds;
}

void AsyncAllreduce::reduce_loop(Communicator& comm, const std::shared_ptr<State>& st) {
  for (;;) {
    State::Span span{};
    bool skip = false;
    {
      std::unique_lock<std::mutex> lock(st->mutex);
      st->work_ready.wait(lock, [&st] { return st->stop || !st->queue.empty(); });
      if (st->stop) return;
      span = std::move(st->queue.front());
      st->queue.pop_front();
      skip = st->error != nullptr;
    }
    std::exception_ptr failure;
    const auto t0 = Clock::now();
    if (!skip) {
      try {
        if (span.ready) span.ready();
        comm.allreduce(span.data, span.count);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    {
      std::lock_guard<std::mutex> lock(st->mutex);
      if (failure && !st->error) st->error = failure;
      st->busy_seconds += seconds_since(t0);
      ++st->completed;
    }
    st->work_done.notify_all();
  }
}

}  // namespace midge::distributed
