// TLS in the loop (loop_tls.cc), on every backend, over socketpairs whose far
// ends are driven by in-memory client TlsStreams: the handshake ration (a
// burst of ClientHellos larger than kHandshakeBudget is answered over several
// wake-ups, not one, and every one is answered; a wake-up serves its
// established connections before any handshake step; in a loop that speaks
// TLS each accept is a step of the ration, in a plaintext one accepts are
// batched as before), decrypted data arriving as ordinary Data records, and
// close_notify arriving as Eof, finish() sending close_notify before the
// slot goes; hellos waiting for their step are polled once, not on every
// wake-up, and the loop keeps serving them when JS closes
// or pauses the oldest; a handshake whose hello was answered takes its next
// step ahead of the waiting hellos; while handshakes wait, a wake-up's records go to JS
// in chunks of kFloodChunk events, else in one delivery. Valgrind checks
// nothing leaks.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends.h"
#include "check.h"
#include "loop.h"
#include "net.h"
#include "tls_certs.h"
#include "tls_memory.h"
#include "tls_context.h"
#include "tls_stream.h"

using namespace ioreactor;

namespace {

struct Sink : LoopSink {
  std::vector<std::unique_ptr<uint8_t[]>> slabs;
  uint8_t* current = nullptr;
  std::vector<Record> records;
  std::string data;
  // Peers whose answers are watched: had any been answered when Data arrived?
  std::vector<int> watch;
  bool answered_before_data = false;
  // Deliveries, and the most Data records one of them carried.
  int deliveries = 0;
  int most_data = 0;
  // Called once, after the first delivery of a wake-up (for tests that
  // change the loop between two chunks of one wake-up).
  std::function<void(Sink&)> after_first;
  uint8_t* new_slab(size_t size) override {
    slabs.emplace_back(new uint8_t[size]);
    current = slabs.back().get();
    return current;
  }
  void deliver(const Record* recs, int count) override {
    ++deliveries;
    int data_here = 0;
    for (int i = 0; i < count; ++i) data_here += recs[i].type == kRecData ? 1 : 0;
    most_data = std::max(most_data, data_here);
    for (int i = 0; i < count; ++i) {
      records.push_back(recs[i]);
      if (recs[i].type != kRecData) continue;
      data.append(reinterpret_cast<char*>(current + recs[i].a), static_cast<size_t>(recs[i].b));
      for (int fd : watch) {
        char c;
        if (::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0) answered_before_data = true;
      }
    }
    if (after_first) {
      auto once = std::move(after_first);
      after_first = nullptr;
      once(*this);
    }
  }
  int count(int32_t type) const {
    int n = 0;
    for (const Record& r : records) n += r.type == type ? 1 : 0;
    return n;
  }
};

using tlsmemory::context;

// One connection: our server stream in the loop, a client engine on the far fd.
struct Conn {
  int32_t slot = -1;
  int peer = -1;
  std::unique_ptr<TlsStream> client;
};

// Sends whatever the client engine has to say to the loop's side.
void client_send(Conn& c) {
  const uint8_t* data = nullptr;
  size_t n = c.client->output(&data);
  if (n > 0) check::eq(static_cast<long long>(::send(c.peer, data, n, 0)), static_cast<long long>(n), "peer send");
  c.client->consume_output();
}

// Feeds the client engine what the loop sent; returns the bytes read.
ssize_t client_recv(Conn& c) {
  uint8_t buf[65536];
  ssize_t n = ::recv(c.peer, buf, sizeof buf, MSG_DONTWAIT);
  if (n > 0) c.client->feed(buf, static_cast<size_t>(n));
  return n;
}

// A TLS stream on the loop and a client on its peer that sent its
// ClientHello; with `rest`, only the hello's first `first` bytes are sent and
// the others are kept there.
bool open_conn(Loop& loop, const std::shared_ptr<TlsContext>& server_ctx, Conn* c, size_t first = 0,
               std::string* rest = nullptr) {
  int sv[2];
  if (!check::eq(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0, "socketpair")) return false;
  check::eq(loop.adopt_stream(sv[0], &c->slot), 0, "adopt");
  c->peer = sv[1];
  std::string err;
  check::eq(loop.start_tls(c->slot, server_ctx, "", "", &err), 0, "start_tls " + err);
  c->client = TlsStream::create(context(false), "", &err);
  c->client->handshake();  // the ClientHello
  if (rest == nullptr) {
    client_send(*c);
    return true;
  }
  const uint8_t* hello = nullptr;
  size_t len = c->client->output(&hello);
  check::eq(static_cast<long long>(::send(c->peer, hello, first, 0)), static_cast<long long>(first), "the hello's start");
  rest->assign(reinterpret_cast<const char*>(hello) + first, len - first);
  c->client->consume_output();
  return true;
}

// `budget_ns` is a fixed time budget (negative: the share); `per_wakeup` the
// hellos one wake-up answers (negative: at least one, at most the step cap).
void run_handshake_budget(Backend b, int64_t budget_ns, int per_wakeup) {
  Sink sink;
  int err = 0;
  auto loop = Loop::create(b, &sink, &err);
  loop->set_handshake_time_budget(budget_ns);
  auto server_ctx = context(true);
  const int n = Loop::kHandshakeBudget + 36;
  std::vector<Conn> conns(static_cast<size_t>(n));
  for (Conn& c : conns) open_conn(*loop, server_ctx, &c);
  loop->poll_once(1000);  // every hello is waiting: one wake-up
  int answered = 0;
  for (Conn& c : conns) answered += client_recv(c) > 0 ? 1 : 0;
  if (per_wakeup >= 0) {
    check::eq(answered, per_wakeup, "hellos one wake-up answers");
  } else {
    check::that(answered >= 1 && answered <= Loop::kHandshakeBudget, "one wake-up answers some hellos, not all");
  }
  for (int i = 0; i < n && answered < n; ++i) {
    loop->poll_once(1000);
    for (Conn& c : conns) answered += client_recv(c) > 0 ? 1 : 0;
  }
  check::eq(answered, n, "the rest are answered on the next wake-ups");
  for (Conn& c : conns) {
    c.client->handshake();
    client_send(c);
  }
  for (int i = 0; i < 2 * n && sink.count(kRecHandshake) < n; ++i) loop->poll_once(1000);
  check::eq(sink.count(kRecHandshake), n, "every server handshake completes");
  for (Conn& c : conns) ::close(c.peer);
}

// The step cap: with time to spare, one wake-up stops at kHandshakeBudget.
void test_handshake_budget(Backend b) { run_handshake_budget(b, INT64_MAX, Loop::kHandshakeBudget); }

// The time cap: with none to spare, one wake-up still moves one handshake on.
void test_handshake_time_budget(Backend b) { run_handshake_budget(b, 0, 1); }

// The share (the default), on a loop with nothing else to do: its floors
// keep every wake-up moving handshakes on until all are done.
void test_handshake_share_idle(Backend b) { run_handshake_budget(b, -1, -1); }

// Runs the loop until c's handshake is done on both ends.
void finish_handshake(Loop& loop, Conn& c) {
  auto done = [&] { return c.client->established() && loop.tls(c.slot)->established(); };
  for (int i = 0; i < 10 && !done(); ++i) {
    loop.poll_once(100);
    client_recv(c);
    c.client->handshake();
    client_send(c);
  }
  check::that(done(), "handshake done");
}

// A wake-up with an established connection's data and waiting ClientHellos
// hands the data to JS (whose reply would go out at once) before it runs
// any handshake step, whatever order the poller reported them in.
void test_established_first(Backend b) {
  Sink sink;
  int err = 0;
  auto loop = Loop::create(b, &sink, &err);
  loop->set_handshake_time_budget(INT64_MAX);
  auto server_ctx = context(true);
  Conn busy;
  if (!open_conn(*loop, server_ctx, &busy)) return;
  finish_handshake(*loop, busy);
  std::vector<Conn> hellos(3);
  for (Conn& c : hellos) open_conn(*loop, server_ctx, &c);
  for (Conn& c : hellos) sink.watch.push_back(c.peer);
  struct iovec one = {const_cast<char*>("ping"), 4};
  busy.client->writev(&one, 1);
  busy.client->flush();
  client_send(busy);
  loop->poll_once(1000);  // the hellos and the data are all waiting: one wake-up
  check::that(sink.data == "ping", "the established connection's data arrives: " + sink.data);
  check::that(!sink.answered_before_data, "no hello was answered before the data went to JS");
  int answered = 0;
  for (Conn& c : hellos) answered += client_recv(c) > 0 ? 1 : 0;
  check::eq(answered, 3, "the same wake-up answers the hellos after it");
  for (Conn& c : hellos) ::close(c.peer);
  ::close(busy.peer);
}

// n blocking TCP connections to 127.0.0.1:port; each completes in the
// kernel's listen queue before the loop accepts it.
std::vector<int> tcp_clients(int port, int n) {
  std::vector<int> fds;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    check::eq(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0, "connect");
    fds.push_back(fd);
  }
  return fds;
}

