// Fault-injection tests: the loop against syscalls that fail the way a busy
// or hostile system makes them fail (fd exhaustion, kernel memory, resets,
// broken pipes, interrupted calls), injected through the fault table
// (native/fault.h). Linked against the fault-enabled core, run once per
// backend over real sockets on 127.0.0.1.
//
// Each case checks the documented record (loop.h), that the loop does not
// spin afterwards (no wake-ups while nothing is pending), that the listener
// or the other connections keep working, and, at the end, that no fd leaked.
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "backends.h"
#include "fault.h"
#include "loop.h"
#include "process.h"
#include "reaper.h"

using namespace ioreactor;
using fault::Call;

namespace {

// Keeps records and the bytes each stream received.
struct RecordingSink : LoopSink {
  std::vector<std::unique_ptr<uint8_t[]>> slabs;
  std::vector<Record> records;
  std::vector<std::pair<int32_t, std::string>> bytes;  // (slot, data) per kRecData

  uint8_t* new_slab(size_t size) override {
    slabs.emplace_back(new uint8_t[size]);
    return slabs.back().get();
  }
  void deliver(const Record* recs, int count) override {
    for (int i = 0; i < count; ++i) {
      records.push_back(recs[i]);
      if (recs[i].type != kRecData) continue;
      const uint8_t* at = slabs.back().get() + recs[i].a;
      bytes.emplace_back(recs[i].slot, std::string(reinterpret_cast<const char*>(at),
                                                   static_cast<size_t>(recs[i].b)));
    }
  }
  int count(int32_t type, int32_t slot) const {
    int n = 0;
    for (const Record& r : records) n += (r.type == type && r.slot == slot) ? 1 : 0;
    return n;
  }
  const Record* last(int32_t type, int32_t slot) const {
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if (it->type == type && it->slot == slot) return &*it;
    }
    return nullptr;
  }
  std::string received(int32_t slot) const {
    std::string all;
    for (const auto& b : bytes) all += b.first == slot ? b.second : "";
    return all;
  }
};

// One loop, one listener on 127.0.0.1:0, plain blocking clients.
struct Rig {
  RecordingSink sink;
  std::unique_ptr<Loop> loop;
  int32_t listener = -1;
  int port = 0;

  explicit Rig(Backend b) {
    fault::clear();
    int err = 0;
    loop = Loop::create(b, &sink, &err);
    if (!check::that(loop != nullptr, "Loop::create " + std::to_string(err))) return;
    SockAddr a;
    a.family = 4;
    a.host = "127.0.0.1";
    check::eq(loop->listen(a, 128, false, &listener), 0, "listen");
    SockAddr local;
    loop->local_address(listener, &local);
    port = local.port;
  }
  ~Rig() { fault::clear(); }

  bool pump(const std::function<bool()>& done, int ms = 3000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done() && std::chrono::steady_clock::now() < end) loop->poll_once(20);
    return done();
  }
  // Wake-ups that saw an event during `ms` of polling: 0 unless something spins.
  uint64_t wakeups_during(int ms) {
    uint64_t before = loop->stats().wakeups;
    pump([] { return false; }, ms);
    return loop->stats().wakeups - before;
  }
  int client() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check::eq(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0, "client connect");
    return fd;
  }
  uint64_t accepts() const { return loop->stats().accepts; }
  // A client and the loop's stream for it (the slot of the latest accept).
  int32_t accept_one(int* client_fd) {
    uint64_t before = accepts();
    *client_fd = client();
    check::that(pump([&] { return accepts() == before + 1; }), "accepted");
    const Record* r = sink.last(kRecAccepted, listener);
    return r != nullptr ? r->a : -1;
  }
};

