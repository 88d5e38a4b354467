// process.cc tests: real children (/bin/sh, /bin/true, grep), exit codes and
// signals through pidfd + waitid, exec errors reported synchronously, the fd
// map (including a swap), nothing leaked into the child, rlimit/cwd/env, and
// no zombie or fd left behind in the parent.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "check.h"
#include "process.h"

using namespace ioreactor;
using namespace ioreactor::process;

namespace {

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin"};

// valgrind (3.19) knows neither pidfd_open nor our rlimit: checks that need
// them step aside there, the rest still runs under memcheck.
// Waits for the child through its pidfd (5 s at most) and reaps it.
ExitStatus wait_child(pid_t pid) {
  ExitStatus st;
  int pidfd = open_pidfd(pid);
  if (pidfd == -ENOSYS && check::under_valgrind()) {
    int status = 0;
    waitpid(pid, &status, 0);
    st.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    st.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return st;
  }
  check::that(pidfd >= 0, "pidfd_open");
  struct pollfd p = {pidfd, POLLIN, 0};
  check::eq(poll(&p, 1, 5000), 1, "pidfd readable when the child exits");
  check::eq(reap(pidfd, pid, &st), 1, "reaped");
  close(pidfd);
  return st;
}

// Reads our end of a pipe until EOF (the child's copies closed), 5 s at most.
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) {
      check::that(false, "pipe read timed out");
      break;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EAGAIN) {
      break;
    }
  }
  close(fd);
  return out;
}

// Runs a shell command with its stdout on a pipe; returns what it printed.
std::string sh_output(const std::string& cmd, SpawnOptions o = {}, ExitStatus* st = nullptr) {
  int fds[2];
  if (!check::eq(make_pipe(true, fds), 0, "make_pipe")) return "";
  o.executable = "/bin/sh";
  o.argv = {"sh", "-c", cmd};
  if (o.env.empty()) o.env = kEnv;
  o.fds.push_back({1, fds[1]});
  pid_t pid = 0;
  int err = spawn(o, &pid);
  close(fds[1]);
  if (!check::eq(err, 0, "spawn sh -c " + cmd)) {
    close(fds[0]);
    return "";
  }
  std::string out = read_all(fds[0]);
  ExitStatus s = wait_child(pid);
  if (st != nullptr) *st = s;
  return out;
}

bool no_children_left() {
  return waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD;
}

void test_true_exits_zero() {
  SpawnOptions o;
  o.executable = "/bin/true";
  o.argv = {"true"};
  pid_t pid = 0;
  check::eq(spawn(o, &pid), 0, "spawn /bin/true");
  check::that(pid > 0, "pid set");
  ExitStatus st = wait_child(pid);
  check::eq(st.code, 0, "exit code");
  check::eq(st.signal, 0, "no signal");
  check::that(no_children_left(), "no zombie");
}

void test_exit_code_and_signal() {
  ExitStatus st;
  sh_output("exit 3", {}, &st);
  check::eq(st.code, 3, "exit 3");
  sh_output("kill -TERM $$", {}, &st);
  check::eq(st.code, -1, "signalled: code -1");
  check::eq(st.signal, SIGTERM, "SIGTERM");
}

void test_exec_errors_are_synchronous() {
  int before = check::open_fds();
  SpawnOptions o;
  o.env = kEnv;
  o.argv = {"x"};
  pid_t pid = 0;
  o.executable = "/nonexistent/program";
  check::eq(spawn(o, &pid), -ENOENT, "missing path: ENOENT");
  o.executable = "no-such-program-ioreactor";
  check::eq(spawn(o, &pid), -ENOENT, "missing in PATH: ENOENT");
  char path[] = "/tmp/ioreactor-noexec-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  o.executable = path;
  check::eq(spawn(o, &pid), -EACCES, "not executable: EACCES");
  unlink(path);
  o.executable = "/bin/true";
  o.cwd = "/nonexistent-dir";
  check::eq(spawn(o, &pid), -ENOENT, "bad cwd: ENOENT");
  check::that(no_children_left(), "failed children reaped");
  check::eq(check::open_fds(), before, "no fd leaked");
}

void test_bad_input() {
  int before = check::open_fds();
  SpawnOptions o;
  o.executable = "/bin/true";
  pid_t pid = 0;
  o.argv = {std::string("a\0b", 3)};
  check::eq(spawn(o, &pid), -EINVAL, "NUL in argv");
  o.argv = {"true"};
  o.env = {"NOEQUALS"};
  check::eq(spawn(o, &pid), -EINVAL, "env entry without =");
  o.env = {};
  o.fds = {{0, 999}};
  check::eq(spawn(o, &pid), -EBADF, "parent fd not open");
  o.fds = {{1, 2}, {1, 2}};
  check::eq(spawn(o, &pid), -EINVAL, "child fd twice");
  o.fds = {{-1, 2}};
  check::eq(spawn(o, &pid), -EINVAL, "negative child fd");
  o.fds = {};
  o.executable = "";
  check::eq(spawn(o, &pid), -ENOENT, "empty executable");
  check::that(no_children_left(), "nothing started");
  check::eq(check::open_fds(), before, "no fd leaked");
}

