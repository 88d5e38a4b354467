// Poller tests: every case runs against every backend this platform offers
// (Twisted's ReactorBuilder idea), on real socketpairs and pipes.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <future>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "backends.h"
#include "check.h"
#include "poller.h"

using namespace ioreactor;
using Clock = std::chrono::steady_clock;

namespace {

const Mode kLevel{};
const Mode kEdge{Trigger::kEdge, false};
const Mode kOneshot{Trigger::kLevel, true};

// A non-blocking connected UNIX socketpair, closed on scope exit.
struct Pair {
  int a = -1, b = -1;
  Pair() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0) {
      a = fds[0];
      b = fds[1];
    }
  }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  Pair(Pair&& o) noexcept : a(o.a), b(o.b) { o.a = o.b = -1; }
  ~Pair() { close_a(); close_b(); }
  void close_a() { if (a >= 0) close(a); a = -1; }
  void close_b() { if (b >= 0) close(b); b = -1; }
};

// A non-blocking pipe, closed on scope exit.
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (pipe(fds) == 0) {  // pipe2 is not everywhere
      r = fds[0];
      w = fds[1];
      for (int fd : fds) fcntl(fd, F_SETFL, O_NONBLOCK);
    }
  }
  ~Pipe() { close_r(); close_w(); }
  void close_r() { if (r >= 0) close(r); r = -1; }
  void close_w() { if (w >= 0) close(w); w = -1; }
};

