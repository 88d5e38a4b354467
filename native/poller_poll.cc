// poll() backend: runs anywhere POSIX; the fallback and the portable reference.
//
// Design note — what poll() cannot do, and how this file copes:
// - poll() keeps no state in the kernel, so the interest set lives here: a
//   table indexed by fd (interest, mode, token, a change counter, the file's
//   identity), plus the pollfd array handed to poll(). Small changes patch
//   that array in place; when a wait is in flight they mark it stale and it
//   is rebuilt (once, however many changes) before the next poll().
// - There is no pollable fd (pollable_fd() is -1): the loop runs wait() on a
//   waiter thread while add/modify/remove come from the main thread. The table
//   is guarded by a mutex that is NOT held across poll(); a change made during
//   a wait wakes the waiter (eventfd on Linux, a pipe elsewhere). Results are
//   mapped back under the lock, and an event whose entry changed meanwhile
//   (counter differs) is dropped: level semantics re-report it at the next
//   wait if it still holds.
// - remove() during a wait blocks until that poll() has returned. A thread in
//   poll() holds a reference to every file it watches, so a close() right
//   after remove() would not close the socket until the waiter woke: a
//   listener would go on taking connections (then reset them), a stream would
//   send its FIN late. Waiting for the poll that was in flight (not for the
//   waiter to go idle, which may never happen) costs one wake-up.
// - Batches of changes: what keeps removing N linear is that the waiter does
//   not poll again at once after a wake-up. It hands the (maybe empty) result
//   to the main thread and polls again only once the main thread's current
//   turn is over (bridge_waiter.h). So the first remove() of a turn waits for
//   one poll() to return, and the others of that turn find no poll in flight:
//   they only mark the array stale, and it is rebuilt once. Deferring the
//   close() instead (a queue the waiter empties after its poll) would not
//   wait at all, but a close that has not happened yet when remove() returns
//   lets a connect() made right after still complete its handshake.
//   kernel_waits() counts the poll() calls, so tests can check the batching.
// - Edge trigger is refused with ENOTSUP: poll() reports present state only,
//   so it cannot tell "new data arrived" from "data still unread".
// - Files poll() cannot wait on (regular files, directories: always "ready")
//   are refused with EPERM, as epoll refuses them; accepted, they would make
//   the loop call the reader back without end.
// - epoll forgets a registration when its file is closed; poll() only sees
//   numbers. Each entry keeps the file's identity (device, inode) from add();
//   an entry whose fd number now names another file is one the caller closed
//   without remove(). add() replaces it (a new socket may get that number and
//   must be registrable), modify()/remove() drop it and say ENOENT, as epoll
//   would. Files without an inode of their own (eventfds and other anonymous
//   inodes share one) cannot be told apart this way.
// - Oneshot: after an event the entry is disarmed (its pollfd gets fd -1,
//   which poll() skips) until modify() re-arms it.
// - POLLNVAL (fd closed without remove()): reported once as kError, then the
//   entry is disarmed, so a forgotten close never spins the CPU.
// - POLLHUP/POLLERR come whatever the interest; POLLRDHUP (Linux) is asked for
//   only with readable interest, for the same reason as in the epoll backend.
// - A full batch (max) resumes scanning where it stopped next time, so fds at
//   the end of the array are not starved.
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <poll.h>
#include <sys/stat.h>
#include <vector>

#include "poller_internal.h"

namespace ioreactor {

namespace {

#if defined(POLLRDHUP)
constexpr short kReadEvents = POLLIN | POLLRDHUP;
constexpr short kHangupEvents = POLLHUP | POLLRDHUP;
#else
constexpr short kReadEvents = POLLIN;
constexpr short kHangupEvents = POLLHUP;
#endif

// Which file an fd number named when it was registered.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
};

// 0 and the identity of the file fd names; -EBADF when fd is not open, -EPERM
// for a file poll() would always call ready.
int inspect(int fd, FileId* id) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return -EBADF;
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ? -EPERM : 0;
}

struct Entry {
  bool used = false;
  bool armed = false;  // false: oneshot fired, or POLLNVAL seen
  bool oneshot = false;
  short events = 0;
  uint64_t token = 0;
  uint64_t seq = 0;     // bumped on every change
  long pos = -1;        // index in the pollfd array, -1 when not in it
  FileId file;          // what the fd named at add()
};