// Five connections wait in a listener's queue. In a loop that speaks TLS
// each accept is a step of the handshake ration, so with no time to spare a
// wake-up accepts one (and runs no step: the hello waiting beside them
// waits); a plaintext loop takes all five in its first batch, as before.
void run_accepts(Backend b, bool tls) {
  Sink sink;
  int err = 0;
  auto loop = Loop::create(b, &sink, &err);
  loop->set_handshake_time_budget(0);
  Conn hello;
  if (tls && !open_conn(*loop, context(true), &hello)) return;
  int32_t listener = -1;
  check::eq(loop->listen(addr(4, "127.0.0.1", 0), 16, false, &listener), 0, "listen");
  SockAddr local;
  loop->local_address(listener, &local);
  std::vector<int> fds = tcp_clients(local.port, 5);
  loop->poll_once(1000);
  check::eq(sink.count(kRecAccepted), tls ? 1 : 5, "accepts in the first wake-up");
  if (tls) check::eq(static_cast<long long>(client_recv(hello)), -1LL, "the hello waits: the accept was the step");
  for (int i = 0; i < 10 && sink.count(kRecAccepted) < 5; ++i) loop->poll_once(1000);
  check::eq(sink.count(kRecAccepted), 5, "every connection is accepted");
  for (int fd : fds) ::close(fd);
  if (tls) ::close(hello.peer);
}

