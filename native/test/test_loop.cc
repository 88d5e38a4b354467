// Loop tests over real sockets on 127.0.0.1 (port 0), run once per backend
// (the poll backend in level mode, as the loop registers everything). A
// vector-backed LoopSink keeps every record and every slab, so a test can
// check that bytes handed out were never overwritten, and a hook lets a test
// act from inside deliver() the way JS does.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends.h"
#include "check.h"
#include "loop.h"
#include "sockets.h"
#include "net.h"
#include "reaper.h"
#include "write_buffer.h"
#include "loop_env.h"

using namespace ioreactor;
using Clock = std::chrono::steady_clock;

namespace {

using namespace loop_env;

// ---- cases ----

void test_echo(Backend b) {
  Env env(b);
  int32_t l, c, s;
  if (!tcp_pair(env, &l, &c, &s)) return;
  check::eq(env.loop->write(c, bytes("hello"), 5), 0, "client write sent at once");
  check::that(env.pump([&] { return env.got(s) == "hello"; }), "server got hello");
  check::eq(env.loop->write(s, bytes("world!"), 6), 0, "server write");
  check::that(env.pump([&] { return env.got(c) == "world!"; }), "client got world!");
  static const char a[] = "a", bc[] = "bc";
  const uint8_t* parts[] = {reinterpret_cast<const uint8_t*>(a), reinterpret_cast<const uint8_t*>(bc)};
  size_t lens[] = {1, 2};
  check::eq(env.loop->writev(c, parts, lens, 2), 0, "writev");
  check::that(env.pump([&] { return env.got(s) == "helloabc"; }), "server got writev in order");
  SockAddr peer, local;
  check::eq(env.loop->peer_address(s, &peer), 0, "peer_address");
  check::eq(env.loop->local_address(c, &local), 0, "client local_address");
  check::that(peer.host == "127.0.0.1" && peer.port == local.port, "peer is the client");
  check::eq(env.loop->set_nodelay(c, true), 0, "nodelay");
  check::eq(env.loop->set_keepalive(s, true), 0, "keepalive");
  check::that(env.sink.slabs_intact(), "slab bytes untouched");
  check::eq(env.loop->remove(c), 0, "remove client");
  check::eq(env.loop->remove(c), -EBADF, "second remove");
}

// A read low-water mark: bytes short of it wake nobody (loopback queues a
// write before it returns, so one non-blocking poll shows it), reaching it or
// lowering the mark delivers them, and EOF is reported under a mark.
void test_read_low_water(Backend b) {
  Env env(b);
  int32_t l, c, s;
  if (!tcp_pair(env, &l, &c, &s)) return;
  check::eq(env.loop->set_read_low_water(s, 4), 0, "set mark 4");
  check::eq(env.loop->write(c, bytes("ab"), 2), 0, "client writes 2");
  env.loop->poll_once(0);
  check::that(env.got(s).empty(), "2 bytes under a mark of 4: no read");
  check::eq(env.loop->write(c, bytes("cd"), 2), 0, "client writes 2 more");
  check::that(env.pump([&] { return env.got(s) == "abcd"; }), "4 bytes reach the mark");
  check::eq(env.loop->write(c, bytes("e"), 1), 0, "client writes 1");
  env.loop->poll_once(0);
  check::that(env.got(s) == "abcd", "1 byte under the mark: no read");
  check::eq(env.loop->set_read_low_water(s, 1), 0, "lower the mark");
  check::that(env.pump([&] { return env.got(s) == "abcde"; }), "lowering the mark delivers what waits");
  check::eq(env.loop->set_read_low_water(s, 16), 0, "raise the mark");
  check::eq(env.loop->write(c, bytes("f"), 1), 0, "client writes 1");
  check::eq(env.loop->shutdown_write(c), 0, "client EOF");
  check::that(env.pump([&] { return env.sink.count(kRecEof, s) == 1; }), "EOF under the mark is reported");
  check::that(env.got(s) == "abcdef", "with the bytes before it");
  check::eq(env.loop->set_read_low_water(s, 0), -EINVAL, "a mark of 0 is refused");
  check::eq(env.loop->set_read_low_water(l, 4), -EBADF, "not a stream");
}

// How many connections the kernel queues for one listener (a burst larger
// than this would wait on SYN retries, not on us).
size_t somaxconn() {
  FILE* f = std::fopen("/proc/sys/net/core/somaxconn", "r");
  long n = 128;
  if (f != nullptr) {
    if (std::fscanf(f, "%ld", &n) != 1) n = 128;
    std::fclose(f);
  }
  return static_cast<size_t>(n);
}

void test_accept_burst(Backend b) {
  Env env(b);
  int32_t l;
  int port = listen_local(env, &l);
  const size_t burst = std::min<size_t>(1000, somaxconn() * 9 / 10);
  std::vector<int> clients;
  for (size_t i = 0; i < burst; ++i) {
    int fd = plain_client(port);
    if (!check::that(fd >= 0, "plain client connect")) break;
    clients.push_back(fd);
  }
  check::that(env.pump([&] { return env.loop->stats().accepts == clients.size(); }, 10000),
              "all accepted");
  LoopStats st = env.loop->stats();
  check::that(st.accept_batches * 10 < burst, std::to_string(burst) + " accepts took " +
                                                  std::to_string(st.accept_batches) +
                                                  " wake-ups (adaptive batches)");
  check::eq(env.sink.count(kRecAccepted, l), static_cast<long long>(burst), "accepted records");
  check::eq(static_cast<long long>(env.loop->refcount()), static_cast<long long>(burst) + 1, "refcount");
  check::eq(env.loop->set_accept_batch(l, 1), 0, "pin batch to 1");
  std::vector<int> more;
  for (int i = 0; i < 20; ++i) more.push_back(plain_client(port));
  check::that(env.pump([&] { return env.loop->stats().accepts == st.accepts + 20; }),
              "20 more accepted");
  check::eq(static_cast<long long>(env.loop->stats().accept_batches - st.accept_batches), 20,
            "one accept per wake-up with batch 1");
  for (int fd : clients) close(fd);
  for (int fd : more) close(fd);
}

// Fills the kernel buffers so the rest is queued; the peer then reads it all.
void test_partial_writes(Backend b) {
  Env env(b);
  int32_t l, c, s;
  if (!tcp_pair(env, &l, &c, &s)) return;
  std::string sent;
  int64_t queued = 0;
  for (size_t i = 0; queued == 0 && sent.size() < (64u << 20); ++i) {
    std::string chunk = pattern(64 * 1024, i);
    queued = env.loop->write(s, bytes(chunk), chunk.size());
    if (!check::that(queued >= 0, "write: " + std::to_string(queued))) return;
    sent += chunk;
  }
  check::that(queued > 0, "kernel buffer filled, remainder buffered");
  for (size_t i = 0; i < 3; ++i) {  // appended behind the queue, in order
    std::string x = pattern(50000, 1000 + i), y = pattern(777, 2000 + i);
    const uint8_t* parts[] = {bytes(x), bytes(y)};
    size_t lens[] = {x.size(), y.size()};
    int64_t now = env.loop->writev(s, parts, lens, 2);
    check::eq(now, queued + static_cast<int64_t>(x.size() + y.size()), "appended whole");
    queued = now;
    sent += x + y;
  }
  check::eq(env.loop->buffered(s), queued, "buffered()");
  check::eq(env.sink.count(kRecDrained, s), 0, "not drained yet");
  check::that(env.pump([&] { return env.got(c).size() >= sent.size(); }, 20000), "peer read all");
  check::that(env.got(c) == sent, "bytes arrive complete and in order");
  check::that(env.pump([&] { return env.sink.count(kRecDrained, s) == 1; }), "drained record");
  check::eq(env.loop->buffered(s), 0, "buffer empty");
  check::that(env.sink.slabs_intact(), "slab bytes untouched across rollovers");
}

// Data written while connecting is queued, sent once connected, and a
// shutdown_write asked for meanwhile follows it.
void test_write_while_connecting(Backend b) {
  Env env(b);
  int32_t l, c;
  int port = listen_local(env, &l);
  check::eq(env.loop->connect(addr(4, "127.0.0.1", port), nullptr, &c), 0, "connect");
  check::eq(env.loop->write(c, bytes("early"), 5), 5, "queued while connecting");
  check::eq(env.loop->shutdown_write(c), 0, "shutdown after drain");
  check::eq(env.loop->write(c, bytes("late"), 4), -EPIPE, "write after shutdown_write");
  check::that(env.pump([&] { return env.sink.find(kRecAccepted, l) != nullptr; }), "accepted");
  int32_t s = env.sink.find(kRecAccepted, l)->a;
  check::that(env.pump([&] { return env.sink.count(kRecEof, s) == 1; }), "server saw EOF");
  check::that(env.got(s) == "early", "server got the early bytes before EOF");
  check::eq(env.sink.count(kRecDrained, c), 1, "drained once connected");
}

void test_pause_resume(Backend b) {
  Env env(b);
  int32_t l, c, s;
  if (!tcp_pair(env, &l, &c, &s)) return;
  check::eq(env.loop->pause_reading(s), 0, "pause");
  check::eq(env.loop->write(c, bytes("held"), 4), 0, "write");
  env.pump([] { return false; }, 100);
  check::eq(static_cast<long long>(env.got(s).size()), 0, "nothing read while paused");
  check::eq(env.loop->resume_reading(s), 0, "resume");
  check::that(env.pump([&] { return env.got(s) == "held"; }), "read after resume");
}

// The pending-write buffer alone: appends interleaved with partial flushes
// (which move the live bytes to the front) keep every byte, in order.
void test_write_buffer() {
  int fds[2];
  if (!check::eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0, "socketpair")) return;
  WriteBuffer wb;
  std::string want, got;
  char buf[4096];
  for (size_t round = 0; round < 200 || !wb.empty(); ++round) {
    if (round < 200) {
      std::string chunk = pattern(3000 + round * 37, round);
      wb.append(bytes(chunk), chunk.size());
      want += chunk;
    }
    if (!check::eq(wb.flush(fds[0], true), 0, "flush")) break;
    ssize_t n = read(fds[1], buf, sizeof buf);  // drain a little each round
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    if (round > 100000) break;
  }
  for (ssize_t n; (n = read(fds[1], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  check::that(wb.empty(), "buffer drained");
  check::that(got == want, "bytes in order across compactions");
  close(fds[0]);
  close(fds[1]);
}

// Counts wake-ups while polling for ms with nothing expected to happen.
uint64_t idle_wakeups(Env& env, int ms) {
  uint64_t before = env.loop->stats().wakeups;
  env.pump([] { return false; }, ms);
  return env.loop->stats().wakeups - before;
}

void test_eof(Backend b) {
  Env env(b);
  int32_t l, c, s;
  if (!tcp_pair(env, &l, &c, &s)) return;
  check::eq(env.loop->shutdown_write(c), 0, "shutdown_write");
  check::that(env.pump([&] { return env.sink.count(kRecEof, s) == 1; }), "server saw EOF");
  check::eq(static_cast<long long>(idle_wakeups(env, 200)), 0, "no spin after EOF");
  check::eq(env.sink.count(kRecEof, s), 1, "EOF reported once");
  check::eq(env.loop->write(s, bytes("bye"), 3), 0, "half-open server can still write");
  check::that(env.pump([&] { return env.got(c) == "bye"; }), "client got bye");
  env.loop->remove(s);
  check::that(env.pump([&] { return env.sink.count(kRecEof, c) == 1; }), "client saw EOF");
}

// finish() ends a connection in one call: with nothing buffered the slot is
// removed at once and the peer sees EOF; with bytes still queued they are
// counted and the slot stays until the caller removes it once they drain.
void test_finish(Backend b) {
  Env env(b);
  int32_t l, c, s;
  if (!tcp_pair(env, &l, &c, &s)) return;
  check::eq(static_cast<long long>(env.loop->finish(s)), 0LL, "nothing buffered: removed");
  check::eq(env.loop->fd_of(s), -1, "the slot is free");
  check::that(env.pump([&] { return env.sink.count(kRecEof, c) == 1; }), "the peer sees EOF");
  check::eq(static_cast<long long>(env.loop->finish(s)), static_cast<long long>(-EBADF), "a freed slot");
  int32_t l2, c2, s2;
  if (!tcp_pair(env, &l2, &c2, &s2)) return;
  env.loop->pause_reading(c2);
  std::string chunk = pattern(256 * 1024, 7), sent;
  int64_t queued = 0;
  for (int i = 0; queued == 0 && i < 256; ++i, sent += chunk) queued = env.loop->write(s2, bytes(chunk), chunk.size());
  check::that(queued > 0, "the kernel's buffer is full");
  check::eq(static_cast<long long>(env.loop->finish(s2)), static_cast<long long>(queued), "the bytes still waiting");
  check::that(env.loop->fd_of(s2) >= 0, "the slot stays while they wait");
  env.loop->resume_reading(c2);
  check::that(env.pump([&] { return env.sink.count(kRecDrained, s2) == 1; }, 20000), "drained");
  check::eq(static_cast<long long>(env.loop->finish(s2)), 0LL, "then removed");
  check::that(env.pump([&] { return env.sink.count(kRecEof, c2) == 1; }, 20000), "the peer sees EOF after the data");
  check::that(env.got(c2) == sent, "every byte arrived first");
}

void reset_by_peer(Env& env, int32_t slot) {
  linger lg{1, 0};  // close() now sends RST
  setsockopt(env.loop->fd_of(slot), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  env.loop->remove(slot);
}

void test_reset(Backend b) {
  Env env(b);
  int32_t l, c, s;
  if (!tcp_pair(env, &l, &c, &s)) return;
  reset_by_peer(env, c);
  check::that(env.pump([&] { return env.sink.count(kRecError, s) == 1; }), "server saw error");
  const Record* r = env.sink.find(kRecError, s);
  if (r != nullptr) check::eq(r->a, ECONNRESET, "ECONNRESET");
  check::eq(static_cast<long long>(idle_wakeups(env, 200)), 0, "no spin after error");
  check::eq(env.sink.count(kRecError, s), 1, "error reported once");
  check::eq(env.loop->write(s, bytes("x"), 1), -EPIPE, "write after error");
}

// A paused reader with queued writes whose peer resets: one error, no spin.
void test_paused_reset(Backend b) {
  Env env(b);
  int32_t l, c, s;
  if (!tcp_pair(env, &l, &c, &s)) return;
  check::eq(env.loop->pause_reading(s), 0, "pause");
  env.loop->pause_reading(c);
  std::string chunk = pattern(256 * 1024, 7);
  int64_t queued = 0;
  for (int i = 0; i < 256 && queued == 0; ++i) queued = env.loop->write(s, bytes(chunk), chunk.size());
  check::that(queued > 0, "writes queued");
  reset_by_peer(env, c);
  check::that(env.pump([&] { return env.sink.count(kRecError, s) == 1; }), "error reported");
  check::eq(static_cast<long long>(idle_wakeups(env, 200)), 0, "no spin");
  check::eq(env.sink.count(kRecError, s), 1, "once");
}

void test_connect_errors(Backend b) {
  Env env(b);
  int32_t l, c;
  int port = listen_local(env, &l);
  env.loop->remove(l);
  int rc = env.loop->connect(addr(4, "127.0.0.1", port), nullptr, &c);
  if (rc == -ECONNREFUSED) return;  // refused at once: also fine
  check::eq(rc, 0, "connect started");
  check::that(env.pump([&] { return env.sink.count(kRecConnected, c) == 1; }), "connected record");
  const Record* r = env.sink.find(kRecConnected, c);
  if (r != nullptr) check::eq(r->a, ECONNREFUSED, "refused");
  check::eq(static_cast<long long>(idle_wakeups(env, 100)), 0, "no spin after failed connect");
  check::eq(env.loop->connect(addr(4, "nope", 80), nullptr, &c), -EINVAL, "bad host");
  check::eq(env.loop->connect(addr(4, "127.0.0.1", 70000), nullptr, &c), -EINVAL, "bad port");
  SockAddr v6 = addr(6, "::1", 1);
  check::eq(env.loop->connect(addr(4, "127.0.0.1", 1), &v6, &c), -EINVAL, "bind family mismatch");
}

// A connected socketpair: the loop adopts `mine`, the test keeps `peer`.
struct Pair {
  int mine = -1, peer = -1;
  Pair() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
      mine = fds[0];
      peer = fds[1];
    }
  }
  ~Pair() {
    if (peer >= 0) close(peer);
  }
  void send(const std::string& s) const { check::eq(::write(peer, s.data(), s.size()), static_cast<long long>(s.size()), "peer write"); }
};

int32_t adopt(Env& env, const Pair& p) {
  int32_t slot = -1;
  check::eq(env.loop->adopt_stream(p.mine, &slot), 0, "adopt_stream");
  return slot;
}

// Two streams ready in one batch; deliver() (reached mid-batch through a slab
// rollover) removes both, and with `reuse` opens new fds that take the same
// fd numbers and slots. No record may reach an old registration, and nothing
// may reach the new ones from the old events in that same batch.
void test_stale(Backend b, bool reuse) {
  Env env(b);
  Pair p, x, y;
  int32_t ps = adopt(env, p), xs = adopt(env, x), ys = adopt(env, y);
  for (int i = 1; i <= 3; ++i) {  // fill the slab to 192 KiB
    p.send(pattern(64 * 1024, i));
    check::that(env.pump([&] { return env.got(ps).size() == i * 64u * 1024; }), "prime");
  }
  const Record& last = env.sink.records.back();
  if (!check::eq(last.a + last.b, 192 * 1024, "slab use after priming")) return;
  // P's read leaves under kMinRead in the slab: the next stream's read rolls
  // the slab over, delivering P's record in the middle of the batch.
  p.send(pattern(60 * 1024, 9));
  x.send("1");
  y.send("2");
  const int32_t xg = static_cast<int32_t>(env.loop->generation(xs));
  const int32_t yg = static_cast<int32_t>(env.loop->generation(ys));
  const int xfd = x.mine, yfd = y.mine;
  std::unique_ptr<Pair> n1, n2;
  int32_t n1s = -1, n2s = -1;
  bool fired = false, clean_at_fire = false;
  env.sink.hook = [&](const Record* recs, int count) {
    if (fired) return;
    fired = true;
    clean_at_fire = count == 1 && recs[0].slot == ps;
    env.loop->remove(xs);
    env.loop->remove(ys);
    if (!reuse) return;
    n1.reset(new Pair());
    n2.reset(new Pair());
    n1->send("a");
    n2->send("b");
    n1s = adopt(env, *n1);
    n2s = adopt(env, *n2);
  };
  size_t before = env.sink.records.size();
  env.loop->poll_once(1000);
  env.sink.hook = nullptr;
  check::that(fired && clean_at_fire, "deliver ran mid-batch, before either stream's record");
  int stale = 0, early = 0;
  for (size_t i = before; i < env.sink.records.size(); ++i) {
    const Record& r = env.sink.records[i];
    if ((r.slot == xs && r.gen == xg) || (r.slot == ys && r.gen == yg)) ++stale;
    if (reuse && (r.slot == n1s || r.slot == n2s)) ++early;
  }
  check::eq(stale, 0, "records for removed registrations");
  if (!reuse) return;
  check::that(n1->mine == xfd || n1->mine == yfd, "a new fd reuses an old number");
  check::that((n1s == xs || n1s == ys) && (n2s == xs || n2s == ys), "new slots reuse the old ones");
  check::eq(early, 0, "records for the new registrations from the old batch");
  check::that(env.pump([&] { return env.got(n1s) == "a" && env.got(n2s) == "b"; }),
              "new registrations work");
}

void test_emfile(Backend b) {
  // Valgrind keeps fds of its own above the soft limit and second-guesses
  // accept() against it, so fd-limit tests say nothing under it.
  if (check::under_valgrind()) {
    std::printf("(skipped under valgrind)\n");
    return;
  }
  Env env(b);
  int32_t l;
  int port = listen_local(env, &l);
  std::vector<int> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(plain_client(port));
  rlimit saved;
  getrlimit(RLIMIT_NOFILE, &saved);
  int lowest = dup(0);
  close(lowest);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(lowest);
  check::eq(setrlimit(RLIMIT_NOFILE, &low), 0, "lower RLIMIT_NOFILE");
  check::that(env.pump([&] { return env.sink.count(kRecAcceptError, l) == 1; }), "accept error");
  const Record* r = env.sink.find(kRecAcceptError, l);
  if (r != nullptr) check::eq(r->a, EMFILE, "EMFILE");
  uint64_t idle = idle_wakeups(env, 300);
  check::eq(setrlimit(RLIMIT_NOFILE, &saved), 0, "restore RLIMIT_NOFILE");
  check::eq(static_cast<long long>(idle), 0, "no wake-ups while accepting is paused");
  check::eq(env.sink.count(kRecAcceptError, l), 1, "reported once");
  check::eq(static_cast<long long>(env.loop->stats().accepts), 0, "nothing accepted");
  check::eq(env.loop->resume_accepting(l), 0, "resume");
  check::that(env.pump([&] { return env.loop->stats().accepts == 5; }),
              "accepts resume (" + std::to_string(env.loop->stats().accepts) + " accepted, " +
                  std::to_string(env.sink.count(kRecAcceptError, l)) + " accept errors, last errno " +
                  std::to_string(env.sink.records.back().a) + ")");
  for (int fd : clients) close(fd);
}

void test_bad_args(Backend b) {
  Env env(b);
  int32_t l, c, s, out;
  if (!tcp_pair(env, &l, &c, &s)) return;
  check::eq(env.loop->write(12345, bytes("x"), 1), -EBADF, "unknown slot");
  check::eq(env.loop->write(-1, bytes("x"), 1), -EBADF, "negative slot");
  check::eq(env.loop->write(l, bytes("x"), 1), -EBADF, "write to a listener");
  check::eq(env.loop->write(c, nullptr, 1), -EINVAL, "null data");
  check::eq(env.loop->writev(c, nullptr, nullptr, 1), -EINVAL, "null iov");
  check::eq(env.loop->writev(c, nullptr, nullptr, -1), -EINVAL, "negative count");
  check::eq(env.loop->set_accept_batch(l, 0), -EINVAL, "batch 0");
  check::eq(env.loop->set_accept_batch(c, 4), -EINVAL, "batch on a stream");
  check::eq(env.loop->resume_accepting(c), -EINVAL, "resume a stream");
  check::eq(env.loop->add_raw(-1, kReadable, Mode{}, &out), -EBADF, "raw fd -1");
  check::eq(env.loop->add_raw(0, 0x100, Mode{}, &out), -EINVAL, "raw bad interest");
  check::eq(env.loop->modify_raw(c, kReadable, Mode{}), -EBADF, "modify_raw on a stream");
  check::eq(env.loop->listen(addr(4, "abc", 0), 10, false, &out), -EINVAL, "non-numeric host");
  check::eq(env.loop->listen(addr(7, "127.0.0.1", 0), 10, false, &out), -EINVAL, "bad family");
  check::eq(env.loop->listen(addr(4, "127.0.0.1", 0), -1, false, &out), -EINVAL, "bad backlog");
  SockAddr used;
  env.loop->local_address(l, &used);
  check::eq(env.loop->listen(used, 10, false, &out), -EADDRINUSE, "port in use");
  check::eq(env.loop->listen(addr(4, "192.0.2.1", 0), 10, false, &out), -EADDRNOTAVAIL, "not ours");
  check::eq(env.loop->listen(addr(0, "/nonexistent/dir/s", 0), 10, false, &out), -ENOENT, "unix dir");
  check::eq(env.loop->poll_once(-2), -EINVAL, "timeout -2");
  check::eq(env.loop->generation(-5), 0, "generation of a bad slot");
  check::eq(env.loop->fd_of(999), -1, "fd_of unknown");
  check::eq(env.loop->set_ref(999, true), -EBADF, "set_ref unknown");
  env.loop->remove(c);
  check::eq(env.loop->write(c, bytes("x"), 1), -EBADF, "write to a freed slot");
  check::eq(env.loop->buffered(c), -EBADF, "buffered of a freed slot");
  check::eq(env.loop->pause_reading(c), -EBADF, "pause a freed slot");
  SockAddr a;
  check::eq(env.loop->peer_address(c, &a), -EBADF, "address of a freed slot");
}

void test_raw_and_pipes(Backend b) {
  Env env(b);
  int fds[2];
  check::eq(pipe(fds), 0, "pipe");
  int32_t raw;
  check::eq(env.loop->add_raw(fds[0], kReadable, Mode{}, &raw), 0, "add_raw");
  check::eq(::write(fds[1], "r", 1), 1, "write");
  check::that(env.pump([&] { return env.sink.count(kRecRaw, raw) > 0; }), "raw record");
  check::that((env.sink.find(kRecRaw, raw)->a & kReadable) != 0, "readable mask");
  check::eq(env.loop->remove(raw), 0, "remove raw");
  check::that(fcntl(fds[0], F_GETFD) >= 0, "raw fd not closed by the loop");
  close(fds[0]);
  close(fds[1]);
  check::eq(pipe(fds), 0, "pipe");
  int32_t rs, ws;
  check::eq(env.loop->adopt_stream(fds[0], &rs), 0, "adopt read end");
  check::eq(env.loop->adopt_stream(fds[1], &ws), 0, "adopt write end");
  check::eq(env.loop->write(ws, bytes("abc"), 3), 0, "pipe write");
  check::that(env.pump([&] { return env.got(rs) == "abc"; }), "pipe read");
  check::eq(env.loop->shutdown_write(ws), -ENOTSOCK, "no shutdown on a pipe");
  env.loop->remove(ws);
  check::that(env.pump([&] { return env.sink.count(kRecEof, rs) == 1; }), "pipe EOF");
}

// An idle write-only pipe whose reader closes is reported lost (EPIPE), once,
// without a write: Linux raises an error on it. Elsewhere nothing is reported
// until a write.
void test_pipe_reader_gone(Backend b) {
  Env env(b);
  int fds[2];
  check::eq(pipe(fds), 0, "pipe");
  int32_t ws;
  check::eq(env.loop->adopt_stream(fds[1], &ws), 0, "adopt write end");
  close(fds[0]);
#if defined(__linux__)
  if (check::that(env.pump([&] { return env.sink.count(kRecError, ws) == 1; }), "lost without a write")) {
    check::eq(env.sink.find(kRecError, ws)->a, EPIPE, "as EPIPE");
  }
  env.pump([] { return false; }, 60);  // a level-triggered report nobody handles would come again
  check::eq(env.sink.count(kRecError, ws), 1, "reported once");
#endif
  check::eq(env.loop->remove(ws), 0, "remove");
}

void test_refcount(Backend b) {
  Env env(b);
  check::eq(static_cast<long long>(env.loop->refcount()), 0, "empty");
  int32_t l;
  listen_local(env, &l);
  check::eq(static_cast<long long>(env.loop->refcount()), 1, "listener ref'd");
  check::eq(env.loop->set_ref(l, false), 0, "unref");
  check::eq(env.loop->set_ref(l, false), 0, "unref twice");
  check::eq(static_cast<long long>(env.loop->refcount()), 0, "unref'd");
  env.loop->set_ref(l, true);
  check::eq(static_cast<long long>(env.loop->refcount()), 1, "ref'd again");
  env.loop->remove(l);
  check::eq(static_cast<long long>(env.loop->refcount()), 0, "removed");
}

// More level-triggered fds stay ready than one wait returns: poll_once must
// still come back (bounded drain) instead of re-polling full waits forever.
void test_bounded_drain(Backend b) {
  Env env(b);
  const int kPairs = Loop::kMaxRecords + 500;
  std::vector<int> fds;
  for (int i = 0; i < kPairs; ++i) {
    int sv[2];
    check::eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
    fds.push_back(sv[0]);
    fds.push_back(sv[1]);
    int32_t slot;
    check::eq(env.loop->add_raw(sv[0], kWritable, Mode{}, &slot), 0, "add_raw");
  }
  const int n = env.loop->poll_once(0);
  check::that(n >= kPairs, "every ready fd reported: " + std::to_string(n));
  check::that(n <= kPairs * Loop::kMaxDrainRounds, "drain bounded: " + std::to_string(n));
  env.loop.reset();
  for (int fd : fds) close(fd);
}

// True while /proc shows pid as a live or zombie process.
bool process_exists(int pid) {
  return access(("/proc/" + std::to_string(pid)).c_str(), F_OK) == 0;
}

// A loop closed while its child still runs must not leave that child a
// zombie once it exits: nobody watches the pidfd any more.
void test_closed_loop_reaps_child(Backend b) {
  Env env(b);
  process::SpawnOptions o;
  o.executable = "/bin/sleep";
  o.argv = {"sleep", "30"};
  o.env = {"PATH=/bin:/usr/bin"};
  Loop::Spawned sp;
  const int r = env.loop->spawn(o, {}, &sp);
  if (r == -ENOSYS && check::under_valgrind()) {
    std::printf("(skipped under valgrind: it has no pidfd_open)\n");
    return;
  }
  if (!check::eq(r, 0, "spawn sleep") || sp.pid <= 0) return;  // never kill(0, ...)
  env.loop.reset();
  check::eq(kill(sp.pid, SIGKILL), 0, "kill");
  auto end = Clock::now() + std::chrono::seconds(5);
  while (process_exists(sp.pid) && Clock::now() < end) usleep(5000);
  check::that(!process_exists(sp.pid), "child reaped after its loop closed");
}

// live(slot, gen) is what the bridge checks before any command on a
// registration: true only for the current tenant of the slot.
void test_live_handles(Backend b) {
  Env env(b);
  int sv[2];
  check::eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
  int32_t first = -1, second = -1;
  check::eq(env.loop->add_raw(sv[0], kReadable, Mode{}, &first), 0, "add");
  const uint32_t old_gen = env.loop->generation(first);
  check::that(env.loop->live(first, old_gen), "live while registered");
  check::eq(env.loop->remove(first), 0, "remove");
  check::that(!env.loop->live(first, old_gen), "not live once removed");
  check::eq(env.loop->add_raw(sv[0], kReadable, Mode{}, &second), 0, "add again");
  check::eq(second, first, "the slot is reused");
  check::that(!env.loop->live(first, old_gen), "the old handle stays dead");
  check::that(env.loop->live(second, env.loop->generation(second)), "the new tenant is live");
  check::that(!env.loop->live(-1, 1) && !env.loop->live(1 << 20, 1), "out of range");
  env.loop.reset();
  close(sv[0]);
  close(sv[1]);
}

// Threads of this process now (/proc/self/task entries).
int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.' ? 1 : 0;
    closedir(d);
  }
  return n;
}

