// Child processes in the loop: spawn() with its pipes adopted as streams and
// its pidfd registered as a kChild slot, and the dispatch for that slot.
//
// Reaping: a pidfd becomes readable when its process exits; on_child reaps it
// with waitid(P_PIDFD, WNOHANG) and sends one kRecExited {a: exit code or -1,
// b: signal}. After that the pidfd stays readable forever, so the slot leaves
// the poller at once (a level-triggered report nobody consumes would spin)
// and waits for JS to remove it. Only our own children are ever reaped:
// Node's child_process (libuv waits by pid) never sees ours, nor we its.
//
// spawn() is all or nothing: every fd it made is closed and a started child
// is killed and reaped if a later step fails, so an error leaves nothing
// behind. The child's ends of the pipes are closed here once it has them.
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop_impl.h"
#include "reaper.h"
#include "syscalls.h"

namespace ioreactor {

namespace {

// Our end and the child's end of each pipe, -1 where there is none.
struct PipeEnds {
  std::vector<int> ours;
  std::vector<int> theirs;

  explicit PipeEnds(size_t n) : ours(n, -1), theirs(n, -1) {}
  void close_theirs() {
    for (int& fd : theirs) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
  void close_ours_from(size_t first) {
    for (size_t i = first; i < ours.size(); ++i) {
      if (ours[i] >= 0) ::close(ours[i]);
      ours[i] = -1;
    }
  }
};

int make_pipes(const std::vector<Loop::ChildFd>& fds, PipeEnds* ends, std::vector<process::FdMapping>* map) {
  for (size_t i = 0; i < fds.size(); ++i) {
    const Loop::ChildFd& f = fds[i];
    if (f.how == Loop::ChildFd::kInherit) {
      map->push_back({f.child_fd, f.parent_fd});
      continue;
    }
    int p[2];
    int err = process::make_pipe(f.how == Loop::ChildFd::kPipeRead, p);
    if (err != 0) return err;
    ends->ours[i] = p[0];
    ends->theirs[i] = p[1];
    map->push_back({f.child_fd, p[1]});
  }
  return 0;
}

// A child we could not take charge of must not outlive the error.
void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  process::reap_blocking(pid);
}

// Starts the child with our pipes in its map; the child's ends are closed
// here whatever happens. Returns 0 (pid set) or -errno; on failure ours are closed too.
int start_child(const process::SpawnOptions& opts, const std::vector<Loop::ChildFd>& fds, PipeEnds* ends,
                pid_t* pid) {
  process::SpawnOptions o = opts;
  o.fds.clear();
  int err = make_pipes(fds, ends, &o.fds);
  if (err == 0) err = process::spawn(o, pid);
  ends->close_theirs();
  if (err != 0) ends->close_ours_from(0);
  return err;
}

// A child we could not take charge of: its slots and fds go, it is killed and
// reaped, so the error leaves nothing behind.
void abandon_child(Loop& loop, const Loop::Spawned& sp) {
  for (int32_t slot : sp.pipes) {
    if (slot >= 0) loop.remove(slot);
  }
  kill_and_reap(sp.pid);
  loop.remove(sp.slot);
}

}  // namespace

int Loop::spawn(const process::SpawnOptions& opts, const std::vector<ChildFd>& fds, Spawned* out) {
  if (out == nullptr) return -EINVAL;
  reaper::kick();  // orphans left waiting by a failed reaper start: try again
  PipeEnds ends(fds.size());
  pid_t pid = 0;
  int err = start_child(opts, fds, &ends, &pid);
  if (err != 0) return err;
  int exit_fd = process::open_pidfd(pid);
  if (exit_fd < 0) {
    kill_and_reap(pid);
    ends.close_ours_from(0);
    return exit_fd;
  }
  Spawned result;
  result.pid = pid;
  result.slot = impl_->add_slot(Kind::kChild, exit_fd);
  impl_->slots.find(result.slot)->pid = pid;
  err = impl_->set_interest(result.slot, kReadable);
  result.pipes.assign(fds.size(), -1);
  for (size_t i = 0; i < fds.size() && err == 0; ++i) {
    if (ends.ours[i] < 0) continue;
    int r = adopt_stream(ends.ours[i], &result.pipes[i]);
    if (r < 0) err = r;
    if (r == 0) ends.ours[i] = -1;  // the slot owns it now
  }
  if (err != 0) {
    ends.close_ours_from(0);
    abandon_child(*this, result);
    return err;
  }
  *out = std::move(result);
  return 0;
}

int Loop::signal_child(int32_t slot, int sig) {
  Slot* s = impl_->slots.find(slot);
  if (s == nullptr || s->kind != Kind::kChild) return -EBADF;
  if (s->reaped) return -ESRCH;
  return process::send_signal(s->fd, s->pid, sig);
}

// Nobody will watch this exit fd again: the process-wide reaper takes it and
// the process (reaper.h), so closing a loop with any number of children
// running costs no thread per child and cannot fail.
void Loop::Impl::release_child(Slot& s) {
  if (s.reaped || s.pid <= 0) {
    sys::close(s.fd);
  } else {
    reaper::adopt(s.pid, s.fd);
  }
  s.fd = -1;
}

void Loop::Impl::on_child(int32_t index, uint32_t gen) {
  Slot* s = slots.find(index, gen);
  if (s->reaped) return;
  process::ExitStatus st;
  int r = process::reap(s->fd, s->pid, &st);
  if (r == 0) return;  // not exited after all
  if (r < 0) st = process::ExitStatus();  // reaped elsewhere (ECHILD): status unknown
  s->reaped = true;
  set_interest(index, 0);
  push(kRecExited, index, gen, st.code, st.signal);
}

}  // namespace ioreactor