void test_child_gets_exactly_its_map() {
  // An fd of ours without close-on-exec, and a mapped one at 7.
  int leaked = fcntl(open("/dev/null", O_RDONLY | O_CLOEXEC), F_DUPFD, 50);
  int mapped = open("/dev/null", O_RDONLY | O_CLOEXEC);
  check::eq(leaked, 50, "fd 50 without CLOEXEC");
  SpawnOptions o;
  o.fds = {{7, mapped}};
  std::string out = sh_output(
      "for n in 0 2 7 50; do if [ -e /proc/$$/fd/$n ]; then echo $n open; else echo $n closed; fi; done", o);
  check::that(out == "0 closed\n2 closed\n7 open\n50 closed\n", "fd table: " + out);
  close(leaked);
  close(mapped);
}

// Moves fd above 9, so dup3 onto 8 and 9 below cannot close a pipe end even
// when the test runner (ctest, CI) left fds 3..7 open.
int above_nine(int fd) {
  if (fd > 9) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return moved;
}

void test_fd_swap() {
  int a[2], b[2];
  make_pipe(true, a);
  make_pipe(true, b);
  for (int* fd : {&a[0], &a[1], &b[0], &b[1]}) *fd = above_nine(*fd);
  // Put the child ends at 8 and 9, then ask for them crossed over.
  check::eq(dup3(a[1], 8, O_CLOEXEC), 8, "a at 8");
  check::eq(dup3(b[1], 9, O_CLOEXEC), 9, "b at 9");
  close(a[1]);
  close(b[1]);
  SpawnOptions o;
  o.executable = "/bin/sh";
  o.argv = {"sh", "-c", "echo to9 >&9; echo to8 >&8"};
  o.env = kEnv;
  o.fds = {{9, 8}, {8, 9}};
  pid_t pid = 0;
  check::eq(spawn(o, &pid), 0, "spawn");
  close(8);
  close(9);
  check::that(read_all(a[0]) == "to9\n", "a got what the child wrote to 9");
  check::that(read_all(b[0]) == "to8\n", "b got what the child wrote to 8");
  check::eq(wait_child(pid).code, 0, "exit 0");
}

void test_rlimit_cwd_env() {
  SpawnOptions o;
  o.nofile_soft = 256;
  std::string limit = sh_output("ulimit -n", o);
  check::that(check::under_valgrind() || limit == "256\n", "soft RLIMIT_NOFILE restored");
  SpawnOptions c;
  c.cwd = "/tmp";
  check::that(sh_output("pwd", c) == "/tmp\n", "cwd");
  SpawnOptions e;
  e.env = {"PATH=/bin", "FOO=bar baz"};
  check::that(sh_output("echo \"$FOO\"", e) == "bar baz\n", "env");
}

void test_signals_reset_in_child() {
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  std::string out = sh_output("exec grep SigIgn /proc/self/status");
  check::that(out == "SigIgn:\t0000000000000000\n", "no ignored signal in the child: " + out);
  signal(SIGPIPE, old);
}

void test_kill_through_pidfd() {
  SpawnOptions o;
  o.executable = "sleep";
  o.argv = {"sleep", "10"};
  o.env = kEnv;
  pid_t pid = 0;
  check::eq(spawn(o, &pid), 0, "spawn sleep");
  int pidfd = open_pidfd(pid);
  if (pidfd == -ENOSYS && check::under_valgrind()) {
    check::eq(send_signal(-1, pid, SIGKILL), 0, "SIGKILL by pid");
    check::eq(wait_child(pid).signal, SIGKILL, "killed by SIGKILL");
    return;
  }
  ExitStatus st;
  check::eq(reap(pidfd, pid, &st), 0, "still running");
  check::eq(send_signal(pidfd, pid, SIGKILL), 0, "SIGKILL");
  struct pollfd p = {pidfd, POLLIN, 0};
  check::eq(poll(&p, 1, 5000), 1, "exit seen");
  check::eq(reap(pidfd, pid, &st), 1, "reaped");
  check::eq(st.signal, SIGKILL, "killed by SIGKILL");
  check::eq(send_signal(pidfd, pid, SIGTERM), -ESRCH, "signal after reaping: ESRCH");
  check::eq(send_signal(pidfd, pid, 9999), -EINVAL, "bad signal number");
  close(pidfd);
}

void test_many_children_no_leak() {
  int before = check::open_fds();
  SpawnOptions o;
  o.executable = "/bin/true";
  o.argv = {"true"};
  std::vector<pid_t> pids;
  for (int i = 0; i < 200; ++i) {
    pid_t pid = 0;
    if (!check::eq(spawn(o, &pid), 0, "spawn")) break;
    pids.push_back(pid);
  }
  for (pid_t pid : pids) check::eq(wait_child(pid).code, 0, "exit 0");
  check::that(no_children_left(), "no zombie");
  check::eq(check::open_fds(), before, "no fd leaked");
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all(
      {
          {"true exits 0", test_true_exits_zero},
          {"exit code and signal", test_exit_code_and_signal},
          {"exec errors are synchronous", test_exec_errors_are_synchronous},
          {"bad input", test_bad_input},
          {"child gets exactly its map", test_child_gets_exactly_its_map},
          {"fd swap", test_fd_swap},
          {"rlimit cwd env", test_rlimit_cwd_env},
          {"signals reset in child", test_signals_reset_in_child},
          {"kill through pidfd", test_kill_through_pidfd},
          {"many children no leak", test_many_children_no_leak},
      },
      argc, argv);
}