// Waits up to 5 s for pred.
bool eventually(const std::function<bool()>& pred) {
  auto end = Clock::now() + std::chrono::seconds(5);
  while (!pred() && Clock::now() < end) usleep(5000);
  return pred();
}

// Closing a loop with many children running hands them all to one reaper
// thread (it used to start a thread per child), and each is reaped once it
// is killed; the reaper ends when none is left.
void test_close_many_children(Backend b) {
  Env env(b);
  process::SpawnOptions o;
  o.executable = "/bin/sleep";
  o.argv = {"sleep", "30"};
  std::vector<int> pids;
  for (int i = 0; i < 100; ++i) {
    Loop::Spawned sp;
    int r = env.loop->spawn(o, {}, &sp);
    if (r == -ENOSYS && check::under_valgrind()) return;  // no pidfd_open under valgrind
    if (!check::eq(r, 0, "spawn sleep") || sp.pid <= 0) break;
    pids.push_back(sp.pid);
  }
  const int before = thread_count();
  env.loop.reset();
  check::that(thread_count() <= before + 1, "at most one thread added: " + std::to_string(thread_count() - before));
  check::eq(static_cast<long long>(reaper::waiting()), static_cast<long long>(pids.size()), "all waiting");
  for (int pid : pids) kill(pid, SIGKILL);
  check::that(eventually([&] { return std::none_of(pids.begin(), pids.end(), process_exists); }), "all reaped");
  check::that(eventually([] { return !reaper::thread_running(); }), "the reaper ended");
  check::eq(static_cast<long long>(reaper::waiting()), 0, "none waiting");
}

