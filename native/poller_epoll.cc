// epoll backend (Linux).
//
// Design note — the epoll quirks this file works around, and why:
// - epoll registers the open file description, not the fd number. A dup()'d
//   fd keeps a registration alive after the original is closed, so events can
//   arrive for a number we no longer own. Callers remove() before close();
//   tokens (slot + generation) let the loop drop anything stale that remains.
// - The kernel drops a registration by itself when the last fd of the file
//   closes, so modify/remove afterwards fail with EBADF/ENOENT: that is the
//   errno we hand back, same as the other backends.
// - EPOLLHUP and EPOLLERR are always reported whatever the interest. EPOLLRDHUP
//   (peer shut its write side) is asked for only with readable interest:
//   asked for always, a level-triggered fd with reading paused would report it
//   at every wait and spin the loop on a half-closed connection.
// - wake(): a thread blocked in epoll_wait(-1) cannot otherwise be interrupted.
//   An eventfd is registered internally under a token no caller may use
//   (kReservedToken; add/modify reject it with -EINVAL); wait() drains it and hides
//   its event, so a wake shows up as a return with fewer (maybe 0) events.
// - epoll_create1(EPOLL_CLOEXEC) so children never inherit the epoll fd. A
//   forked child must not keep using a parent's poller: they would share the
//   interest list.
// - epoll_wait's EINTR is turned into 0 events; callers just wait again.
// - epoll_ctl is thread-safe, so add/modify/remove need no lock even while
//   another thread waits; concurrent wait() calls take turns (wait_mu_) since
//   they share one event buffer.
#if defined(__linux__)

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <sys/epoll.h>
#include <unistd.h>
#include <vector>

#include "poller_internal.h"
#include "syscalls.h"

namespace ioreactor {

namespace {

constexpr uint64_t kWakeToken = kReservedToken;
// Upper bound on one epoll_wait, so a huge max cannot make us allocate huge.
constexpr int kMaxBatch = 4096;

uint32_t to_epoll(uint32_t interest, Mode mode) {
  uint32_t ev = 0;
  if (interest & kReadable) ev |= EPOLLIN | EPOLLRDHUP;
  if (interest & kWritable) ev |= EPOLLOUT;
  if (mode.trigger == Trigger::kEdge) ev |= EPOLLET;
  if (mode.oneshot) ev |= EPOLLONESHOT;
  return ev;
}

uint32_t from_epoll(uint32_t ev) {
  return make_events((ev & (EPOLLIN | EPOLLPRI)) != 0, (ev & EPOLLOUT) != 0,
                     (ev & EPOLLERR) != 0, (ev & (EPOLLHUP | EPOLLRDHUP)) != 0);
}

class EpollPoller final : public Poller {
 public:
  EpollPoller(int epfd, WakeChannel wake) : epfd_(epfd), wake_(wake) {}
  ~EpollPoller() override {
    close_wake_channel(&wake_);
    close(epfd_);
  }

  int add(int fd, uint32_t interest, Mode mode, uint64_t token) override {
    return control(EPOLL_CTL_ADD, fd, interest, mode, token);
  }
  int modify(int fd, uint32_t interest, Mode mode, uint64_t token) override {
    return control(EPOLL_CTL_MOD, fd, interest, mode, token);
  }
  int remove(int fd) override {
    if (fd < 0 || fd == wake_.read_fd) return fd < 0 ? -EBADF : -ENOENT;
    epoll_event unused{};  // kernels before 2.6.9 wanted non-null
    return sys::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &unused) == 0 ? 0 : -errno;
  }

  int wait(int timeout_ms, PollEvent* out, int max) override;

  int pollable_fd() const override { return epfd_; }
  void wake() override { signal_wake(wake_); }
  Backend backend() const override { return Backend::kEpoll; }
  bool supports(Mode) const override { return true; }

 private:
  int control(int op, int fd, uint32_t interest, Mode mode, uint64_t token) {
    if (fd < 0) return -EBADF;
    if (check_registration(interest, token) != 0) return -EINVAL;
    if (fd == wake_.read_fd) return op == EPOLL_CTL_ADD ? -EEXIST : -ENOENT;
    epoll_event ev{};
    ev.events = to_epoll(interest, mode);
    ev.data.u64 = token;
    return sys::epoll_ctl(epfd_, op, fd, &ev) == 0 ? 0 : -errno;
  }

  int epfd_;
  WakeChannel wake_;
  std::mutex wait_mu_;            // one wait() at a time owns buf_
  std::vector<epoll_event> buf_;
};

int EpollPoller::wait(int timeout_ms, PollEvent* out, int max) {
  if (check_wait_args(timeout_ms, out, max) != 0) return -EINVAL;
  std::lock_guard<std::mutex> waiting(wait_mu_);
  if (max > kMaxBatch) max = kMaxBatch;
  if (buf_.size() < static_cast<size_t>(max)) buf_.resize(max);
  int n = epoll_wait(epfd_, buf_.data(), max, timeout_ms);
  count_kernel_wait();
  if (n < 0) return errno == EINTR ? 0 : -errno;
  int count = 0;
  for (int i = 0; i < n; ++i) {
    if (buf_[i].data.u64 == kWakeToken) {
      drain_wake(wake_);
      continue;
    }
    out[count++] = PollEvent{buf_[i].data.u64, from_epoll(buf_[i].events)};
  }
  return count;
}

}  // namespace

std::unique_ptr<Poller> make_epoll_poller(int* err) {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    *err = -errno;
    return nullptr;
  }
  WakeChannel wake;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  *err = open_wake_channel(&wake);
  if (*err == 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, wake.read_fd, &ev) != 0) *err = -errno;
  if (*err != 0) {
    close_wake_channel(&wake);
    close(epfd);
    return nullptr;
  }
  return std::unique_ptr<Poller>(new EpollPoller(epfd, wake));
}

}  // namespace ioreactor

#endif  // __linux__