short to_poll(uint32_t interest) {
  short ev = 0;
  if (interest & kReadable) ev |= kReadEvents;
  if (interest & kWritable) ev |= POLLOUT;
  return ev;
}

uint32_t from_poll(short rev) {
  return make_events((rev & (POLLIN | POLLPRI)) != 0, (rev & POLLOUT) != 0,
                     (rev & (POLLERR | POLLNVAL)) != 0, (rev & kHangupEvents) != 0);
}

class PollPoller final : public Poller {
 public:
  explicit PollPoller(WakeChannel wake) : wake_(wake) {}
  ~PollPoller() override { close_wake_channel(&wake_); }

  int add(int fd, uint32_t interest, Mode mode, uint64_t token) override;
  int modify(int fd, uint32_t interest, Mode mode, uint64_t token) override;
  int remove(int fd) override;
  int wait(int timeout_ms, PollEvent* out, int max) override;

  int pollable_fd() const override { return -1; }
  void wake() override { signal_wake(wake_); }
  Backend backend() const override { return Backend::kPoll; }
  bool supports(Mode mode) const override { return mode.trigger == Trigger::kLevel; }

 private:
  int check(int fd, uint32_t interest, Mode mode, uint64_t token, FileId* id) const;
  bool stale(int fd, const FileId& id) const;
  void drop(int fd);
  void set(int fd, uint32_t interest, Mode mode, uint64_t token);
  void publish(int fd);
  void rebuild();
  int collect(PollEvent* out, int max);
  bool take(size_t i, PollEvent* ev);

  std::mutex mu_;              // guards everything below but wait_mu_
  std::vector<Entry> table_;   // indexed by fd
  std::vector<pollfd> fds_;    // [0] is the wake channel
  std::vector<uint64_t> seqs_; // entry seq each pollfd was built from
  bool stale_ = true;          // fds_ must be rebuilt before the next poll()
  bool polling_ = false;       // a thread is inside poll() on fds_
  uint64_t polls_ended_ = 0;   // poll() calls that have returned
  std::condition_variable poll_ended_;
  uint64_t next_seq_ = 1;
  size_t resume_ = 1;          // where the next scan starts
  std::mutex wait_mu_;         // one wait() at a time owns fds_ during poll()
  WakeChannel wake_;
};

int PollPoller::check(int fd, uint32_t interest, Mode mode, uint64_t token, FileId* id) const {
  int kind = inspect(fd, id);
  if (kind == -EBADF) return -EBADF;
  if (check_registration(interest, token) != 0) return -EINVAL;
  if (!supports(mode)) return -ENOTSUP;
  return kind;
}

// True when fd has an entry (under mu_) made for a file other than id: the
// caller closed that one without remove(), and the number was reused.
bool PollPoller::stale(int fd, const FileId& id) const {
  return static_cast<size_t>(fd) < table_.size() && table_[fd].used && !(table_[fd].file == id);
}

// Forgets fd's entry (under mu_).
void PollPoller::drop(int fd) {
  table_[fd].used = table_[fd].armed = false;
  publish(fd);  // wakes a poll() in flight
}

int PollPoller::add(int fd, uint32_t interest, Mode mode, uint64_t token) {
  FileId id;
  int err = check(fd, interest, mode, token, &id);
  if (err != 0) return err;
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<size_t>(fd) >= table_.size()) table_.resize(fd + 1);
  // A stale entry is overwritten: its file is gone, as epoll would know.
  if (table_[fd].used && !stale(fd, id)) return -EEXIST;
  table_[fd].file = id;
  set(fd, interest, mode, token);
  return 0;
}

int PollPoller::modify(int fd, uint32_t interest, Mode mode, uint64_t token) {
  FileId id;
  int err = check(fd, interest, mode, token, &id);
  std::lock_guard<std::mutex> lock(mu_);
  if (err == 0 && stale(fd, id)) {
    drop(fd);
    return -ENOENT;
  }
  if (err == 0 && (static_cast<size_t>(fd) >= table_.size() || !table_[fd].used)) err = -ENOENT;
  if (err == 0) set(fd, interest, mode, token);
  return err;
}