void test_unix_and_dual_stack(Backend b) {
  Env env(b);
  std::string path = "/tmp/ioreactor-test-loop-" + std::to_string(getpid()) + ".sock";
  unlink(path.c_str());
  int32_t l, c, l6, c4;
  check::eq(env.loop->listen(addr(0, path, 0), 10, false, &l), 0, "listen unix");
  check::eq(env.loop->listen(addr(0, path, 0), 10, false, &c), -EADDRINUSE, "path not unlinked");
  check::eq(env.loop->connect(addr(0, path, 0), nullptr, &c), 0, "connect unix");
  check::that(env.pump([&] { return env.sink.find(kRecAccepted, l) && env.sink.find(kRecConnected, c); }),
              "unix connected");
  SockAddr local;
  check::eq(env.loop->local_address(l, &local), 0, "unix local address");
  check::that(local.family == 0 && local.host == path, "unix path");
  unlink(path.c_str());
  int rc = env.loop->listen(addr(6, "::", 0), 10, false, &l6);
  if (rc == -EAFNOSUPPORT) return;  // no IPv6 on this host
  check::eq(rc, 0, "listen ::");
  env.loop->local_address(l6, &local);
  check::eq(env.loop->connect(addr(4, "127.0.0.1", local.port), nullptr, &c4), 0, "connect v4");
  check::that(env.pump([&] { return env.sink.find(kRecConnected, c4) && env.sink.find(kRecAccepted, l6); }),
              "IPv4 client reaches the dual-stack listener");
}