std::string read_some(int fd, size_t want) {
  std::string got;
  char buf[4096];
  while (got.size() < want) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// ---- accept ----

// Errors that are about the process or the system, not one connection: one
// kRecAcceptError, accepting pauses (no spin), resume_accepting() takes the
// connection that was waiting.
void accept_pauses(Backend b, int err) {
  Rig rig(b);
  fault::set(Call::kAccept, err, 1);
  int c = rig.client();
  check::that(rig.pump([&] { return rig.sink.count(kRecAcceptError, rig.listener) > 0; }),
              "accept error reported");
  const Record* r = rig.sink.last(kRecAcceptError, rig.listener);
  if (r != nullptr) check::eq(r->a, err, "the injected errno");
  check::eq(static_cast<long long>(rig.wakeups_during(200)), 0, "no wake-ups while paused");
  check::eq(static_cast<long long>(rig.accepts()), 0, "nothing accepted while paused");
  check::eq(rig.loop->resume_accepting(rig.listener), 0, "resume_accepting");
  check::that(rig.pump([&] { return rig.accepts() == 1; }), "the waiting connection is accepted");
  check::eq(rig.sink.count(kRecAcceptError, rig.listener), 1, "exactly one accept error");
  check::eq(static_cast<long long>(fault::hits(Call::kAccept)), 1, "injected once");
  ::close(c);
}

// Errors that belong to one connection (aborted, interrupted): skipped
// silently, the next accept in the same batch takes the real connection.
void accept_skips(Backend b, int err) {
  Rig rig(b);
  fault::set(Call::kAccept, err, 1);
  int c = rig.client();
  check::that(rig.pump([&] { return rig.accepts() == 1; }), "accepted after the skipped error");
  check::eq(rig.sink.count(kRecAcceptError, rig.listener), 0, "no accept error record");
  check::eq(static_cast<long long>(fault::hits(Call::kAccept)), 1, "injected once");
  ::close(c);
}

// EPERM (a firewall refused one connection): reported, but the listener stays
// armed and takes the next connection without resume_accepting().
void accept_eperm(Backend b) {
  Rig rig(b);
  fault::set(Call::kAccept, EPERM, 1);
  int c = rig.client();
  check::that(rig.pump([&] { return rig.accepts() == 1; }), "accepted without resuming");
  check::eq(rig.sink.count(kRecAcceptError, rig.listener), 1, "one EPERM record");
  const Record* r = rig.sink.last(kRecAcceptError, rig.listener);
  if (r != nullptr) check::eq(r->a, EPERM, "EPERM");
  ::close(c);
}

// The poller refuses the new connection's registration (epoll_ctl ENOSPC:
// max_user_watches): the connection is closed, accepting pauses, resume works.
void accept_poller_full(Backend b) {
  if (b != Backend::kEpoll) return;  // the other backends make no ctl call
  Rig rig(b);
  fault::set(Call::kPollerCtl, ENOSPC, 1);
  int c1 = rig.client();
  check::that(rig.pump([&] { return rig.sink.count(kRecAcceptError, rig.listener) == 1; }),
              "accept error");
  check::eq(rig.sink.last(kRecAcceptError, rig.listener)->a, ENOSPC, "ENOSPC");
  check::eq(static_cast<long long>(rig.accepts()), 0, "not counted as accepted");
  check::eq(read_some(c1, 1).size(), 0, "the refused connection is closed");
  check::eq(rig.loop->resume_accepting(rig.listener), 0, "resume");
  int c2 = rig.client();
  check::that(rig.pump([&] { return rig.accepts() == 1; }), "the next connection is accepted");
  ::close(c1);
  ::close(c2);
}

// ---- read ----

void read_reset(Backend b) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  int32_t other_c = -1;
  int32_t other = rig.accept_one(&other_c);
  fault::set(Call::kRead, ECONNRESET, 1);
  check::eq(::write(c, "x", 1), 1, "client writes");
  check::that(rig.pump([&] { return rig.sink.count(kRecError, s) == 1; }), "error record");
  check::eq(rig.sink.last(kRecError, s)->a, ECONNRESET, "ECONNRESET");
  check::eq(rig.sink.count(kRecData, s), 0, "no data record");
  check::eq(static_cast<long long>(rig.wakeups_during(200)), 0, "a dead stream does not spin");
  check::eq(rig.loop->remove(s), 0, "remove");
  check::eq(::write(other_c, "y", 1), 1, "other client writes");
  check::that(rig.pump([&] { return rig.sink.received(other) == "y"; }), "other stream unaffected");
  ::close(c);
  ::close(other_c);
}

