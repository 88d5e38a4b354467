// The orphan reaper (see reaper.h for the design).
//
// The state lives on the heap and is never freed: the thread is detached and
// may still be in poll() while static destructors run at process exit.
// Every public function catches what the standard library might throw
// (bad_alloc, system_error from the mutex): none may escape into a
// destructor or a C callback.
#include "reaper.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <vector>

#include "process.h"
#include "syscalls.h"

namespace ioreactor {
namespace reaper {
namespace {

struct Orphan {
  pid_t pid;
  int fd;
};

struct State {
  std::mutex mu;
  std::vector<Orphan> orphans;
  int wake[2] = {-1, -1};  // a byte here makes the thread rebuild its poll set
  bool running = false;
};

State& state() {
  static State* s = new State;
  return *s;
}

// True when the orphan is done with (reaped now, or not ours to reap, which
// waitid says with ECHILD); its fd is closed then.
bool try_reap(const Orphan& o) {
  process::ExitStatus st;
  if (process::reap(o.fd, o.pid, &st) == 0) return false;
  ::close(o.fd);
  return true;
}

// Under s.mu: drops every orphan that has exited.
void sweep(State& s) {
  size_t kept = 0;
  for (const Orphan& o : s.orphans) {
    if (!try_reap(o)) s.orphans[kept++] = o;
  }
  s.orphans.resize(kept);
}

// Under s.mu: reaps the orphans the last poll() reported. fds[i + 1] watched
// orphans[i]; the list only grows while the thread runs (nobody else removes),
// so entries past the poll set are new and are tried as well.
void reap_ready(State& s, const std::vector<pollfd>& fds) {
  size_t kept = 0;
  for (size_t i = 0; i < s.orphans.size(); ++i) {
    const Orphan o = s.orphans[i];
    bool ready = i + 1 >= fds.size() || fds[i + 1].revents != 0;
    if (!ready || !try_reap(o)) s.orphans[kept++] = o;
  }
  s.orphans.resize(kept);
}

// The wake-up pipe lives as long as the thread, so an idle process holds no
// fd of ours.
bool make_wake_pipe(State& s) {
  int p[2];
  if (::pipe(p) != 0) return false;
  for (int fd : p) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  s.wake[0] = p[0];
  s.wake[1] = p[1];
  return true;
}

void close_wake_pipe(State& s) {
  for (int& fd : s.wake) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

void drain_wake(const State& s) {
  char buf[64];
  while (::read(s.wake[0], buf, sizeof buf) > 0) {
  }
}

// Under s.mu: reaps what the last wait reported and builds the next poll set
// (wake pipe first), or returns false when nothing is left: the thread ends.
bool next_poll_set(State& s, std::vector<pollfd>* fds) {
  reap_ready(s, *fds);
  if (s.orphans.empty()) {
    s.running = false;
    close_wake_pipe(s);
    return false;
  }
  fds->assign(1, pollfd{s.wake[0], POLLIN, 0});
  for (const Orphan& o : s.orphans) fds->push_back(pollfd{o.fd, POLLIN, 0});
  return true;
}

void wait_loop(State& s) {
  std::vector<pollfd> fds;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(s.mu);
      if (!next_poll_set(s, &fds)) return;
    }
    if (::poll(fds.data(), static_cast<nfds_t>(fds.size()), -1) < 0 && errno != EINTR) {
      ::usleep(10000);  // ENOMEM: try again shortly rather than spin
    }
    drain_wake(s);
  }
}

void* run(void*) {
  State& s = state();
  try {
    wait_loop(s);
  } catch (...) {
    // Out of memory: the thread ends and the next adopt() or kick() restarts it.
    try {
      std::lock_guard<std::mutex> lock(s.mu);
      s.running = false;
      close_wake_pipe(s);
    } catch (...) {
    }
  }
  return nullptr;
}

// Under s.mu: makes sure a thread is waiting on the current list.
void start_locked(State& s) {
  if (s.running) {
    char byte = 1;
    ssize_t n = ::write(s.wake[1], &byte, 1);  // EAGAIN: a wake-up is pending anyway
    (void)n;
    return;
  }
  if (s.orphans.empty() || !make_wake_pipe(s)) return;
  pthread_attr_t attr;
  if (::pthread_attr_init(&attr) != 0) return close_wake_pipe(s);
  ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  s.running = sys::pthread_create(&thread, &attr, run, nullptr) == 0;
  ::pthread_attr_destroy(&attr);
  if (!s.running) close_wake_pipe(s);
}

}  // namespace

void adopt(pid_t pid, int exit_fd) noexcept {
  Orphan o{pid, exit_fd};
  if (try_reap(o)) return;
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    s.orphans.push_back(o);
    start_locked(s);
  } catch (...) {
    // No memory to keep it: it stays a zombie once it exits, as it would
    // have without us, but nothing aborts.
    ::close(exit_fd);
  }
}

void kick() noexcept {
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.running || s.orphans.empty()) return;
    sweep(s);
    start_locked(s);
  } catch (...) {
  }
}

size_t waiting() noexcept {
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    return s.orphans.size();
  } catch (...) {
    return 0;
  }
}

bool thread_running() noexcept {
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    return s.running;
  } catch (...) {
    return false;
  }
}

}  // namespace reaper
}  // namespace ioreactor
