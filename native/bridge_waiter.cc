// Waiter thread: see bridge_waiter.h. The protocol is a one-slot hand-off:
// the thread owns the events buffer while it waits, the main thread owns it
// from notify until done(). An idle loop leaves the thread blocked in the
// kernel: no timers, no polling.
#include "bridge_waiter.h"

#include <cerrno>
#include <utility>

namespace ioreactor {

Waiter::Waiter(Poller* poller, std::function<void()> notify)
    : poller_(poller), notify_(std::move(notify)), events_(kMaxEvents) {
  thread_ = std::thread([this] { run(); });
}

Waiter::~Waiter() { stop(); }

void Waiter::run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (quit_) return;
    }
    int n = poller_->wait(-1, events_.data(), kMaxEvents);
    if (n < 0 && n != -EINTR) {
      // A broken poller would fail again at once: give up instead of spinning.
      std::lock_guard<std::mutex> lock(mu_);
      error_ = n;
      return;
    }
    // An empty return (a wake-up: a change made while polling, or stop) is
    // handed over too. Re-entering poll() at once would make every further
    // change of the main thread's current turn wake it again, and the poll
    // backend's remove() waits for each such poll to return: N removals from
    // one timer would cost N wake-ups and N polls over every fd. Parked here
    // until the main thread's next turn, the thread lets a whole turn's
    // changes accumulate, then polls once on the rebuilt set.
    if (n >= 0 && !publish(n)) return;
  }
}

// Hands the batch (maybe empty) over and blocks until the main thread is done
// with it. Returns false when asked to quit.
bool Waiter::publish(int count) {
  std::unique_lock<std::mutex> lock(mu_);
  if (quit_) return false;
  ready_ = count;
  lock.unlock();
  notify_();
  lock.lock();
  cv_.wait(lock, [this] { return ready_ < 0 || quit_; });
  return !quit_;
}

int Waiter::take(const PollEvent** events) {
  std::lock_guard<std::mutex> lock(mu_);
  *events = events_.data();
  return ready_ < 0 ? -EAGAIN : ready_;
}

void Waiter::done() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready_ = -1;
  }
  cv_.notify_one();
}

void Waiter::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_one();
  poller_->wake();
  if (thread_.joinable()) thread_.join();
}

int Waiter::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

}  // namespace ioreactor