void test_accepts_rationed(Backend b) { run_accepts(b, true); }

void test_accepts_batched_plaintext(Backend b) { run_accepts(b, false); }

// A loop with one TLS stream whose handshake with its client is done.
std::unique_ptr<Loop> loop_with_established(Backend b, Sink* sink, Conn* c) {
  int err = 0;
  auto loop = Loop::create(b, sink, &err);
  if (!open_conn(*loop, context(true), c)) return nullptr;
  finish_handshake(*loop, *c);
  return loop;
}

void test_data_and_close_notify(Backend b) {
  Sink sink;
  Conn c;
  auto loop = loop_with_established(b, &sink, &c);
  if (loop == nullptr) return;
  struct iovec one = {const_cast<char*>("secret"), 6};
  c.client->writev(&one, 1);
  c.client->close_notify();
  client_send(c);
  for (int i = 0; i < 10 && sink.count(kRecEof) == 0; ++i) loop->poll_once(100);
  check::that(sink.data == "secret", "decrypted data arrives as Data records: " + sink.data);
  check::eq(sink.count(kRecEof), 1, "close_notify arrives as Eof");
  check::eq(sink.count(kRecTlsError), 0, "no TLS error");
  ::close(c.peer);
}

// finish() on a TLS stream sends close_notify before it removes the slot:
// the peer reads a clean close, not a truncation.
void test_finish_sends_close_notify(Backend b) {
  Sink sink;
  Conn c;
  auto loop = loop_with_established(b, &sink, &c);
  if (loop == nullptr) return;
  check::eq(static_cast<long long>(loop->finish(c.slot)), 0LL, "nothing buffered: removed");
  check::eq(loop->fd_of(c.slot), -1, "the slot is free");
  check::that(client_recv(c) > 0, "the close_notify record arrived");
  uint8_t out[64];
  check::eq(static_cast<long long>(c.client->read(out, sizeof out)), static_cast<long long>(TlsStream::kClosed),
            "the client reads a clean close");
  ::close(c.peer);
}

// How many of conns' hellos have been answered (each answer read once).
int count_answers(std::vector<Conn>& conns, std::vector<bool>* answered) {
  int n = 0;
  for (size_t i = 0; i < conns.size(); ++i) {
    if (!(*answered)[i] && client_recv(conns[i]) > 0) (*answered)[i] = true;
    n += (*answered)[i] ? 1 : 0;
  }
  return n;
}

