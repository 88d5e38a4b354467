// What the backends share and nobody else needs: their factories (poller.cc
// picks one) and the argument checks every backend applies the same way, so
// a caller sees the same errno whichever backend it runs on.
#ifndef IOREACTOR_POLLER_INTERNAL_H
#define IOREACTOR_POLLER_INTERNAL_H

#include <memory>

#include "poller.h"

namespace ioreactor {

// Each returns nullptr and sets *err when the kernel object cannot be made.
// Only the backends built for this platform are defined.
std::unique_ptr<Poller> make_epoll_poller(int* err);
std::unique_ptr<Poller> make_kqueue_poller(int* err);
std::unique_ptr<Poller> make_poll_poller(int* err);

// 0 when fd names an open descriptor, else -EBADF (negative or closed).
int check_fd(int fd);

// A token no caller may register: epoll marks its own wake-up fd with it.
// Every backend rejects it, so code tested on one backend runs on all.
constexpr uint64_t kReservedToken = UINT64_MAX;

// 0 when interest holds only Events bits and token is not reserved, else -EINVAL.
int check_registration(uint32_t interest, uint64_t token);

// 0 when wait()'s arguments make sense, else -EINVAL.
int check_wait_args(int timeout_ms, const PollEvent* out, int max);

// The Poll* events callers get back, from kernel flags already decoded into
// booleans; keeps the mapping identical across backends.
uint32_t make_events(bool readable, bool writable, bool error, bool hangup);

// A wake-up channel for a thread blocked in the kernel: an eventfd on Linux
// (one fd, read == write), a non-blocking close-on-exec pipe elsewhere.
struct WakeChannel {
  int read_fd = -1;
  int write_fd = -1;
};
int open_wake_channel(WakeChannel* ch);  // 0 or -errno
void signal_wake(const WakeChannel& ch);  // never blocks; a pending wake is enough
void drain_wake(const WakeChannel& ch);
void close_wake_channel(WakeChannel* ch);

}  // namespace ioreactor

#endif  // IOREACTOR_POLLER_INTERNAL_H