void put(int fd, const char* s = "x") { check::that(write(fd, s, 1) == 1, "write 1 byte"); }
void drain(int fd) {
  char buf[4096];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

std::unique_ptr<Poller> make(Backend b) {
  int err = -1;
  auto p = make_poller(b, &err);
  check::that(p != nullptr && err == 0, std::string("make_poller ") + backend_name(b));
  return p;
}

std::vector<PollEvent> wait_events(Poller& p, int timeout_ms, int max = 64) {
  std::vector<PollEvent> out(max);
  int n = p.wait(timeout_ms, out.data(), max);
  check::that(n >= 0, "wait returns >= 0, got " + std::to_string(n));
  out.resize(n < 0 ? 0 : n);
  return out;
}

// The events reported for token, 0 when absent.
uint32_t events_for(const std::vector<PollEvent>& evs, uint64_t token) {
  uint32_t e = 0;
  for (const PollEvent& ev : evs) {
    if (ev.token == token) e |= ev.events;
  }
  return e;
}

long elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

void test_errors(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  check::eq(p->add(-1, kReadable, kLevel, 1), -EBADF, "add negative fd");
  check::eq(p->modify(-3, kReadable, kLevel, 1), -EBADF, "modify negative fd");
  check::eq(p->remove(-1), -EBADF, "remove negative fd");
  int closed = dup(s.a);
  close(closed);
  check::eq(p->add(closed, kReadable, kLevel, 1), -EBADF, "add closed fd");
  check::eq(p->modify(s.a, kReadable, kLevel, 1), -ENOENT, "modify unknown fd");
  check::eq(p->remove(s.a), -ENOENT, "remove unknown fd");
  check::eq(p->add(s.a, 1u << 7, kLevel, 1), -EINVAL, "add with an unknown interest bit");
  check::eq(p->add(s.a, kReadable, kLevel, UINT64_MAX), -EINVAL, "add with the reserved token");
  check::eq(p->add(s.a, kReadable, kLevel, 1), 0, "add");
  check::eq(p->add(s.a, kReadable, kLevel, 2), -EEXIST, "second add");
  check::eq(p->modify(s.a, kWritable, kLevel, 3), 0, "modify");
  check::eq(p->remove(s.a), 0, "remove");
  check::eq(p->remove(s.a), -ENOENT, "second remove");
  PollEvent ev;
  check::eq(p->wait(0, nullptr, 4), -EINVAL, "wait without a buffer");
  check::eq(p->wait(0, &ev, 0), -EINVAL, "wait with max 0");
  check::eq(p->wait(-7, &ev, 1), -EINVAL, "wait with timeout below -1");
}

void test_level(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  check::eq(p->add(s.b, kReadable, kLevel, 7), 0, "add");
  check::eq(wait_events(*p, 0).size(), 0, "nothing before data");
  put(s.a);
  for (int i = 0; i < 3; ++i) {
    check::eq(events_for(wait_events(*p, 1000), 7), kReadable, "unread data reported again");
  }
  drain(s.b);
  check::eq(wait_events(*p, 0).size(), 0, "silent once read");
}

void test_edge(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  if (b == Backend::kPoll) {
    // poll() only tells the present state; it cannot know new data arrived.
    check::that(!p->supports(kEdge), "poll does not claim edge");
    check::eq(p->add(s.b, kReadable, kEdge, 1), -ENOTSUP, "poll rejects edge add");
    check::eq(p->add(s.b, kReadable, kLevel, 1), 0, "level add");
    check::eq(p->modify(s.b, kReadable, kEdge, 1), -ENOTSUP, "poll rejects edge modify");
    return;
  }
  check::that(p->supports(kEdge), "edge supported");
  check::eq(p->add(s.b, kReadable, kEdge, 9), 0, "add edge");
  put(s.a);
  check::eq(events_for(wait_events(*p, 1000), 9), kReadable, "edge reported");
  check::eq(wait_events(*p, 0).size(), 0, "edge silent while nothing new");
  put(s.a);
  check::eq(events_for(wait_events(*p, 1000), 9), kReadable, "edge reported on new data");
  check::eq(wait_events(*p, 0).size(), 0, "edge silent again");
  const Mode edge_once{Trigger::kEdge, true};
  check::eq(p->modify(s.b, kReadable, edge_once, 10), 0, "edge + oneshot");
  put(s.a);
  check::eq(events_for(wait_events(*p, 1000), 10), kReadable, "edge + oneshot reported");
  put(s.a);
  check::eq(wait_events(*p, 50).size(), 0, "edge + oneshot silent on new data");
  check::eq(p->modify(s.b, kReadable, edge_once, 11), 0, "re-arm");
  check::eq(events_for(wait_events(*p, 1000), 11), kReadable, "reported after re-arm");
}

// Readable and writable at once: one event carrying both, not two.
void test_both_directions(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  put(s.a);
  check::eq(p->add(s.b, kReadable | kWritable, kLevel, 12), 0, "add both");
  auto evs = wait_events(*p, 1000);
  check::eq(evs.size(), 1, "one event");
  check::eq(events_for(evs, 12), kReadable | kWritable, "both directions");
  check::eq(p->modify(s.b, kReadable | kWritable, kOneshot, 13), 0, "oneshot both");
  evs = wait_events(*p, 1000);
  check::eq(evs.size(), 1, "one oneshot event");
  check::eq(events_for(evs, 13), kReadable | kWritable, "oneshot: both directions");
  check::eq(wait_events(*p, 50).size(), 0, "then silent in both directions");
}

void test_oneshot(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  check::that(p->supports(kOneshot), "oneshot supported");
  check::eq(p->add(s.b, kReadable | kWritable, kOneshot, 5), 0, "add oneshot");
  put(s.a);
  uint32_t first = events_for(wait_events(*p, 1000), 5);
  check::that((first & kReadable) != 0, "oneshot reported");
  check::eq(wait_events(*p, 50).size(), 0, "oneshot silent until re-armed");
  put(s.a);
  check::eq(wait_events(*p, 0).size(), 0, "oneshot silent on new data");
  check::eq(p->modify(s.b, kReadable, kOneshot, 6), 0, "re-arm");
  check::eq(events_for(wait_events(*p, 1000), 6), kReadable, "reported after re-arm");
  check::eq(wait_events(*p, 0).size(), 0, "silent again");
}

void test_writable(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  check::eq(p->add(s.a, kWritable, kLevel, 3), 0, "add writable");
  check::eq(events_for(wait_events(*p, 1000), 3), kWritable, "writable reported");
  check::eq(events_for(wait_events(*p, 1000), 3), kWritable, "writable reported again");
  check::eq(p->modify(s.a, kReadable, kLevel, 3), 0, "drop writable");
  check::eq(wait_events(*p, 0).size(), 0, "silent without writable interest");
  // Fill the socket: writable interest must then stay quiet.
  char chunk[4096] = {};
  while (write(s.a, chunk, sizeof chunk) > 0) {
  }
  check::eq(p->modify(s.a, kWritable, kLevel, 3), 0, "writable again");
  check::eq(wait_events(*p, 0).size(), 0, "full socket is not writable");
  drain(s.b);
  check::eq(events_for(wait_events(*p, 1000), 3), kWritable, "writable after drain");
}

void test_hangup(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  Pipe reader, writer;
  check::eq(p->add(s.b, kReadable, kLevel, 1), 0, "add socket");
  check::eq(p->add(reader.r, kReadable, kLevel, 2), 0, "add pipe read end");
  check::eq(p->add(writer.w, kWritable, kLevel, 3), 0, "add pipe write end");
  s.close_a();
  reader.close_w();
  writer.close_r();
  auto evs = wait_events(*p, 1000);
  if (evs.size() < 3) {
    auto more = wait_events(*p, 100);
    evs.insert(evs.end(), more.begin(), more.end());
  }
  check::that((events_for(evs, 1) & kHangup) != 0, "socket peer closed: hangup");
  check::that((events_for(evs, 2) & kHangup) != 0, "pipe writer closed: hangup");
  check::that((events_for(evs, 3) & (kError | kHangup)) != 0, "pipe reader closed: error");
}

// The peer shuts only its write side: a reader hears hang-up with the EOF,
// a writer-only registration stays plain writable (no hang-up to spin on).
void test_half_close(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair reading, writing;
  check::eq(p->add(reading.b, kReadable, kLevel, 1), 0, "add reader");
  check::eq(p->add(writing.b, kWritable, kLevel, 2), 0, "add writer");
  shutdown(reading.a, SHUT_WR);
  shutdown(writing.a, SHUT_WR);
  auto evs = wait_events(*p, 1000);
  if (evs.size() < 2) {
    auto more = wait_events(*p, 100);
    evs.insert(evs.end(), more.begin(), more.end());
  }
  check::eq(events_for(evs, 1), kReadable | kHangup, "half-closed reader");
  check::eq(events_for(evs, 2), kWritable, "half-closed writer");
}

void test_token_round_trip(Backend b) {
  auto p = make(b);
  if (!p) return;
  const uint64_t tokens[] = {0, 1, 0xdeadbeefcafef00dull, 1ull << 63, UINT64_MAX - 1};
  std::vector<Pair> pairs(5);
  for (size_t i = 0; i < 5; ++i) {
    check::eq(p->add(pairs[i].a, kWritable, kLevel, tokens[i]), 0, "add");
  }
  auto evs = wait_events(*p, 1000);
  check::eq(evs.size(), 5, "one event per fd");
  for (uint64_t t : tokens) check::eq(events_for(evs, t), kWritable, "token intact");
}

// 2600 socketpairs, 5200 fds: every other pair gets a byte; exactly those
// read ends must be reported, each once per level wait.
void test_many_fds(Backend b) {
  auto p = make(b);
  if (!p) return;
  const int kPairs = 2600;
  std::vector<Pair> pairs(kPairs);
  for (int i = 0; i < kPairs; ++i) {
    if (!check::that(pairs[i].a >= 0, "socketpair " + std::to_string(i))) return;
    p->add(pairs[i].a, kReadable, kLevel, 2 * i);
    p->add(pairs[i].b, kReadable, kLevel, 2 * i + 1);
    if (i % 2 == 0) put(pairs[i].a);
  }
  std::vector<int> seen(2 * kPairs, 0);
  auto evs = wait_events(*p, 1000, 4 * kPairs);
  for (const PollEvent& ev : evs) {
    if (ev.token < seen.size()) seen[ev.token]++;
  }
  int wrong = 0;
  for (int i = 0; i < 2 * kPairs; ++i) {
    bool want = (i % 4) == 1;  // the b end of an even pair
    if (seen[i] != (want ? 1 : 0)) ++wrong;
  }
  check::eq(static_cast<long long>(evs.size()), kPairs / 2, "events for the written half");
  check::eq(wrong, 0, "fds with a wrong event count");
}

void test_timeouts(Backend b) {
  auto p = make(b);
  if (!p) return;
  auto t0 = Clock::now();
  check::eq(wait_events(*p, 0).size(), 0, "wait(0) with nothing registered");
  check::that(elapsed_ms(t0) < 500, "wait(0) does not block");
  t0 = Clock::now();
  check::eq(wait_events(*p, 60).size(), 0, "wait(60) times out empty");
  long ms = elapsed_ms(t0);
  check::that(ms >= 55 && ms < 2000, "wait(60) took " + std::to_string(ms) + " ms");
}

// True once thread tid sleeps in the kernel (state S in /proc). Nothing else
// sleeps on the waiter thread here, so that means it is inside wait(-1).
// Off Linux there is no /proc: give it a moment instead.
bool is_sleeping(long tid) {
#if defined(__linux__)
  std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return false;
  char buf[512] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const char* paren = std::strrchr(buf, ')');  // the name may hold spaces
  return n > 0 && paren != nullptr && paren[1] == ' ' && paren[2] == 'S';
#else
  (void)tid;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return true;
#endif
}

// Runs wait(-1) on another thread and calls meanwhile once it is blocked;
// returns the waiter's events, or fails after 5 s.
std::vector<PollEvent> blocked_wait(Poller& p, const std::function<void()>& meanwhile) {
  std::atomic<long> tid{0};
  auto fut = std::async(std::launch::async, [&p, &tid] {
#if defined(__linux__)
    tid = static_cast<long>(syscall(SYS_gettid));
#else
    tid = 1;
#endif
    return wait_events(p, -1);
  });
  auto deadline = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < deadline && (tid == 0 || !is_sleeping(tid))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling a state
  }
  check::that(is_sleeping(tid), "waiter thread blocked");
  meanwhile();
  if (fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    check::that(false, "wait(-1) was not interrupted");
    for (int i = 0; i < 100 && fut.wait_for(std::chrono::milliseconds(50)) !=
                                   std::future_status::ready; ++i) {
      p.wake();  // unstick the thread so the test can finish
    }
  }
  return fut.get();
}