// A loop that runs one handshake step per wake-up, with a hello waiting on
// each of conns; with `rest`, the first conn sent only the start of its hello
// (open_conn) and the others are kept there.
std::unique_ptr<Loop> loop_with_hellos(Backend b, Sink* sink, std::vector<Conn>* conns, std::string* rest = nullptr) {
  int err = 0;
  auto loop = Loop::create(b, sink, &err);
  loop->set_handshake_time_budget(0);
  auto server_ctx = context(true);
  for (size_t i = 0; i < conns->size(); ++i) {
    open_conn(*loop, server_ctx, &(*conns)[i], 40, i == 0 ? rest : nullptr);
  }
  return loop;
}

// Hellos waiting for their step are not reported by the poller on every
// wake-up: with one step per wake-up, n hellos used to cost n + (n-1) + ...
// + 1 events (every waiting one polled and dispatched again each time);
// now each is reported once, plus the oldest waiting one per wake-up (it
// stays in the poller so the loop keeps waking while handshakes wait).
void test_waiting_hellos_reported_once(Backend b) {
  Sink sink;
  const int n = 20;
  std::vector<Conn> conns(n);
  auto loop = loop_with_hellos(b, &sink, &conns);
  std::vector<bool> answered(n, false);
  uint64_t before = loop->stats().events;
  for (int i = 0; i < 2 * n && count_answers(conns, &answered) < n; ++i) loop->poll_once(1000);
  check::eq(count_answers(conns, &answered), n, "every hello is answered, one per wake-up");
  uint64_t events = loop->stats().events - before;
  check::that(events <= static_cast<uint64_t>(2 * n), "events: " + std::to_string(events) + ", at most 2n");
  for (Conn& c : conns) ::close(c.peer);
}

// JS closing or pausing the oldest waiting handshake (the one left in the
// poller) does not leave the others waiting for an unrelated event; the
// paused one, resumed, is reported again and answered.
void test_waiting_head_closed_or_paused(Backend b) {
  Sink sink;
  const int n = 6;
  std::vector<Conn> conns(n);
  auto loop = loop_with_hellos(b, &sink, &conns);
  std::vector<bool> answered(n, false);
  loop->poll_once(1000);
  check::eq(count_answers(conns, &answered), 1, "one hello answered in the first wake-up");
  // Close two waiting ones and pause one: whichever of them is the head,
  // the rest must still be answered wake-up after wake-up.
  std::vector<int> closed, paused;
  for (int i = 0; i < n && (closed.size() < 2 || paused.empty()); ++i) {
    if (answered[static_cast<size_t>(i)]) continue;
    if (closed.size() < 2) {
      closed.push_back(i);
      check::eq(loop->remove(conns[static_cast<size_t>(i)].slot), 0, "remove");
    } else {
      paused.push_back(i);
      check::eq(loop->pause_reading(conns[static_cast<size_t>(i)].slot), 0, "pause");
    }
  }
  const int open_unpaused = n - 1 - 2 - 1;
  for (int i = 0; i < 2 * n && count_answers(conns, &answered) < 1 + open_unpaused; ++i) loop->poll_once(200);
  check::eq(count_answers(conns, &answered), 1 + open_unpaused, "the others are answered");
  check::that(!answered[static_cast<size_t>(paused[0])], "the paused one waits");
  check::eq(loop->resume_reading(conns[static_cast<size_t>(paused[0])].slot), 0, "resume");
  for (int i = 0; i < 4 && !answered[static_cast<size_t>(paused[0])]; ++i) {
    loop->poll_once(200);
    count_answers(conns, &answered);
  }
  check::that(answered[static_cast<size_t>(paused[0])], "the resumed one is answered");
  for (Conn& c : conns) ::close(c.peer);
}

// Runs one wake-up (one step: loop_with_hellos), then lets every client
// whose hello has been answered send its next flight (the Finished).
void wakeup_and_answer(Loop& loop, std::vector<Conn>& conns, std::vector<bool>* answered) {
  loop.poll_once(1000);
  for (size_t i = 0; i < conns.size(); ++i) {
    bool was = (*answered)[i];
    if (was || client_recv(conns[i]) <= 0) continue;
    (*answered)[i] = true;
    conns[i].client->handshake();
    client_send(conns[i]);
  }
}