// A listening socket made outside the loop (as systemd or a supervisor
// would), adopted through a dup: the loop accepts on it, the original stays
// open and ours after the loop lets go.
void test_adopt_listener(Backend b) {
  Env env(b);
  int theirs = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  check::eq(bind(theirs, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0, "bind");
  check::eq(sockets::check_adoptable(theirs, 4, true), -EINVAL, "bound, not listening");
  check::eq(listen(theirs, 16), 0, "listen");
  check::eq(sockets::check_adoptable(theirs, 6, true), -EAFNOSUPPORT, "not IPv6");
  check::eq(sockets::check_adoptable(theirs, 4, false), -ENOTCONN, "a listener is no connection");
  int own = -1;
  check::eq(sockets::dup_adoptable(theirs, 4, true, &own), 0, "dup");
  int32_t l = -1;
  check::eq(env.loop->adopt_listener(own, &l), 0, "adopt_listener");
  SockAddr local;
  check::eq(env.loop->local_address(l, &local), 0, "local_address");
  int client = plain_client(local.port);
  check::that(client >= 0, "client connected");
  check::that(env.pump([&] { return env.sink.find(kRecAccepted, l) != nullptr; }), "accepted on the adopted socket");
  check::eq(env.loop->remove(l), 0, "remove");
  check::that(fcntl(theirs, F_GETFD) >= 0, "the caller's fd is still open");
  close(client);
  close(theirs);
}

void test_adopt_refused(Backend) {
  int p[2];
  check::eq(pipe(p), 0, "pipe");
  check::eq(sockets::check_adoptable(p[0], 4, true), -ENOTSOCK, "a pipe");
  close(p[0]);
  close(p[1]);
  check::eq(sockets::check_adoptable(p[0], 4, true), -EBADF, "a closed fd");
  int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  check::eq(sockets::check_adoptable(u, 4, true), -EPROTOTYPE, "a datagram socket");
  close(u);
  int own = 12345;
  check::eq(sockets::dup_adoptable(-1, 4, true, &own), -EBADF, "a negative fd");
  check::eq(own, 12345, "nothing dup'd on failure");
}

}  // namespace