void test_wake(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  p->add(s.b, kReadable, kLevel, 1);
  auto evs = blocked_wait(*p, [&] { p->wake(); });
  check::eq(evs.size(), 0, "a wake reports no event");
  // A wake sent before the wait starts is kept, not lost.
  p->wake();
  check::eq(wait_events(*p, -1).size(), 0, "an early wake ends the next wait");
  check::eq(wait_events(*p, 0).size(), 0, "a wake is consumed");
  // Wakes nobody waits for pile up in one pending wake, never blocking.
  for (int i = 0; i < 100000; ++i) p->wake();
  check::eq(wait_events(*p, -1).size(), 0, "many wakes end one wait");
  check::eq(wait_events(*p, 0).size(), 0, "and are all consumed");
}

void test_change_while_blocked(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair ready, gone;
  put(ready.a);
  put(gone.a);
  p->add(gone.b, kWritable, kLevel, 2);
  check::eq(p->remove(gone.b), 0, "remove");
  auto evs = blocked_wait(*p, [&] { check::eq(p->add(ready.b, kReadable, kLevel, 1), 0, "add"); });
  if (evs.empty()) evs = wait_events(*p, 1000);  // a wake may come back first
  check::eq(events_for(evs, 1), kReadable, "fd added while blocked is reported");
  check::eq(events_for(evs, 2), 0, "removed fd is not reported");
  drain(ready.b);
  evs = blocked_wait(*p, [&] { check::eq(p->modify(ready.b, kWritable, kLevel, 4), 0, "modify"); });
  if (evs.empty()) evs = wait_events(*p, 1000);
  check::eq(events_for(evs, 4), kWritable, "interest changed while blocked");
  check::eq(p->modify(ready.b, kReadable, kLevel, 4), 0, "back to readable");
  Pair late;
  check::eq(p->add(late.b, kReadable, kLevel, 5), 0, "add late");
  evs = blocked_wait(*p, [&] {
    check::eq(p->remove(late.b), 0, "remove while blocked");
    put(late.a);
    put(ready.a);
  });
  if (evs.empty()) evs = wait_events(*p, 1000);
  check::eq(events_for(evs, 5), 0, "fd removed while blocked is not reported");
  check::eq(events_for(evs, 4), kReadable, "the other fd is");
}