bool handshake_done(const Sink& sink, int32_t slot) {
  return std::any_of(sink.records.begin(), sink.records.end(),
                     [&](const Record& r) { return r.type == kRecHandshake && r.slot == slot; });
}

// A handshake whose hello was answered takes its next step (the client's
// Finished) ahead of hellos that were waiting before it came: finishing is
// cheap, and in a flood it used to wait behind every hello (all 2,000
// handshakes completed within the flood's last ~10%). The heads it steps in
// front of leave the poller again, so waiting hellos are still reported
// about once each.
void test_answered_go_ahead(Backend b) {
  Sink sink;
  const int n = 20;
  std::vector<Conn> conns(n);
  auto loop = loop_with_hellos(b, &sink, &conns);
  std::vector<bool> answered(n, false);
  uint64_t before = loop->stats().events;
  wakeup_and_answer(*loop, conns, &answered);
  check::that(answered[0] && count_answers(conns, &answered) == 1, "the oldest hello answered first");
  wakeup_and_answer(*loop, conns, &answered);
  check::that(handshake_done(sink, conns[0].slot), "its Finished went ahead of the waiting hellos");
  check::eq(count_answers(conns, &answered), 1, "no other hello answered in that wake-up");
  for (int i = 0; i < 3 * n && sink.count(kRecHandshake) < n; ++i) wakeup_and_answer(*loop, conns, &answered);
  check::eq(sink.count(kRecHandshake), n, "every handshake completes");
  uint64_t events = loop->stats().events - before;
  check::that(events <= static_cast<uint64_t>(4 * n), "events: " + std::to_string(events) + ", at most 4n");
  for (Conn& c : conns) ::close(c.peer);
}

// A hello split over two reads: its first step takes half and answers
// nothing, so its second is the costly one and waits at the back like any
// hello (marking "had a step" instead of "was answered" let it jump ahead).
void test_split_hello_waits(Backend b) {
  Sink sink;
  const int n = 4;
  std::vector<Conn> conns(n);
  std::string rest;
  auto loop = loop_with_hellos(b, &sink, &conns, &rest);  // conns[0] sent its hello's first 40 bytes
  Conn& split = conns[0];
  std::vector<bool> answered(n, false);
  loop->poll_once(1000);  // the oldest step: the split hello's first half
  check::eq(count_answers(conns, &answered), 0, "half a hello answers nothing");
  check::eq(static_cast<long long>(::send(split.peer, rest.data(), rest.size(), 0)), static_cast<long long>(rest.size()), "the rest");
  loop->poll_once(1000);
  check::eq(count_answers(conns, &answered), 1, "one hello answered");
  check::that(answered[1] && !answered[0], "the hello that waited longest, not the split one's rest");
  for (int i = 0; i < 4 * n && count_answers(conns, &answered) < n; ++i) loop->poll_once(200);
  check::eq(count_answers(conns, &answered), n, "every hello is answered");
  for (Conn& c : conns) ::close(c.peer);
}

// Each busy connection sends one byte; one wake-up reads them all. Returns
// the deliveries that wake-up made and the most Data records in one.
std::pair<int, int> one_byte_each(Loop& loop, Sink& sink, std::vector<Conn>& busy) {
  sink.deliveries = 0;
  sink.most_data = 0;
  sink.data.clear();
  struct iovec one = {const_cast<char*>("x"), 1};
  for (Conn& c : busy) {
    c.client->writev(&one, 1);
    c.client->flush();
    client_send(c);
  }
  loop.poll_once(1000);
  check::eq(sink.data.size(), busy.size(), "every connection's data arrives in the one wake-up");
  return {sink.deliveries, sink.most_data};
}