void read_eintr(Backend b) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  fault::set(Call::kRead, EINTR, 3);
  check::eq(::write(c, "hello", 5), 5, "client writes");
  check::that(rig.pump([&] { return rig.sink.received(s) == "hello"; }), "data after EINTRs");
  check::eq(static_cast<long long>(fault::hits(Call::kRead)), 3, "three EINTRs");
  check::eq(rig.sink.count(kRecError, s), 0, "no error");
  ::close(c);
}

// A pipe takes read() where a socket takes recv(): the same fault covers both.
void read_pipe_faults(Backend b) {
  Rig rig(b);
  int fds[2];
  check::eq(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0, "pipe");
  int32_t s = -1;
  check::eq(rig.loop->adopt_stream(fds[0], &s), 0, "adopt the read end");
  fault::set(Call::kRead, EINTR, 2);
  check::eq(::write(fds[1], "hi", 2), 2, "writer writes");
  check::that(rig.pump([&] { return rig.sink.received(s) == "hi"; }), "data after EINTRs");
  check::eq(static_cast<long long>(fault::hits(Call::kRead)), 2, "two EINTRs on the pipe");
  fault::set(Call::kRead, EIO, 1);
  check::eq(::write(fds[1], "x", 1), 1, "writer writes again");
  check::that(rig.pump([&] { return rig.sink.count(kRecError, s) == 1; }), "error record");
  check::eq(rig.sink.last(kRecError, s)->a, EIO, "EIO");
  check::eq(rig.loop->remove(s), 0, "remove");
  ::close(fds[1]);
}

// No slab to read into: that stream fails with ENOMEM, the loop goes on.
void read_no_slab(Backend b) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  fault::set(Call::kSlab, ENOMEM, 1);
  check::eq(::write(c, "x", 1), 1, "client writes");
  check::that(rig.pump([&] { return rig.sink.count(kRecError, s) == 1; }), "error record");
  check::eq(rig.sink.last(kRecError, s)->a, ENOMEM, "ENOMEM");
  int c2 = -1;
  int32_t s2 = rig.accept_one(&c2);
  check::eq(::write(c2, "z", 1), 1, "second client writes");
  check::that(rig.pump([&] { return rig.sink.received(s2) == "z"; }), "later reads work");
  ::close(c);
  ::close(c2);
}

// ---- write ----

// A failing send at write() time is returned to the caller; no record.
void write_now_fails(Backend b, int err) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  size_t before = rig.sink.records.size();
  fault::set(Call::kSend, err, 1);
  check::eq(rig.loop->write(s, bytes("abc"), 3), -err, "write returns -errno");
  check::eq(rig.loop->buffered(s), 0, "nothing buffered");
  check::eq(static_cast<long long>(rig.wakeups_during(100)), 0, "no wake-ups");
  check::eq(static_cast<long long>(rig.sink.records.size() - before), 0, "no record");
  ::close(c);
}

// The kernel takes nothing (EAGAIN), then the flush fails: one kRecError.
void flush_fails(Backend b, int err) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  fault::set(Call::kSend, EAGAIN, 1);
  check::eq(rig.loop->write(s, bytes("abc"), 3), 3, "all buffered after EAGAIN");
  fault::set(Call::kSend, err, 1);
  check::that(rig.pump([&] { return rig.sink.count(kRecError, s) == 1; }), "error record");
  check::eq(rig.sink.last(kRecError, s)->a, err, "the injected errno");
  check::eq(rig.sink.count(kRecDrained, s), 0, "never drained");
  check::eq(static_cast<long long>(rig.wakeups_during(200)), 0, "a dead stream does not spin");
  check::eq(rig.loop->write(s, bytes("d"), 1), -EPIPE, "later writes fail with EPIPE");
  ::close(c);
}

