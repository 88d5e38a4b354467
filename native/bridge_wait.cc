// NativeLoop: the one wait per wake-up. Watched by a uv_poll_t, our poller's
// epoll fd sits inside libuv's epoll set, and every wake-up costs three
// epoll calls: libuv's zero-timeout poll (Node measures loop idle time, so
// libuv polls once with timeout 0 before every blocking poll), libuv's
// blocking poll, which reports only that our set is ready, and our own wait
// that says what in it is. The blocking one is the dearest (~0.9 µs here:
// polling a nested epoll polls each of its ready sockets again). At one
// event per wake-up, which is what a server below saturation sees, that was
// ~2 µs of ~11 µs of server CPU per request (bench/PERFORMANCE.md).
//
// So the nesting is turned inside out: libuv's epoll fd goes into our set,
// and we block in our own wait from a uv_prepare_t callback, the last thing
// libuv runs before it polls, for as long as libuv itself would have
// blocked (uv_backend_timeout: the next timer, or 0 when something is
// pending). Our sockets wake us directly; anything of libuv's (another
// handle's fd, a thread's uv_async, a signal) makes its fd readable and
// ends our wait, and libuv's own poll then finds it. An always-started
// uv_idle_t makes that poll non-blocking (libuv never blocks while an idle
// handle runs), so a turn costs our wait and libuv's zero-timeout poll.
//
// Order within a turn of Node's loop is kept: timers, then our I/O (now in
// the prepare phase, before libuv's other I/O instead of among it), then
// setImmediate and the check phase's drain of nextTicks and microtasks.
//
// A wake-up that was ours alone (libuv's fd not among the events) needs no
// rest of the turn: libuv's poll would find nothing, and what its check phase
// does (a callback scope on a new object, ~1,900 instructions: the drain of
// nextTicks and microtasks) the crossing into JS does as it returns, with
// napi_make_callback (~700). So the callback waits again, for as long as
// nothing of Node's is due:
// a timer (the time is updated first), a setImmediate or a pending callback
// (libuv's timeout is then 0), a watcher libuv has not yet put in its set,
// or anything that makes libuv's fd ready. An unref'd setImmediate does not
// make the timeout 0, so the waits after the first end within kTurnLimitMs
// of the callback's start and there are at most kWaitsPerTurn: it runs then,
// not when some other event happens to come. At
// one event per wake-up: 3 syscalls instead of 4 (no zero-timeout
// epoll_pwait), ~1,600 instructions fewer (bench/PERFORMANCE.md).
//
// One loop per thread does this (epoll refuses a cycle, and a second loop
// blocking in its own set would not see the first's sockets); any other
// NativeLoop on the thread is watched by a uv_poll_t in libuv's set, which
// the owner's set contains through libuv's fd. Backends without a pollable
// fd keep the waiter thread (bridge_waiter.h).
//
// What it costs: Node counts as idle only the time libuv blocks in its own
// poll, so performance.eventLoopUtilization() reads ~1 while we block here.
// So this wait is opt-in, createReactor({ exactLoopUtilization: false });
// by default the loop starts in libuv's set (start(true)), since load
// shedding and autoscaling act on that figure.
//
// A coalescing window (start()'s coalesce_us, ReactorOptions.coalesceMicros)
// makes each wait look with timeout 0 first and, only when nothing is
// ready, sleep the window before it looks again and blocks: below
// saturation a server that finishes each request before the next arrives
// otherwise pays a sleep and a wake-up of the thread per request, the larger
// part of its kernel time at a fixed rate (bench/PERFORMANCE.md). A request
// arriving during the sleep waits up to the window, which a lone ping-pong
// client pays on every round trip; so by default (coalesceMicros 'auto',
// start()'s adaptive) the window applies only while the recent wake-ups
// served many distinct connections (coalesce_gate.h), and a fixed window,
// on whatever the load, is opt-in.
//
// Caveat: uv_run(UV_RUN_NOWAIT) does not tell its prepare callbacks, so a
// NOWAIT turn may wait here until the next timer or event; Node runs its
// loop in UV_RUN_DEFAULT.
#include <uv.h>

#include <cerrno>
#include <ctime>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "bridge_loop.h"
#include "poller.h"

