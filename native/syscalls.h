// Thin wrappers for the calls whose failures the core must survive: accept,
// read/recv, write/writev/send/sendmsg, epoll_ctl, close, waitid, pidfd_open,
// pthread_create (the reaper), and the two places that allocate per-stream memory. In a release build each is
// the direct call (injected() is constexpr false, so the check vanishes); in
// the fault build (-DIOREACTOR_FAULTS) each first asks the fault table
// (fault.h) and may fail with the armed errno without making the call.
//
// The core calls these instead of the libc functions, so a test can make any
// of them fail on demand where the real kernel would need exhausted fds,
// memory or a misbehaving peer.
#ifndef IOREACTOR_SYSCALLS_H
#define IOREACTOR_SYSCALLS_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/epoll.h>
#include <sys/syscall.h>
#endif

#include "fault.h"

namespace ioreactor {
namespace sys {

using fault::Call;

// True, with errno set, when the fault build fails this call now. The core
// also asks it before allocating (kWriteBuffer, kSlab).
inline bool injected(Call call) {
  if constexpr (fault::kEnabled) {
    int err = fault::take(call);
    if (err != 0) {
      errno = err;
      return true;
    }
  }
  return false;
}

#ifdef SOCK_NONBLOCK
inline int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  return injected(Call::kAccept) ? -1 : ::accept4(fd, addr, len, flags);
}
#endif

inline int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  return injected(Call::kAccept) ? -1 : ::accept(fd, addr, len);
}

inline ssize_t read(int fd, void* buf, size_t len) {
  return injected(Call::kRead) ? -1 : ::read(fd, buf, len);
}

inline ssize_t write(int fd, const void* buf, size_t len) {
  return injected(Call::kWrite) ? -1 : ::write(fd, buf, len);
}

inline ssize_t writev(int fd, const struct iovec* iov, int count) {
  return injected(Call::kWritev) ? -1 : ::writev(fd, iov, count);
}

// Under ASan the libc calls stay: its interceptors bounds-check the buffer
// a read fills and a send reads, which a raw syscall(2) would skip.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IOREACTOR_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define IOREACTOR_ASAN 1
#endif
#if defined(__linux__) && !defined(IOREACTOR_ASAN)
#define IOREACTOR_RAW_SOCKET_CALLS 1
#else
#define IOREACTOR_RAW_SOCKET_CALLS 0
#endif

// Stream sockets' reads and sends, once per echoed message each: on Linux
// straight through syscall(2), not libc's wrappers. Those are cancellation
// points, and in a process with threads (node) each call brackets the
// syscall with __pthread_enable/disable_asynccancel: ~60 instructions of
// the ~130 libc spent per call (callgrind, bench/PERFORMANCE.md). The core
// never cancels a thread. recvfrom rather than read: the kernel goes to the
// socket directly instead of through vfs_read's file checks.
inline ssize_t recv(int fd, void* buf, size_t len) {
  if (injected(Call::kRead)) return -1;
#if IOREACTOR_RAW_SOCKET_CALLS
  return ::syscall(SYS_recvfrom, static_cast<long>(fd), buf, len, 0L, nullptr, nullptr);
#else
  return ::recv(fd, buf, len, 0);
#endif
}

inline ssize_t send(int fd, const void* buf, size_t len, int flags) {
  if (injected(Call::kSend)) return -1;
#if IOREACTOR_RAW_SOCKET_CALLS
  return ::syscall(SYS_sendto, static_cast<long>(fd), buf, len, static_cast<long>(flags), nullptr, 0L);
#else
  return ::send(fd, buf, len, flags);
#endif
}

inline ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  return injected(Call::kSendmsg) ? -1 : ::sendmsg(fd, msg, flags);
}

// Linux releases the fd even when close() fails, so an injected failure
// closes it too: callers must never retry a close.
inline int close(int fd) {
  if (injected(Call::kClose)) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return ::close(fd);
}

#if defined(__linux__)
inline int epoll_ctl(int epfd, int op, int fd, struct epoll_event* ev) {
  return injected(Call::kPollerCtl) ? -1 : ::epoll_ctl(epfd, op, fd, ev);
}
#endif

inline int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
  return injected(Call::kWaitid) ? -1 : ::waitid(type, id, info, options);
}

// Returns 0 or -errno (-EAGAIN under RLIMIT_NPROC), where pthread_create
// itself returns a positive error number: the one place that sign is turned.
inline int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  return injected(Call::kThread) ? -errno : -::pthread_create(thread, attr, fn, arg);
}

#ifdef SYS_pidfd_open
inline long pidfd_open(pid_t pid) {
  return injected(Call::kPidfdOpen) ? -1 : ::syscall(SYS_pidfd_open, pid, 0);
}
#endif

}  // namespace sys
}  // namespace ioreactor

#endif  // IOREACTOR_SYSCALLS_H
