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

// 0 when fd names an open descriptor, else EBADF (negative or closed).
int check_fd(int fd);

// 0 when interest holds only Events bits, else EINVAL.
int check_interest(uint32_t interest);

// 0 when wait()'s arguments make sense, else EINVAL.
int check_wait_args(int timeout_ms, const PollEvent* out, int max);

// The Poll* events callers get back, from kernel flags already decoded into
// booleans; keeps the mapping identical across backends.
uint32_t make_events(bool readable, bool writable, bool error, bool hangup);

}  // namespace ioreactor

#endif  // IOREACTOR_POLLER_INTERNAL_H
