// Backend selection and the checks shared by every backend. The order of
// available_backends() is the preference order: the platform's native
// readiness API first, poll() as the fallback that runs anywhere POSIX.
#include <cerrno>
#include <fcntl.h>

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

constexpr uint32_t kAllEvents = kReadable | kWritable | kError | kHangup;

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
  *err = ENOTSUP;
  return nullptr;
}

}  // namespace

std::unique_ptr<Poller> make_poller(Backend backend, int* err) {
  int ignored = 0;
  if (err == nullptr) err = &ignored;
  *err = 0;
  if (!is_available(backend)) {
    *err = ENOTSUP;
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
  if (fd < 0) return EBADF;
  return fcntl(fd, F_GETFD) == -1 ? EBADF : 0;
}

int check_interest(uint32_t interest) {
  return (interest & ~kAllEvents) == 0 ? 0 : EINVAL;
}

int check_wait_args(int timeout_ms, const PollEvent* out, int max) {
  if (timeout_ms < -1 || out == nullptr || max <= 0) return EINVAL;
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

}  // namespace ioreactor