// During a flood (a ClientHello waiting for its step since an earlier
// wake-up) a wake-up's records go to JS every kFloodChunk events, so the
// first replies need not wait for the last read; once none waits (that
// wake-up gave the hello its step), a wake-up keeps its one delivery.
// A loop with `busy` established connections and two hellos, one of them
// still waiting for its step after the wake-up made here: a flood.
std::unique_ptr<Loop> flooded(Backend b, Sink* sink, std::vector<Conn>* busy, std::vector<Conn>* hellos) {
  int err = 0;
  auto loop = Loop::create(b, sink, &err);
  loop->set_handshake_time_budget(INT64_MAX);
  auto server_ctx = context(true);
  for (Conn& c : *busy) open_conn(*loop, server_ctx, &c);
  for (Conn& c : *busy) finish_handshake(*loop, c);
  loop->set_handshake_time_budget(0);
  hellos->resize(2);
  for (Conn& c : *hellos) open_conn(*loop, server_ctx, &c);
  loop->poll_once(1000);  // one hello answered, the other waits
  return loop;
}

void test_flood_chunks(Backend b) {
  Sink sink;
  std::vector<Conn> busy(static_cast<size_t>(Loop::kFloodChunk + 8)), hellos;
  auto loop = flooded(b, &sink, &busy, &hellos);
  auto flood = one_byte_each(*loop, sink, busy);
  check::that(flood.first >= 2, "deliveries: " + std::to_string(flood.first) + ", at least two");
  check::that(flood.second <= Loop::kFloodChunk,
              "at most kFloodChunk events' records in one: " + std::to_string(flood.second));
  auto calm = one_byte_each(*loop, sink, busy);
  check::eq(calm.first, 1, "no handshake waiting: one delivery");
  for (Conn& c : busy) ::close(c.peer);
  for (Conn& c : hellos) ::close(c.peer);
}

// A slot JS removes while it handles one chunk may still have events in
// the same wake-up's later chunks: they must be dropped (its token no longer
// matches), not read into a record for a slot that is gone.
void test_removed_between_chunks(Backend b) {
  Sink sink;
  std::vector<Conn> busy(static_cast<size_t>(Loop::kFloodChunk * 2)), hellos;
  auto loop = flooded(b, &sink, &busy, &hellos);
  size_t first_records = 0;
  int32_t removed = -1;
  sink.records.clear();
  sink.data.clear();
  sink.after_first = [&](Sink& s) {
    first_records = s.records.size();
    for (const Conn& c : busy) {
      bool seen = std::any_of(s.records.begin(), s.records.end(), [&](const Record& r) { return r.slot == c.slot; });
      if (!seen && removed < 0) removed = c.slot;
    }
    if (removed >= 0) check::eq(loop->remove(removed), 0, "removed between chunks");
  };
  struct iovec one = {const_cast<char*>("x"), 1};
  for (Conn& c : busy) {
    c.client->writev(&one, 1);
    c.client->flush();
    client_send(c);
  }
  loop->poll_once(1000);
  check::that(removed >= 0, "a slot whose event was still to come in a later chunk");
  bool late = std::any_of(sink.records.begin() + static_cast<std::ptrdiff_t>(first_records), sink.records.end(),
                          [&](const Record& r) { return r.slot == removed; });
  check::that(!late, "no record for the removed slot after its removal");
  check::eq(sink.data.size(), busy.size() - 1, "every other connection's byte arrives");
  for (Conn& c : busy) ::close(c.peer);
  for (Conn& c : hellos) ::close(c.peer);
}

}  // namespace

int main(int argc, char** argv) {
  check::raise_fd_limit();
  std::vector<check::Case> cases;
  check::add_backend_cases(&cases, {{"handshake budget per wake-up", test_handshake_budget},
                                    {"handshake time budget per wake-up", test_handshake_time_budget},
                                    {"handshake share, nothing else busy", test_handshake_share_idle},
                                    {"established connections before handshake steps", test_established_first},
                                    {"accepts are ration steps in a TLS loop", test_accepts_rationed},
                                    {"accepts batched in a plaintext loop", test_accepts_batched_plaintext},
                                    {"data and close_notify", test_data_and_close_notify},
                                    {"finish sends close_notify", test_finish_sends_close_notify},
                                    {"waiting hellos are reported once", test_waiting_hellos_reported_once},
                                    {"closing or pausing the oldest waiting handshake", test_waiting_head_closed_or_paused},
                                    {"an answered handshake's next step goes ahead", test_answered_go_ahead},
                                    {"a split hello's rest waits at the back", test_split_hello_waits},
                                    {"records in chunks while handshakes wait", test_flood_chunks},
                                    {"a slot removed between two chunks", test_removed_between_chunks}});
  return check::run_all(cases, argc, argv);
}