int PollPoller::remove(int fd) {
  if (fd < 0) return -EBADF;
  FileId id;
  bool open = inspect(fd, &id) != -EBADF;
  std::unique_lock<std::mutex> lock(mu_);
  bool known = static_cast<size_t>(fd) < table_.size() && table_[fd].used;
  bool same = known && open && !stale(fd, id);
  if (known) {
    drop(fd);
    if (polling_) {
      uint64_t in_flight = polls_ended_;
      poll_ended_.wait(lock, [&] { return polls_ended_ != in_flight; });
    }
  }
  // Closed before remove(): forget it all the same, but say so, as epoll does.
  if (!open) return -EBADF;
  return same ? 0 : -ENOENT;
}

// Records a registration (under mu_) and makes the pollfd array follow.
void PollPoller::set(int fd, uint32_t interest, Mode mode, uint64_t token) {
  Entry& e = table_[fd];
  e.used = e.armed = true;
  e.oneshot = mode.oneshot;
  e.events = to_poll(interest);
  e.token = token;
  publish(fd);
}

// Brings the pollfd for fd up to date (under mu_): in place when no poll() is
// running on the array, else by marking it stale and waking the waiter.
void PollPoller::publish(int fd) {
  Entry& e = table_[fd];
  e.seq = next_seq_++;
  if (!polling_ && !stale_ && e.pos >= 0) {
    fds_[e.pos] = pollfd{e.armed ? fd : -1, e.events, 0};
    seqs_[e.pos] = e.seq;
    return;
  }
  stale_ = true;
  if (polling_) signal_wake(wake_);
}

void PollPoller::rebuild() {
  fds_.assign(1, pollfd{wake_.read_fd, POLLIN, 0});
  seqs_.assign(1, 0);
  for (size_t fd = 0; fd < table_.size(); ++fd) {
    Entry& e = table_[fd];
    e.pos = -1;
    if (!e.used) continue;
    e.pos = static_cast<long>(fds_.size());
    fds_.push_back(pollfd{e.armed ? static_cast<int>(fd) : -1, e.events, 0});
    seqs_.push_back(e.seq);
  }
  stale_ = false;
  resume_ = 1;
}

int PollPoller::wait(int timeout_ms, PollEvent* out, int max) {
  if (check_wait_args(timeout_ms, out, max) != 0) return -EINVAL;
  std::lock_guard<std::mutex> waiting(wait_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stale_) rebuild();
    polling_ = true;
  }
  int n = poll(fds_.data(), fds_.size(), timeout_ms);
  int saved = errno;
  count_kernel_wait();
  std::lock_guard<std::mutex> lock(mu_);
  polling_ = false;
  ++polls_ended_;
  poll_ended_.notify_all();
  if (n < 0) return saved == EINTR ? 0 : -saved;
  if (fds_[0].revents != 0) drain_wake(wake_);
  // A stale array still maps back: take() checks each entry's counter.
  return n == 0 ? 0 : collect(out, max);
}

// Scans the array from resume_, wrapping once, for up to max events.
int PollPoller::collect(PollEvent* out, int max) {
  size_t size = fds_.size();
  if (size <= 1) return 0;
  if (resume_ >= size) resume_ = 1;
  int count = 0;
  size_t i = resume_;
  do {
    if (fds_[i].revents != 0 && take(i, &out[count])) {
      if (++count == max) {
        resume_ = i + 1;
        return count;
      }
    }
    i = i + 1 < size ? i + 1 : 1;
  } while (i != resume_);
  return count;
}

// Turns pollfd i's result into an event if its entry did not change since
// the array was built; disarms oneshot and invalid entries.
bool PollPoller::take(size_t i, PollEvent* ev) {
  pollfd& p = fds_[i];
  short rev = p.revents;
  p.revents = 0;
  if (p.fd < 0 || static_cast<size_t>(p.fd) >= table_.size()) return false;
  Entry& e = table_[p.fd];
  if (!e.used || !e.armed || e.seq != seqs_[i]) return false;
  *ev = PollEvent{e.token, from_poll(rev)};
  if (e.oneshot || (rev & POLLNVAL) != 0) {
    e.armed = false;
    publish(p.fd);
  }
  return true;
}

}  // namespace

std::unique_ptr<Poller> make_poll_poller(int* err) {
  WakeChannel wake;
  *err = open_wake_channel(&wake);
  if (*err != 0) return nullptr;
  return std::unique_ptr<Poller>(new PollPoller(wake));
}

}  // namespace ioreactor
