// Child processes (see process.h for what the child gets and why vfork).
//
// The work is split so the child does as little as possible:
//   build_plan()  (parent)  validates the request and turns it into plain
//                           arrays: argv/envp, candidate paths, the fd plan;
//   run_child()   (child)   signals to default, fds into place, everything
//                           else closed, cwd/ids/rlimit, execve, or report;
//   spawn()       (parent)  error pipe, signals blocked around the fork,
//                           then reads the pipe: EOF means exec succeeded.
// The child writes no memory the parent reads: its only output is the errno
// written to the error pipe before _exit(127). `scratch` (temporary fd
// numbers) is written by the child, but the parent never reads it.
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#ifdef __linux__
#include <sys/syscall.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <sys/event.h>
#define IOREACTOR_PROC_KQUEUE 1
#endif

#include "syscalls.h"

namespace ioreactor {
namespace process {

namespace {

struct Plan {
  std::vector<std::string> paths;  // execve candidates, in order
  std::vector<const char*> path_ptrs;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<FdMapping> fds;
  std::vector<int> scratch;      // child-only: temporary copies of parent fds
  std::vector<char> is_target;   // index: child fd <= max_target
  int max_target = -1;
  int fd_ceiling = 1024;  // for closing without close_range
  const char* cwd = nullptr;
  bool set_nofile = false;
  struct rlimit nofile {};
  int64_t uid = -1;
  int64_t gid = -1;
  int err_fd = -1;  // write end of the error pipe, above max_target
};

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// The PATH entry of env, or the default execvp falls back to.
std::string search_path(const std::vector<std::string>& env) {
  for (const std::string& e : env) {
    if (e.compare(0, 5, "PATH=") == 0) return e.substr(5);
  }
  return "/bin:/usr/bin";
}

int plan_paths(const SpawnOptions& o, Plan* p) {
  if (o.executable.empty()) return -ENOENT;
  if (has_nul(o.executable)) return -EINVAL;
  if (o.executable.find('/') != std::string::npos) {
    p->paths.push_back(o.executable);
  } else {
    std::string path = search_path(o.env);
    size_t start = 0;
    for (;;) {
      size_t end = path.find(':', start);
      std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
      p->paths.push_back((dir.empty() ? std::string(".") : dir) + "/" + o.executable);
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  for (const std::string& s : p->paths) p->path_ptrs.push_back(s.c_str());
  p->path_ptrs.push_back(nullptr);
  return 0;
}

int plan_strings(const SpawnOptions& o, Plan* p) {
  for (const std::string& s : o.argv) {
    if (has_nul(s)) return -EINVAL;
    p->argv.push_back(const_cast<char*>(s.c_str()));
  }
  p->argv.push_back(nullptr);
  for (const std::string& s : o.env) {
    if (has_nul(s) || s.find('=') == std::string::npos) return -EINVAL;
    p->envp.push_back(const_cast<char*>(s.c_str()));
  }
  p->envp.push_back(nullptr);
  if (has_nul(o.cwd)) return -EINVAL;
  p->cwd = o.cwd.empty() ? nullptr : o.cwd.c_str();
  return 0;
}

int plan_fds(const SpawnOptions& o, Plan* p) {
  for (const FdMapping& m : o.fds) {
    if (m.child_fd < 0 || m.child_fd > 4096 || m.parent_fd < 0) return -EINVAL;
    if (::fcntl(m.parent_fd, F_GETFD) < 0) return -EBADF;
    p->max_target = std::max(p->max_target, m.child_fd);
  }
  p->is_target.assign(static_cast<size_t>(p->max_target + 1), 0);
  for (const FdMapping& m : o.fds) {
    char& t = p->is_target[static_cast<size_t>(m.child_fd)];
    if (t != 0) return -EINVAL;  // one child fd named twice
    t = 1;
  }
  p->fds = o.fds;
  p->scratch.assign(o.fds.size(), -1);
  struct rlimit now {};
  if (::getrlimit(RLIMIT_NOFILE, &now) == 0 && now.rlim_cur != RLIM_INFINITY) {
    p->fd_ceiling = static_cast<int>(std::min<rlim_t>(now.rlim_cur, 1 << 20));
  }
  return 0;
}

int plan_limits(const SpawnOptions& o, Plan* p) {
  if (o.uid < -1 || o.uid > UINT32_MAX - 1 || o.gid < -1 || o.gid > UINT32_MAX - 1) return -EINVAL;
  p->uid = o.uid;
  p->gid = o.gid;
  if (o.nofile_soft < 0) return 0;
  if (::getrlimit(RLIMIT_NOFILE, &p->nofile) != 0) return -errno;
  rlim_t want = static_cast<rlim_t>(o.nofile_soft);
  if (p->nofile.rlim_max != RLIM_INFINITY && want > p->nofile.rlim_max) want = p->nofile.rlim_max;
  p->nofile.rlim_cur = want;
  p->set_nofile = true;
  return 0;
}

int build_plan(const SpawnOptions& o, Plan* p) {
  int err = plan_paths(o, p);
  if (err == 0) err = plan_strings(o, p);
  if (err == 0) err = plan_fds(o, p);
  if (err == 0) err = plan_limits(o, p);
  return err;
}

// ---- the child: async-signal-safe system calls only ----

[[noreturn]] void child_fail(const Plan& p, int err) {
  ssize_t n;
  do {
    n = ::write(p.err_fd, &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  ::_exit(127);
}

void child_signals() {
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // EINVAL for glibc's own: fine
  }
}

void close_from(const Plan& p, int first, int last) {
  if (first > last) return;
#if defined(__linux__) && defined(SYS_close_range)
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), static_cast<unsigned>(last), 0u) == 0) return;
#endif
  for (int fd = first; fd <= last && fd < p.fd_ceiling; ++fd) ::close(fd);
}

// Every parent fd is first copied above both the targets and the error pipe,
// so a map that swaps fds (0 <- 1, 1 <- 0) never reads a target it already
// overwrote; then each copy goes into place and everything else is closed.
int child_fds(const Plan& p) {
  int low = std::max(p.max_target, p.err_fd) + 1;
  int* scratch = const_cast<int*>(p.scratch.data());
  for (size_t i = 0; i < p.fds.size(); ++i) {
    scratch[i] = ::fcntl(p.fds[i].parent_fd, F_DUPFD_CLOEXEC, low);
    if (scratch[i] < 0) return -errno;
  }
  for (size_t i = 0; i < p.fds.size(); ++i) {
    if (::dup2(scratch[i], p.fds[i].child_fd) < 0) return -errno;
  }
  for (int fd = 0; fd <= p.max_target; ++fd) {
    if (p.is_target[static_cast<size_t>(fd)] == 0) ::close(fd);
  }
  close_from(p, p.max_target + 1, p.err_fd - 1);
  close_from(p, p.err_fd + 1, INT_MAX);
  return 0;
}

// Raw system calls after vfork on Linux: glibc's wrappers would broadcast the
// change to the parent's threads. Elsewhere the child is a real fork.
int set_ids(int64_t uid, int64_t gid) {
#ifdef __linux__
  if (uid >= 0 || gid >= 0) ::syscall(SYS_setgroups, 0, nullptr);  // EPERM unless root: fine
  if (gid >= 0 && ::syscall(SYS_setgid, static_cast<gid_t>(gid)) != 0) return -errno;
  if (uid >= 0 && ::syscall(SYS_setuid, static_cast<uid_t>(uid)) != 0) return -errno;
#else
  if (uid >= 0 || gid >= 0) ::setgroups(0, nullptr);
  if (gid >= 0 && ::setgid(static_cast<gid_t>(gid)) != 0) return -errno;
  if (uid >= 0 && ::setuid(static_cast<uid_t>(uid)) != 0) return -errno;
#endif
  return 0;
}

int child_identity(const Plan& p) {
  if (p.cwd != nullptr && ::chdir(p.cwd) != 0) return -errno;
  int err = set_ids(p.uid, p.gid);
  if (err != 0) return err;
  if (p.set_nofile && ::setrlimit(RLIMIT_NOFILE, &p.nofile) != 0) return -errno;
  return 0;
}

// execvp's rule: ENOENT/ENOTDIR/EACCES move on to the next candidate, any
// other error stops; EACCES is reported if any candidate gave it.
int child_exec(const Plan& p) {
  bool eacces = false;
  int err = -ENOENT;
  for (const char* const* path = p.path_ptrs.data(); *path != nullptr; ++path) {
    ::execve(*path, p.argv.data(), p.envp.data());
    err = -errno;
    if (err == -EACCES) {
      eacces = true;
    } else if (err != -ENOENT && err != -ENOTDIR) {
      return err;
    }
  }
  return eacces ? -EACCES : err;
}

[[noreturn]] void run_child(const Plan& p) {
  child_signals();
  int err = child_fds(p);
  if (err == 0) err = child_identity(p);
  if (err != 0) child_fail(p, err);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  child_fail(p, child_exec(p));
}

// ---- the parent ----

pid_t fork_child(const Plan* plan) {
#ifdef __linux__
  pid_t pid = ::vfork();
#else
  pid_t pid = ::fork();
#endif
  if (pid == 0) run_child(*plan);
  return pid;
}

int cloexec_pipe(int fds[2]) {
#ifdef __linux__
  return ::pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
#else
  if (::pipe(fds) != 0) return -errno;
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  return 0;
#endif
}

// The error pipe's write end must sit above every target fd so that putting
// the targets in place cannot overwrite it.
int open_error_pipe(Plan* p, int fds[2]) {
  int err = cloexec_pipe(fds);
  if (err != 0) return err;
  if (fds[1] <= p->max_target) {
    int moved = ::fcntl(fds[1], F_DUPFD_CLOEXEC, p->max_target + 1);
    err = moved < 0 ? -errno : 0;
    ::close(fds[1]);
    fds[1] = moved;
    if (err != 0) {
      ::close(fds[0]);
      return err;
    }
  }
  p->err_fd = fds[1];
  return 0;
}

// 0 when the pipe reached EOF (exec succeeded), else the child's -errno.
int read_child_error(int fd) {
  int child_err = 0;
  ssize_t n;
  do {
    n = ::read(fd, &child_err, sizeof child_err);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof child_err) ? child_err : 0;
}

}  // namespace

void reap_blocking(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

int spawn(const SpawnOptions& opts, pid_t* pid) {
  if (pid == nullptr) return -EINVAL;
  Plan plan;
  int err = build_plan(opts, &plan);
  int errpipe[2];
  if (err == 0) err = open_error_pipe(&plan, errpipe);
  if (err != 0) return err;

  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t child = fork_child(&plan);
  int fork_err = child < 0 ? -errno : 0;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(errpipe[1]);
  if (fork_err != 0) {
    ::close(errpipe[0]);
    return fork_err;
  }
  err = read_child_error(errpipe[0]);
  ::close(errpipe[0]);
  if (err != 0) {
    reap_blocking(child);  // it has exited (or is about to) with status 127
    return err;
  }
  *pid = child;
  return 0;
}

int make_pipe(bool we_read, int fds[2]) {
  int p[2];
  int err = cloexec_pipe(p);
  if (err != 0) return err;
  int ours = we_read ? p[0] : p[1];
  int theirs = we_read ? p[1] : p[0];
  int fl = ::fcntl(ours, F_GETFL);
  if (fl < 0 || ::fcntl(ours, F_SETFL, fl | O_NONBLOCK) < 0) {
    err = -errno;
    ::close(p[0]);
    ::close(p[1]);
    return err;
  }
  fds[0] = ours;
  fds[1] = theirs;
  return 0;
}

// Linux: a pidfd. BSD and macOS: a kqueue of its own watching the pid with
// EVFILT_PROC/NOTE_EXIT; a kqueue fd is readable while it has an event, so
// either one can sit in the loop's poller like any fd. reap() then waits by
// pid there.
int open_pidfd(pid_t pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
  long fd = sys::pidfd_open(pid);
  return fd < 0 ? -errno : static_cast<int>(fd);
#elif defined(IOREACTOR_PROC_KQUEUE)
  int kq = ::kqueue();
  if (kq < 0) return -errno;
  ::fcntl(kq, F_SETFD, FD_CLOEXEC);
  struct kevent ev;
  EV_SET(&ev, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0, nullptr);
  if (::kevent(kq, &ev, 1, nullptr, 0, nullptr) == 0) return kq;
  int err = -errno;
  ::close(kq);
  if (err != -ESRCH) return err;
  // It has exited already: an fd that is readable at once (a pipe at EOF)
  // stands in, and reap() finds the zombie on the first wake-up.
  int p[2];
  err = cloexec_pipe(p);
  if (err != 0) return err;
  ::close(p[1]);
  return p[0];
#else
  (void)pid;
  return -ENOSYS;
#endif
}

namespace {

void decode_status(const siginfo_t& info, ExitStatus* status) {
  if (info.si_code == CLD_EXITED) {
    status->code = info.si_status;
    status->signal = 0;
  } else {
    status->code = -1;
    status->signal = info.si_status;
  }
}

}  // namespace

int reap(int pidfd, pid_t pid, ExitStatus* status) {
  if (status == nullptr) return -EINVAL;
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  int rc;
#if defined(__linux__) && defined(P_PIDFD)
  if (pidfd >= 0) {  // elsewhere pidfd is a kqueue: the wait is by pid
    rc = sys::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
  } else {
    rc = sys::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
  }
#else
  (void)pidfd;
  rc = sys::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
#endif
  if (rc != 0) return errno == EINTR ? 0 : -errno;
  if (info.si_pid == 0) return 0;
  decode_status(info, status);
  return 1;
}

int send_signal(int pidfd, pid_t pid, int sig) {
  if (sig < 0 || sig >= NSIG) return -EINVAL;
#if defined(__linux__) && defined(SYS_pidfd_send_signal)
  if (pidfd >= 0) {
    long rc = ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0u);
    return rc == 0 ? 0 : -errno;
  }
#else
  (void)pidfd;
#endif
  return ::kill(pid, sig) == 0 ? 0 : -errno;
}

}  // namespace process
}  // namespace ioreactor
