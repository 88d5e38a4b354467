// The waiter thread for backends without a pollable fd (poll, and kqueue on
// macOS). It blocks in Poller::wait(-1), hands the batch to the main thread
// through a notify function (the bridge passes one that calls uv_async_send),
// then sleeps on a condition variable until the main thread has processed the
// batch and called done(). A wait that returns nothing (a wake-up) is handed
// over as an empty batch, so the thread polls again only after the main
// thread's current turn: changes made in one turn cost one wake-up. So the poller is never waited on by two threads, and
// the events buffer is never written while the main thread reads it.
//
// Pure C++ (no Node, no libuv), so it can be tested alone.
#ifndef IOREACTOR_BRIDGE_WAITER_H
#define IOREACTOR_BRIDGE_WAITER_H

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "poller.h"

namespace ioreactor {

class Waiter {
 public:
  static constexpr int kMaxEvents = 1024;

  // notify runs on the waiter thread each time a batch is ready.
  Waiter(Poller* poller, std::function<void()> notify);
  ~Waiter();  // stops and joins

  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Main thread: the size of the batch handed over (0 for a bare wake-up,
  // which still wants done()), or -EAGAIN when there is none (a coalesced or
  // late notification). The events stay valid until done().
  int take(const PollEvent** events);
  // Main thread: the batch was processed; the waiter may wait again.
  void done();
  // Main thread: wakes and joins the thread. Idempotent.
  void stop();
  // The -errno that made the thread give up (0 while healthy).
  int failed() const;

 private:
  void run();
  bool publish(int count);

  Poller* poller_;
  std::function<void()> notify_;
  std::vector<PollEvent> events_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int ready_ = -1;  // events handed to the main thread; -1: none
  bool quit_ = false;
  int error_ = 0;
  std::thread thread_;
};

}  // namespace ioreactor

#endif  // IOREACTOR_BRIDGE_WAITER_H
