// Spawning and reaping child processes, with no knowledge of the loop or of
// Node: the loop (loop_child.cc) and ctest both drive it.
//
// spawn() builds everything the child needs in the parent (argv/envp arrays,
// the candidate paths of a PATH search, the fd plan) and then forks; the child
// only makes async-signal-safe system calls before execve. On Linux the fork
// is a vfork (the parent's page tables are not copied, which matters in a
// Node process with a large heap); the child therefore never writes memory
// the parent reads, except through the error pipe, and changes uid/gid with
// raw system calls (glibc's setuid would try to signal the parent's threads).
//
// What the child gets:
//   - exactly the fds in its map (child fd <- our fd); every other fd is
//     closed, including ones inherited without close-on-exec;
//   - every signal at its default disposition and an empty signal mask (Node
//     ignores SIGPIPE; a child must not inherit that);
//   - the RLIMIT_NOFILE soft limit the caller names (the limit before the
//     addon raised it), uid/gid when given, cwd when given.
// An exec failure (ENOENT, EACCES, ...) comes back through a close-on-exec
// pipe, so spawn() fails synchronously with that -errno and nothing is left
// behind (the failed child has been reaped).
#ifndef IOREACTOR_PROCESS_H
#define IOREACTOR_PROCESS_H

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ioreactor {
namespace process {

// One entry of the child's fd table: the child's `child_fd` is a copy of our
// `parent_fd`. The parent keeps its fd; the caller closes it after spawn().
struct FdMapping {
  int child_fd;
  int parent_fd;
};

struct SpawnOptions {
  // A path (contains '/'), or a name searched in the PATH of `env` (or
  // "/bin:/usr/bin" when env has no PATH), as execvpe would.
  std::string executable;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value" entries, the complete environment
  std::string cwd;               // empty: the parent's
  std::vector<FdMapping> fds;
  int64_t nofile_soft = -1;  // RLIMIT_NOFILE soft limit for the child; -1 leaves it
  int64_t uid = -1;          // -1: unchanged
  int64_t gid = -1;
};

// Starts a child. Returns 0 and sets *pid, or -errno: -EINVAL for a
// bad map (negative or duplicate child fd, an argv/env string with a NUL),
// -EBADF for a parent fd that is not open, or the exec/chdir/setuid failure.
int spawn(const SpawnOptions& opts, pid_t* pid);

// A pipe whose ends are both close-on-exec; `ours_nonblocking` makes the end
// we keep (read end when `we_read`, else write end) non-blocking while the
// child's end stays blocking, as programs expect of their stdio.
// fds[0] is ours, fds[1] the child's. Returns 0 or -errno.
int make_pipe(bool we_read, int fds[2]);

// A close-on-exec fd that becomes readable when the child exits: a pidfd on
// Linux (ENOSYS before 5.3), a kqueue watching EVFILT_PROC on BSD and macOS
// (compile-checked only). Returns the fd or -errno.
int open_pidfd(pid_t pid);

// Exit status of a reaped child: code >= 0 after exit(), or code -1 and the
// signal number when a signal ended it.
struct ExitStatus {
  int code = -1;
  int signal = 0;
};

// Reaps the child behind pidfd (P_PIDFD) or, when pidfd < 0, by pid. Returns
// 1 when reaped (*status filled), 0 when it is still running, or -errno.
int reap(int pidfd, pid_t pid, ExitStatus* status);

// Waits for pid to exit and reaps it (retrying on EINTR).
void reap_blocking(pid_t pid);

// Sends a signal. ESRCH once the child is gone. With a pidfd the signal can
// never reach a different process that reused the pid.
int send_signal(int pidfd, pid_t pid, int sig);

}  // namespace process
}  // namespace ioreactor

#endif  // IOREACTOR_PROCESS_H
