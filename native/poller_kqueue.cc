// kqueue backend (macOS, FreeBSD, OpenBSD, NetBSD, DragonFly).
//
// Design note — the kqueue quirks this file works around, and why:
// - Reading and writing are two knotes (EVFILT_READ, EVFILT_WRITE) that fire
//   separately; wait() merges them into one event per fd, as epoll reports.
// - EV_ADD on an existing knote updates it silently (no EEXIST) and keeps its
//   old EV_CLEAR/EV_DISPATCH flags, so a table here remembers what is
//   registered: it yields EEXIST/ENOENT like the other backends, and a mode
//   change deletes the old knotes before adding the new ones.
// - Edge is EV_CLEAR. Oneshot is EV_DISPATCH, not EV_ONESHOT: the knote stays
//   registered (disabled) after it fires, so modify() re-arms it with
//   EV_ENABLE and remove() can still EV_DELETE it. As the two filters dispatch
//   separately, when one fires the other is disabled too: "report once" holds
//   per fd, as with EPOLLONESHOT.
// - Changes carry EV_RECEIPT: each returns its own errno and none dequeues
//   pending events. wait() passes no changes, so an EV_ERROR there is skipped.
// - EV_EOF (peer finished, or can take no more) is kHangup, plus kError when
//   fflags carries a socket errno.
// - udata carries the token and the table keeps a copy; an event whose udata
//   no longer matches raced with modify/remove on another thread: dropped.
// - wake(): EVFILT_USER + NOTE_TRIGGER where it exists; OpenBSD lacks it and
//   gets a pipe under EVFILT_READ.
// - pollable_fd(): on the BSDs the kqueue fd can sit in libuv's loop, but on
//   macOS a kqueue inside a kqueue misreports readiness (libuv#883): -1 there,
//   and the loop uses a waiter thread. Hence a mutex on the table, not held
//   across the blocking kevent(); one wait() at a time owns the buffer.
// - kqueue fds are not inherited across fork; FD_CLOEXEC covers exec too.
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__) || defined(__DragonFly__)

#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

#include "poller_internal.h"

namespace ioreactor {

namespace {

constexpr int kMaxBatch = 4096;
#if defined(__APPLE__)
constexpr bool kNestable = false;  // libuv#883
#else
constexpr bool kNestable = true;
#endif
#if defined(EVFILT_USER)
constexpr uintptr_t kWakeIdent = 0;  // EVFILT_USER idents are ours alone
#endif

struct Entry {
  bool used = false;
  bool armed = false;  // false once a oneshot fired, until modify()
  uint32_t interest = 0;
  Mode mode;
  uint64_t token = 0;
  uint64_t batch = 0;  // the wait() that last reported this fd...
  int slot = 0;        // ...and where in its output, for merging
};

void* to_udata(uint64_t token) { return reinterpret_cast<void*>(static_cast<uintptr_t>(token)); }

struct kevent change(int fd, short filter, unsigned short flags, uint64_t token) {
  struct kevent kev;
  EV_SET(&kev, fd, filter, flags | EV_RECEIPT, 0, 0, to_udata(token));
  return kev;
}

// At most one change per filter (read, write): kept on the stack, since every
// add, modify and remove (and every oneshot event) makes some.
struct Changes {
  struct kevent kev[2];
  int n = 0;
};

// One change with flags per knote that interest asks for.
Changes changes_for(int fd, uint32_t interest, unsigned short flags, uint64_t token) {
  Changes c;
  if (interest & kReadable) c.kev[c.n++] = change(fd, EVFILT_READ, flags, token);
  if (interest & kWritable) c.kev[c.n++] = change(fd, EVFILT_WRITE, flags, token);
  return c;
}

Changes one_change(const struct kevent& kev) {
  Changes c;
  c.kev[c.n++] = kev;
  return c;
}

class KqueuePoller final : public Poller {
 public:
  explicit KqueuePoller(int kq) : kq_(kq) {}
  ~KqueuePoller() override {
    close_wake_channel(&pipe_wake_);
    close(kq_);
  }
  int init_wake();