// EAGAIN at write() and at the first flush: the bytes go out later, in order.
void write_eagain(Backend b) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  fault::set(Call::kSend, EAGAIN, 2);
  check::eq(rig.loop->write(s, bytes("abc"), 3), 3, "buffered");
  check::eq(rig.loop->write(s, bytes("def"), 3), 6, "queued behind");
  check::that(rig.pump([&] { return rig.sink.count(kRecDrained, s) == 1; }), "drained");
  check::eq(static_cast<long long>(fault::hits(Call::kSend)), 2, "two EAGAINs");
  check::that(read_some(c, 6) == "abcdef", "the peer got every byte in order");
  check::eq(static_cast<long long>(rig.wakeups_during(200)), 0, "writable interest disarmed");
  ::close(c);
}

// writev (sendmsg) that takes nothing, then an interrupted flush: in order.
void writev_eagain_eintr(Backend b) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  fault::set(Call::kSendmsg, EAGAIN, 1);
  const std::string ab = "ab", cd = "cd", ef = "ef";
  const uint8_t* parts[] = {bytes(ab), bytes(cd), bytes(ef)};
  const size_t lens[] = {2, 2, 2};
  check::eq(rig.loop->writev(s, parts, lens, 3), 6, "buffered");
  fault::set(Call::kSend, EINTR, 2);
  check::that(rig.pump([&] { return rig.sink.count(kRecDrained, s) == 1; }), "drained");
  check::that(read_some(c, 6) == "abcdef", "in order");
  ::close(c);
}

// The pending-write buffer cannot grow: that write fails with ENOMEM and the
// stream is dead (part of it may be gone), nothing else is touched.
void write_buffer_enomem(Backend b) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  fault::set(Call::kSend, EAGAIN, 1);
  fault::set(Call::kWriteBuffer, ENOMEM, 1);
  check::eq(rig.loop->write(s, bytes("abc"), 3), -ENOMEM, "write fails with ENOMEM");
  check::eq(rig.loop->write(s, bytes("d"), 1), -EPIPE, "the stream is dead");
  check::eq(static_cast<long long>(rig.wakeups_during(200)), 0, "no spin");
  check::eq(rig.loop->remove(s), 0, "remove");
  ::close(c);
}

// ---- close and reaping ----

// close() failing (EIO, EINTR) still releases the fd: nothing retries it.
void close_fails(Backend b) {
  Rig rig(b);
  int c = -1;
  int32_t s = rig.accept_one(&c);
  int fd = rig.loop->fd_of(s);
  fault::set(Call::kClose, EIO, 1);
  check::eq(rig.loop->remove(s), 0, "remove");
  check::eq(static_cast<long long>(fault::hits(Call::kClose)), 1, "close failed once");
  check::that(::fcntl(fd, F_GETFD) < 0 && errno == EBADF, "the fd is closed anyway");
  ::close(c);
}

void reap_eintr() {
  fault::clear();
  process::SpawnOptions o;
  o.executable = "/bin/true";
  o.argv = {"true"};
  pid_t pid = 0;
  if (!check::eq(process::spawn(o, &pid), 0, "spawn")) return;
  fault::set(Call::kPidfdOpen, EMFILE, 1);
  check::eq(process::open_pidfd(pid), -EMFILE, "pidfd_open fails with EMFILE");
  fault::set(Call::kWaitid, EINTR, 1);
  process::ExitStatus st;
  check::eq(process::reap(-1, pid, &st), 0, "EINTR: not reaped yet, try again");
  int rc = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while ((rc = process::reap(-1, pid, &st)) == 0 && std::chrono::steady_clock::now() < end) {
    ::usleep(5000);
  }
  check::eq(rc, 1, "reaped after the EINTR");
  check::eq(st.code, 0, "exit 0");
  fault::clear();
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

bool eventually(const std::function<bool()>& pred) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pred() && std::chrono::steady_clock::now() < end) ::usleep(5000);
  return pred();
}