// A TCP socket bound to 127.0.0.1 on a free port (listening when asked);
// *addr gets its address.
int bound_socket(sockaddr_in* addr, bool listening) {
  *addr = sockaddr_in{};
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *addr;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  check::that(bind(fd, reinterpret_cast<sockaddr*>(addr), sizeof *addr) == 0 &&
                  (!listening || listen(fd, 8) == 0) &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len) == 0,
              "bound socket");
  return fd;
}

// A refused TCP connect: the socket reports an error (and hang-up).
void test_connect_refused(Backend b) {
  auto p = make(b);
  if (!p) return;
  sockaddr_in addr;
  int probe = bound_socket(&addr, false);  // never listening: refuses
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  check::that(rc < 0 && (errno == EINPROGRESS || errno == ECONNREFUSED), "connect fails");
  bool pending = rc < 0 && errno == EINPROGRESS;
  check::eq(p->add(fd, kWritable, kLevel, 4), 0, "add connecting socket");
  uint32_t ev = events_for(wait_events(*p, 1000), 4);
  // Refused at once, the error was consumed by connect(): only hang-up is left.
  check::that((ev & (pending ? kError : kHangup)) != 0, "refused connect: error reported");
  p->remove(fd);
  close(fd);
  close(probe);
}

// After remove() returns the poller holds no reference to the fd, even with a
// wait in flight: closing a listener then really closes it, so a connect is
// refused. (A thread inside poll() holds every file it watches; the poll
// backend's remove() waits for that poll to end.)
void test_remove_releases_fd(Backend b) {
  auto p = make(b);
  if (!p) return;
  sockaddr_in addr;
  int listener = bound_socket(&addr, true);
  check::eq(p->add(listener, kReadable, kLevel, 1), 0, "add listener");
  blocked_wait(*p, [&] {
    check::eq(p->remove(listener), 0, "remove while blocked");
    close(listener);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    check::that(rc < 0 && errno == ECONNREFUSED, "connect to the closed listener is refused");
    close(fd);
    p->wake();  // epoll's wait is not woken by a remove
  });
}