int main(int argc, char** argv) {
  check::raise_fd_limit();
  const int fds_before = check::open_fds();
  std::vector<check::Case> cases{{"write buffer", test_write_buffer}};
  check::add_backend_cases(&cases, {
      {"echo", test_echo},
      {"read_low_water", test_read_low_water},
      {"accept burst", test_accept_burst},
      {"partial writes", test_partial_writes},
      {"eof", test_eof},
      {"finish", test_finish},
      {"write while connecting", test_write_while_connecting},
      {"pause and resume", test_pause_resume},
      {"reset", test_reset},
      {"paused reset", test_paused_reset},
      {"connect errors", test_connect_errors},
      {"stale removed", [](Backend b) { test_stale(b, false); }},
      {"stale reused", [](Backend b) { test_stale(b, true); }},
      {"emfile", test_emfile},
      {"bad args", test_bad_args},
      {"raw and pipes", test_raw_and_pipes},
      {"pipe reader gone", test_pipe_reader_gone},
      {"refcount", test_refcount},
      {"unix and dual stack", test_unix_and_dual_stack},
      {"bounded drain", test_bounded_drain},
      {"closed loop reaps child", test_closed_loop_reaps_child},
      {"close with 100 children", test_close_many_children},
      {"live handles", test_live_handles},
      {"adopt listener", test_adopt_listener},
      {"adopt refused", test_adopt_refused},
  });
  cases.push_back({"no fd leak", [fds_before] { check::eq(check::open_fds(), fds_before, "open fds"); }});
  return check::run_all(cases, argc, argv);
}
