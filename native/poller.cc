// Backend selection and the checks shared by every backend. The order of
// available_backends() is the preference order: the platform's native
// readiness API first, poll() as the fallback that runs anywhere POSIX.
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include "poller_internal.h"

namespace ioreactor {

namespace {

#if defined(__linux__)
constexpr Backend kAvailable[] = {Backend::kEpoll, Backend::kPoll};
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__) || defined(__DragonFly__)
constexpr Backend kAvailable[] = {Backend::kKqueue, Backend::kPoll};
#else
constexpr Backend kAvailable[] = {Backend::kPoll};
#endif


bool is_available(Backend backend) {
  for (Backend b : kAvailable) {
    if (b == backend) return true;
  }
  return false;
}

std::unique_ptr<Poller> make_available(Backend backend, int* err) {
  switch (backend) {
#if defined(__linux__)
    case Backend::kEpoll:
      return make_epoll_poller(err);
#endif
#if !defined(__linux__) && (defined(__APPLE__) || defined(__FreeBSD__) || \
    defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__))
    case Backend::kKqueue:
      return make_kqueue_poller(err);
#endif
    case Backend::kPoll:
      return make_poll_poller(err);
    default:
      break;
  }
  *err = -ENOTSUP;
  return nullptr;
}

}  // namespace

std::unique_ptr<Poller> make_poller(Backend backend, int* err) {
  int ignored = 0;
  if (err == nullptr) err = &ignored;
  *err = 0;
  if (!is_available(backend)) {
    *err = -ENOTSUP;
    return nullptr;
  }
  return make_available(backend, err);
}

const Backend* available_backends(int* count) {
  if (count != nullptr) {
    *count = static_cast<int>(sizeof(kAvailable) / sizeof(kAvailable[0]));
  }
  return kAvailable;
}

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::kEpoll:
      return "epoll";
    case Backend::kKqueue:
      return "kqueue";
    case Backend::kPoll:
      return "poll";
  }
  return "unknown";
}

bool backend_from_name(const std::string& name, Backend* out) {
  for (Backend b : {Backend::kEpoll, Backend::kKqueue, Backend::kPoll}) {
    if (name == backend_name(b)) {
      if (out != nullptr) *out = b;
      return true;
    }
  }
  return false;
}

int check_fd(int fd) {
  if (fd < 0) return -EBADF;
  return fcntl(fd, F_GETFD) == -1 ? -EBADF : 0;
}

int check_registration(uint32_t interest, uint64_t token) {
  return (interest & ~kAllEvents) == 0 && token != kReservedToken ? 0 : -EINVAL;
}

int check_wait_args(int timeout_ms, const PollEvent* out, int max) {
  if (timeout_ms < -1 || out == nullptr || max <= 0) return -EINVAL;
  return 0;
}

uint32_t make_events(bool readable, bool writable, bool error, bool hangup) {
  uint32_t ev = 0;
  if (readable) ev |= kReadable;
  if (writable) ev |= kWritable;
  if (error) ev |= kError;
  if (hangup) ev |= kHangup;
  return ev;
}

int open_wake_channel(WakeChannel* ch) {
#if defined(__linux__)
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return -errno;
  ch->read_fd = ch->write_fd = fd;
#else
  int fds[2];
  if (pipe(fds) != 0) return -errno;  // pipe2 is not on every BSD/macOS
  for (int fd : fds) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, O_NONBLOCK);
  }
  ch->read_fd = fds[0];
  ch->write_fd = fds[1];
#endif
  return 0;
}

void signal_wake(const WakeChannel& ch) {
  uint64_t one = 1;  // eventfd wants 8 bytes; a pipe takes them too
  // EAGAIN means a wake is already pending, which is all we need.
  while (write(ch.write_fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void drain_wake(const WakeChannel& ch) {
  uint64_t buf[16];
  for (;;) {
    ssize_t n = read(ch.read_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    // An eventfd empties in one read; a pipe until it would block.
    if (n <= 0 || ch.read_fd == ch.write_fd) return;
  }
}

void close_wake_channel(WakeChannel* ch) {
  if (ch->write_fd >= 0 && ch->write_fd != ch->read_fd) close(ch->write_fd);
  if (ch->read_fd >= 0) close(ch->read_fd);
  ch->read_fd = ch->write_fd = -1;
}

}  // namespace ioreactor