// Regular files and directories cannot be waited on (always "ready"): epoll
// refuses them with EPERM, and poll must too, or a reader on one would be
// called back without end. (kqueue has a meaning for them: bytes left.)
void test_unpollable_files(Backend b) {
  if (b == Backend::kKqueue) return;
  auto p = make(b);
  if (!p) return;
  char path[] = "/tmp/ioreactor-poller-XXXXXX";
  int file = mkstemp(path);
  check::that(file >= 0, "mkstemp");
  unlink(path);
  int dir = open("/", O_RDONLY | O_DIRECTORY);
  check::eq(p->add(file, kReadable, kLevel, 1), -EPERM, "a regular file is refused");
  check::eq(p->add(dir, kReadable, kLevel, 2), -EPERM, "a directory is refused");
  check::eq(wait_events(*p, 0).size(), 0, "nothing registered");
  close(file);
  close(dir);
}

// An fd closed without remove() whose number then names another file: the
// new file can be registered (epoll forgot the old one with its close), its
// events carry its own token, and the old registration is gone for modify.
void test_reused_number(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair old_pair, fresh;
  const int n = old_pair.b;
  check::eq(p->add(n, kReadable, kLevel, 1), 0, "add");
  old_pair.close_b();
  check::eq(p->modify(n, kReadable, kLevel, 1), -EBADF, "modify after close");
  check::eq(dup2(fresh.b, n), n, "the number now names another socket");
  check::eq(p->modify(n, kReadable, kLevel, 1), -ENOENT, "the old registration is gone");
  check::eq(p->add(n, kReadable, kLevel, 2), 0, "the new socket registers");
  check::eq(p->add(n, kReadable, kLevel, 3), -EEXIST, "but only once");
  put(fresh.a);
  check::eq(events_for(wait_events(*p, 1000), 2), kReadable, "its event carries its token");
  check::eq(p->remove(n), 0, "remove");
  close(n);
}