  int add(int fd, uint32_t interest, Mode mode, uint64_t token) override;
  int modify(int fd, uint32_t interest, Mode mode, uint64_t token) override;
  int remove(int fd) override;
  int wait(int timeout_ms, PollEvent* out, int max) override;

  int pollable_fd() const override { return kNestable ? kq_ : -1; }
  void wake() override;
  Backend backend() const override { return Backend::kKqueue; }
  bool supports(Mode) const override { return true; }

 private:
  int submit(const Changes& changes);
  void drop_filters(int fd, uint32_t filters);
  int arm(int fd, uint32_t interest, Mode mode, uint64_t token);
  void map_event(const struct kevent& kev, PollEvent* out, int* count);
  Entry* find(int fd) {
    bool known = fd >= 0 && static_cast<size_t>(fd) < table_.size() && table_[fd].used;
    return known ? &table_[fd] : nullptr;
  }

  int kq_;
  WakeChannel pipe_wake_;      // only where EVFILT_USER is missing
  std::mutex mu_;              // guards table_ and batch_
  std::vector<Entry> table_;   // indexed by fd
  uint64_t batch_ = 0;
  std::mutex wait_mu_;         // one wait() at a time owns buf_
  std::vector<struct kevent> buf_;
};

// Applies changes without dequeuing events; returns the first -errno or 0.
int KqueuePoller::submit(const Changes& changes) {
  if (changes.n == 0) return 0;
  struct kevent receipts[2];
  timespec zero{0, 0};
  int n = kevent(kq_, changes.kev, changes.n, receipts, changes.n, &zero);
  if (n < 0) return -errno;
  for (int i = 0; i < n; ++i) {
    if ((receipts[i].flags & EV_ERROR) != 0 && receipts[i].data != 0) {
      return -static_cast<int>(receipts[i].data);
    }
  }
  return 0;
}

// Deletes the knotes for the given interest bits; errors mean already gone.
void KqueuePoller::drop_filters(int fd, uint32_t filters) {
  submit(changes_for(fd, filters, EV_DELETE, 0));
}

// Adds (or re-enables) the knotes for interest; the caller dropped stale ones.
int KqueuePoller::arm(int fd, uint32_t interest, Mode mode, uint64_t token) {
  unsigned short flags = EV_ADD | EV_ENABLE;
  if (mode.trigger == Trigger::kEdge) flags |= EV_CLEAR;
  if (mode.oneshot) flags |= EV_DISPATCH;
  return submit(changes_for(fd, interest, flags, token));
}

int KqueuePoller::add(int fd, uint32_t interest, Mode mode, uint64_t token) {
  if (check_fd(fd) != 0) return -EBADF;
  if (check_registration(interest, token) != 0) return -EINVAL;
  std::lock_guard<std::mutex> lock(mu_);
  if (find(fd) != nullptr) return -EEXIST;
  int err = arm(fd, interest, mode, token);
  if (err != 0) {
    drop_filters(fd, interest);  // undo a half-made registration
    return err;
  }
  if (static_cast<size_t>(fd) >= table_.size()) table_.resize(fd + 1);
  table_[fd] = Entry{true, true, interest, mode, token, 0, 0};
  return 0;
}

int KqueuePoller::modify(int fd, uint32_t interest, Mode mode, uint64_t token) {
  if (check_fd(fd) != 0) return -EBADF;
  if (check_registration(interest, token) != 0) return -EINVAL;
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = find(fd);
  if (e == nullptr) return -ENOENT;
  bool same_mode = e->mode.trigger == mode.trigger && e->mode.oneshot == mode.oneshot;
  drop_filters(fd, same_mode ? e->interest & ~interest : e->interest);
  *e = Entry{true, true, interest, mode, token, 0, 0};
  return arm(fd, interest, mode, token);
}

int KqueuePoller::remove(int fd) {
  if (fd < 0) return -EBADF;
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = find(fd);
  if (e != nullptr) {
    drop_filters(fd, e->interest);
    e->used = false;
  }
  // Closed before remove(): the kernel dropped the knotes; forget it too.
  if (check_fd(fd) != 0) return -EBADF;
  return e != nullptr ? 0 : -ENOENT;
}

// Turns one kevent into an event, or folds it into this batch's event for
// the same fd, under mu_. Drops what raced with modify/remove.
void KqueuePoller::map_event(const struct kevent& kev, PollEvent* out, int* count) {
  if ((kev.flags & EV_ERROR) != 0) return;  // not from a change of ours
  int fd = static_cast<int>(kev.ident);
  Entry* e = find(fd);
  uint32_t bit = kev.filter == EVFILT_READ ? kReadable : kWritable;
  if (e == nullptr || kev.udata != to_udata(e->token) || (e->interest & bit) == 0) return;
  bool eof = (kev.flags & EV_EOF) != 0;
  uint32_t ev = make_events(bit == kReadable, bit == kWritable, eof && kev.fflags != 0, eof);
  if (e->batch == batch_) {
    out[e->slot].events |= ev;
    return;
  }
  if (!e->armed) return;
  e->batch = batch_;
  e->slot = *count;
  out[(*count)++] = PollEvent{e->token, ev};
  if (e->mode.oneshot) {
    // The knote that fired is disabled; disable its sibling too: once per fd.
    e->armed = false;
    if ((e->interest & kWritable) && (e->interest & kReadable)) {
      submit(changes_for(fd, e->interest, EV_DISABLE, e->token));
    }
  }
}

int KqueuePoller::wait(int timeout_ms, PollEvent* out, int max) {
  if (check_wait_args(timeout_ms, out, max) != 0) return -EINVAL;
  std::lock_guard<std::mutex> waiting(wait_mu_);
  if (max > kMaxBatch) max = kMaxBatch;
  if (buf_.size() < static_cast<size_t>(max)) buf_.resize(max);
  timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  int n = kevent(kq_, nullptr, 0, buf_.data(), max, timeout_ms < 0 ? nullptr : &ts);
  count_kernel_wait();
  if (n < 0) return errno == EINTR ? 0 : -errno;
  std::lock_guard<std::mutex> lock(mu_);
  ++batch_;
  int count = 0;
  for (int i = 0; i < n; ++i) {
    const struct kevent& kev = buf_[i];
#if defined(EVFILT_USER)
    if (kev.filter == EVFILT_USER) continue;  // a wake(); EV_CLEAR resets it
#else
    if (static_cast<int>(kev.ident) == pipe_wake_.read_fd) {
      drain_wake(pipe_wake_);
      continue;
    }
#endif
    map_event(kev, out, &count);
  }
  return count;
}

int KqueuePoller::init_wake() {
#if defined(EVFILT_USER)
  struct kevent kev;
  EV_SET(&kev, kWakeIdent, EVFILT_USER, EV_ADD | EV_CLEAR | EV_RECEIPT, 0, 0, nullptr);
  return submit(one_change(kev));
#else
  int err = open_wake_channel(&pipe_wake_);
  return err != 0 ? err : submit(one_change(change(pipe_wake_.read_fd, EVFILT_READ, EV_ADD, 0)));
#endif
}

void KqueuePoller::wake() {
#if defined(EVFILT_USER)
  struct kevent kev;
  EV_SET(&kev, kWakeIdent, EVFILT_USER, 0, NOTE_TRIGGER, 0, nullptr);
  timespec zero{0, 0};
  while (kevent(kq_, &kev, 1, nullptr, 0, &zero) < 0 && errno == EINTR) {
  }
#else
  signal_wake(pipe_wake_);
#endif
}

}  // namespace

std::unique_ptr<Poller> make_kqueue_poller(int* err) {
  int kq = kqueue();
  if (kq < 0) {
    *err = -errno;
    return nullptr;
  }
  fcntl(kq, F_SETFD, FD_CLOEXEC);
  std::unique_ptr<KqueuePoller> poller(new KqueuePoller(kq));
  *err = poller->init_wake();
  if (*err != 0) return nullptr;
  return poller;
}

}  // namespace ioreactor

#endif  // kqueue platforms
