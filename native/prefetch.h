// Asking the CPU for memory ahead of its use (GCC and Clang's
// __builtin_prefetch), for state that is cold by the time a connection's
// turn comes: with ~1,000 connections served per wake-up, the kernel's
// socket work and every other connection's state pass through the caches
// between two visits to one connection, so each line of its TLS state is a
// cache miss, and a chain of pointers to it is a chain of misses paid one
// after another. Asked for just before a system call (the read of that
// connection, the send of the one before it), the lines arrive while the
// kernel works. A prefetch never faults, so a range may reach past an
// object whose exact size is not known (OpenSSL's GCM context).
#ifndef IOREACTOR_PREFETCH_H
#define IOREACTOR_PREFETCH_H

#include <cstddef>
#include <cstdint>

namespace ioreactor {

constexpr size_t kCacheLine = 64;

// Every cache line of [p, p + len).
inline void prefetch_lines(const void* p, size_t len) {
  auto at = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{kCacheLine - 1};
  auto end = reinterpret_cast<uintptr_t>(p) + len;
  for (; at < end; at += kCacheLine) __builtin_prefetch(reinterpret_cast<const void*>(at));
}

}  // namespace ioreactor

#endif  // IOREACTOR_PREFETCH_H