// Registrations churn on the main thread while another thread keeps waiting:
// no crash, no hang, no token that was never registered, and silence at the end.
void test_churn_while_waiting(Backend b) {
  auto p = make(b);
  if (!p) return;
  const int kFds = 40;
  std::vector<Pair> pairs(kFds);
  for (Pair& s : pairs) put(s.a);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread waiter([&] {
    std::vector<PollEvent> out(64);
    while (!stop) {
      int n = p->wait(-1, out.data(), 64);
      for (int i = 0; i < n; ++i) {
        if (out[i].token >= static_cast<uint64_t>(kFds) * 3) ++bad;
      }
    }
  });
  for (int round = 0; round < 300; ++round) {
    int i = round % kFds;
    uint64_t token = i + kFds * (round % 3);
    p->add(pairs[i].b, kReadable | kWritable, kOneshot, token);
    p->modify(pairs[i].b, kReadable, kLevel, token);
    if (round % 2 == 0) p->remove(pairs[i].b);
  }
  for (Pair& s : pairs) p->remove(s.b);
  stop = true;
  p->wake();
  waiter.join();
  check::eq(bad, 0, "events with unknown tokens");
  check::eq(wait_events(*p, 0).size(), 0, "silent once everything is removed");
}

// An fd closed without remove(): never spin on it.
void test_closed_behind_back(Backend b) {
  auto p = make(b);
  if (!p) return;
  Pair s;
  int fd = dup(s.b);
  p->add(fd, kReadable, kLevel, 8);
  close(fd);
  auto evs = wait_events(*p, 50);
  if (b == Backend::kPoll) check::eq(events_for(evs, 8), kError, "poll reports the closed fd");
  check::eq(wait_events(*p, 50).size(), 0, "then stays silent");
  check::eq(p->modify(fd, kReadable, kLevel, 8), -EBADF, "modify of a closed fd");
  check::eq(p->remove(fd), -EBADF, "remove of a closed fd");
  check::eq(p->add(s.a, kReadable, kLevel, 9), 0, "the poller still works");
}

void test_small_batches(Backend b) {
  auto p = make(b);
  if (!p) return;
  std::vector<Pair> pairs(10);
  for (int i = 0; i < 10; ++i) p->add(pairs[i].a, kWritable, kLevel, 100 + i);
  std::vector<int> seen(10, 0);
  for (int round = 0; round < 8; ++round) {
    auto evs = wait_events(*p, 1000, 3);
    check::that(evs.size() <= 3, "never more than max");
    for (const PollEvent& ev : evs) seen[ev.token - 100]++;
  }
  for (int i = 0; i < 10; ++i) check::that(seen[i] > 0, "fd " + std::to_string(i) + " not starved");
}

void test_backend_names() {
  int count = 0;
  const Backend* list = available_backends(&count);
  check::that(count >= 1 && list[count - 1] == Backend::kPoll, "poll is always last");
  Backend out;
  for (Backend b : {Backend::kEpoll, Backend::kKqueue, Backend::kPoll}) {
    check::that(backend_from_name(backend_name(b), &out) && out == b, "name round-trips");
  }
  check::that(!backend_from_name("select", &out), "select is not a backend");
  int bad = 0;
  check::that(make_poller(static_cast<Backend>(42), &bad) == nullptr && bad == -ENOTSUP,
              "an unknown backend value is ENOTSUP");
  check::that(make_poller(list[0], nullptr) != nullptr, "err may be null");
#if defined(__linux__)
  check::that(list[0] == Backend::kEpoll, "epoll is the Linux default");
  int err = 0;
  check::that(make_poller(Backend::kKqueue, &err) == nullptr && err == -ENOTSUP, "no kqueue here");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  check::raise_fd_limit();
  std::vector<check::Case> cases{{"backend names", test_backend_names}};
  check::add_backend_cases(&cases, {
      {"errors", test_errors},
      {"level", test_level},
      {"edge", test_edge},
      {"oneshot", test_oneshot},
      {"writable", test_writable},
      {"hangup", test_hangup},
      {"half close", test_half_close},
      {"both directions", test_both_directions},
      {"tokens", test_token_round_trip},
      {"many fds", test_many_fds},
      {"timeouts", test_timeouts},
      {"wake", test_wake},
      {"change while blocked", test_change_while_blocked},
      {"closed behind our back", test_closed_behind_back},
      {"small batches", test_small_batches},
      {"connect refused", test_connect_refused},
      {"remove releases the fd", test_remove_releases_fd},
      {"churn while waiting", test_churn_while_waiting},
      {"unpollable files", test_unpollable_files},
      {"reused number", test_reused_number},
  });
  return check::run_all(cases, argc, argv);
}