// The reaper cannot start its thread (EAGAIN: RLIMIT_NPROC): closing a loop
// with a child running must not abort; the child waits, and is reaped once a
// later loop (here, the next one created) finds the thread can start again.
void reaper_thread_fails(Backend b) {
  fault::clear();
  pid_t pid = 0;
  {
    Rig rig(b);
    process::SpawnOptions o;
    o.executable = "/bin/sleep";
    o.argv = {"sleep", "30"};
    Loop::Spawned sp;
    int r = rig.loop->spawn(o, {}, &sp);
    if (r == -ENOSYS && check::under_valgrind()) return;  // no pidfd_open under valgrind
    if (!check::eq(r, 0, "spawn sleep") || sp.pid <= 0) return;
    pid = sp.pid;
    fault::set(Call::kThread, EAGAIN, -1);
    rig.loop.reset();
    check::that(static_cast<long long>(fault::hits(Call::kThread)) >= 1, "thread creation failed");
  }
  check::eq(static_cast<long long>(reaper::waiting()), 1, "the child waits");
  check::that(!reaper::thread_running(), "no thread");
  ::kill(pid, SIGKILL);
  fault::clear();
  Rig next(b);  // creating a loop retries the reaper
  check::that(eventually([pid] { return !process_exists(pid); }), "reaped after the retry");
  check::that(eventually([] { return !reaper::thread_running(); }), "the reaper ended");
}

}  // namespace

int main(int argc, char** argv) {
  const int fds_before = check::open_fds();
  std::vector<check::Case> cases;
  check::add_backend_cases(&cases, {
      {"accept EMFILE pauses", [](Backend b) { accept_pauses(b, EMFILE); }},
      {"accept ENFILE pauses", [](Backend b) { accept_pauses(b, ENFILE); }},
      {"accept ENOBUFS pauses", [](Backend b) { accept_pauses(b, ENOBUFS); }},
      {"accept ENOMEM pauses", [](Backend b) { accept_pauses(b, ENOMEM); }},
      {"accept ECONNABORTED skipped", [](Backend b) { accept_skips(b, ECONNABORTED); }},
      {"accept EINTR skipped", [](Backend b) { accept_skips(b, EINTR); }},
      {"accept EPERM reported, still armed", accept_eperm},
      {"accept: poller full", accept_poller_full},
      {"read ECONNRESET", read_reset},
      {"read EINTR retried", read_eintr},
      {"read faults on a pipe (read, not recv)", read_pipe_faults},
      {"read without a slab", read_no_slab},
      {"write EPIPE now", [](Backend b) { write_now_fails(b, EPIPE); }},
      {"write ENOBUFS now", [](Backend b) { write_now_fails(b, ENOBUFS); }},
      {"flush EPIPE", [](Backend b) { flush_fails(b, EPIPE); }},
      {"flush ENOBUFS", [](Backend b) { flush_fails(b, ENOBUFS); }},
      {"write EAGAIN", write_eagain},
      {"writev EAGAIN, flush EINTR", writev_eagain_eintr},
      {"write buffer ENOMEM", write_buffer_enomem},
      {"close fails", close_fails},
      {"reaper thread fails", reaper_thread_fails},
  });
  cases.push_back({"reap EINTR, pidfd_open EMFILE", reap_eintr});
  cases.push_back({"no fd leak", [fds_before] { check::eq(check::open_fds(), fds_before, "open fds"); }});
  if (!fault::kEnabled) {
    std::printf("not a fault build: nothing to test\n");
    return 1;
  }
  return check::run_all(cases, argc, argv);
}