namespace ioreactor {
namespace {

// The loop of this thread that waits in its own set (one uv loop a thread).
thread_local NativeLoop* wait_owner = nullptr;

void on_idle(uv_idle_t*) {}

// True while libuv holds watchers it has not yet added to its epoll set (it
// does that in its poll). The queue is a private field of uv_loop_t, read
// through the header of the libuv Node was built with; 1.46 made it a struct.
bool libuv_watchers_pending(const uv_loop_t* loop) {
#if UV_VERSION_HEX >= ((1 << 16) | (46 << 8))
  return loop->watcher_queue.next != &loop->watcher_queue;
#else
  return loop->watcher_queue[0] != static_cast<const void*>(&loop->watcher_queue);
#endif
}

template <typename H>
H* new_handle(uv_loop_t* loop, int (*init)(uv_loop_t*, H*), void* data) {
  auto* h = new H;
  if (init(loop, h) < 0) {
    delete h;
    return nullptr;
  }
  h->data = data;
  uv_unref(reinterpret_cast<uv_handle_t*>(h));  // refresh_ref() refs the prepare
  return h;
}

}  // namespace

// Takes the wait for this thread when no other loop has it. Returns 0,
// -EBUSY (another loop waits: use a uv_poll_t) or -errno.
int NativeLoop::start_own_wait() {
  if (wait_owner != nullptr && wait_owner != this) return -EBUSY;
  if (prepare_ == nullptr) prepare_ = new_handle<uv_prepare_t>(uv_loop_, uv_prepare_init, this);
  if (idle_ == nullptr) idle_ = new_handle<uv_idle_t>(uv_loop_, uv_idle_init, this);
  if (prepare_ == nullptr || idle_ == nullptr) return -ENOMEM;
  int r = loop_->poller().add(uv_backend_fd(uv_loop_), kReadable, Mode{}, kLibuvWakeToken);
  if (r < 0) return r;
  uv_prepare_start(prepare_, on_prepare);
  uv_idle_start(idle_, on_idle);
  wait_owner = this;
  return 0;
}

void NativeLoop::stop_own_wait() {
  if (wait_owner != this) return;
  wait_owner = nullptr;
  if (prepare_ != nullptr) uv_prepare_stop(prepare_);
  if (idle_ != nullptr) uv_idle_stop(idle_);
  if (loop_) loop_->poller().remove(uv_backend_fd(uv_loop_));
}

void NativeLoop::on_prepare(uv_prepare_t* h) { static_cast<NativeLoop*>(h->data)->wait_here(); }

// Waits as long as libuv would have, processes what came, and while only our
// sockets woke us and nothing of Node's is due, waits again (wait_again).
// The crossings into JS drain the JS queues as they return (scoped_calls_),
// as the check phase would have before the next wait; after an error the
// turn goes on to libuv's check phase instead.
void NativeLoop::wait_here() {
  if (closed_ || !loop_ || depth_ > 0) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  scoped_calls_ = true;
  turn_start_ms_ = uv_now(uv_loop_);
  int timeout = libuv_timeout();
  for (int waits = 1;; ++waits) {
    libuv_ready_ = false;
    int n = drain_coalesced(timeout);
    bool failed = error_ref_ != nullptr;
    after_dispatch(true);
    if (n <= 0 || failed || waits == kWaitsPerTurn || !wait_again(&timeout)) break;
  }
  scoped_calls_ = false;
  napi_close_handle_scope(env_, scope);
}

// One wait, with the coalescing window when one is set (start()) and, when
// adaptive, its gate is open (coalesce_gate.h): what is
// ready now is taken at once, so a busy loop adds no latency; when nothing
// is, the loop sleeps the window first, so that what arrives meanwhile comes
// in one wake-up instead of one each, and only then blocks as libuv would.
// Below saturation every wake-up costs a sleep and a wake-up of the thread
// (a few µs of kernel time, bench/PERFORMANCE.md); the window trades up to
// its length (the timer slack is made 1 µs meanwhile) of latency
// for fewer of them. libuv's fd cannot end the sleep, so Node's own events
// wait as long; a timer cannot be late by more than the window (< 1 ms).
int NativeLoop::drain_coalesced(int timeout_ms) {
  if (coalesce_ns_ == 0 || timeout_ms == 0 || (adaptive_ && !gate_.open())) return drain(timeout_ms);
  int n = drain(0);
  if (n != 0 || libuv_ready_ || closed_) return n;
  timespec window{0, coalesce_ns_};
  precise_window(true);
  ++coalesce_sleeps_;
  nanosleep(&window, nullptr);  // EINTR: a shorter window
  precise_window(false);
  n = drain(0);
  if (n != 0 || libuv_ready_ || closed_) return n;
  return drain(timeout_ms);
}

// Around the window's sleep only, the thread's timer slack (how late the
// kernel may end a sleep, to batch timer interrupts: 50 µs by default) is
// 1 µs, so that a 20 µs window sleeps ~20 µs rather than up to 70. Only
// around it: a thread or process started from this one (libuv's threadpool,
// a Worker, spawnProcess) inherits the slack, and survives exec with it. Two
// prctl calls, on the path where the thread is about to sleep anyway.
void NativeLoop::precise_window(bool on) {
#if defined(__linux__)
  if (saved_slack_ns_ == 0) saved_slack_ns_ = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);  // -1: left alone
  if (saved_slack_ns_ > 0) prctl(PR_SET_TIMERSLACK, on ? kWindowSlackNs : saved_slack_ns_, 0, 0, 0);
#else
  (void)on;
#endif
}

// How long libuv would block: its timeout computed with our idle handle
// stopped (which would force 0), and 0 while it holds watchers it has not
// yet put in its epoll set (a Node socket that JS just opened: libuv adds it
// in its poll, and until then its fd cannot end our wait).
int NativeLoop::libuv_timeout() {
  if (libuv_watchers_pending(uv_loop_)) return 0;
  uv_idle_stop(idle_);
  int timeout = uv_backend_timeout(uv_loop_);
  uv_idle_start(idle_, on_idle);
  return timeout;
}

// After a wake-up that was ours alone: whether the rest of libuv's turn can
// be skipped and the loop wait again. Its poll would find nothing (libuv's fd
// was not ready), its check phase would drain the JS queues, which the
// scoped crossings did, and the timers and setImmediate callbacks wait for a
// timeout of 0. Sets the next wait's timeout.
bool NativeLoop::wait_again(int* timeout_ms) {
  if (libuv_ready_ || closed_ || !loop_ || !uv_is_active(reinterpret_cast<uv_handle_t*>(prepare_))) return false;
  uv_update_time(uv_loop_);
  // An unref'd setImmediate leaves libuv's timeout as it was (-1 with nothing
  // else due) though its check phase would run it now: so the later waits end
  // within kTurnLimitMs of the callback's start, and the turn goes on.
  int64_t left = kTurnLimitMs - static_cast<int64_t>(uv_now(uv_loop_) - turn_start_ms_);
  if (left <= 0) return false;
  int t = libuv_timeout();
  *timeout_ms = t < 0 || t > left ? static_cast<int>(left) : t;
  return *timeout_ms != 0;
}

}  // namespace ioreactor
