// TLS streams in the loop: the hooks loop_stream.cc and loop_write.cc call
// when a stream carries a TlsStream (tls_stream.h has the engine's design).
//
// Reading: ciphertext is read into the free tail of the current slab, fed to
// the engine (which copies it), and the same slab room then receives the
// plaintext, so what reaches JS is the usual Data record of a slab view, in
// the same one-call-per-wake-up batch. Everything the engine can decrypt is
// drained at once (a paused stream's JS side holds it), so no plaintext is
// ever stranded inside OpenSSL waiting for a readable event that will not
// come. A peer's close_notify is an Eof record; a TCP close without one is a
// TlsError (truncation is visible).
//
// Writing: a write hands plaintext to the engine, which encrypts whole
// records at once and keeps the rest until flush_tls_all(), which JS calls
// once at the end of each tick in which TLS streams wrote (lib/reactor/core.ts),
// for all of them: the writes of one tick become as few records as their
// size needs, nothing waits past the tick, and a batch of echoes costs one
// crossing into native for all its flushes, not one per stream. Ciphertext
// is sent at once; only what the kernel refuses goes to the WriteBuffer,
// whose flush and writable interest are the plain stream's. Before the
// handshake is done the plaintext is held by the engine and Drained is
// withheld until it is sent. The handshake's last flight waits for the end
// of the step, to leave with what JS writes on it (hold_last_flight).
//
// New connections are rationed (handshake_ration.h): a wake-up's accepts
// and handshake steps may take about half the time recent wake-ups spent on
// established traffic, and at least one step. They wait for the end of the
// wake-up, after the established connections' records have gone to JS (so
// those replies are written first): accepts first, then handshake steps. A
// listener over the ration is simply not served this time; the poller is
// level-triggered, so it is reported again on the next wake-up. A handshake
// over the ration waits in a queue of its own, oldest first (one whose hello
// was answered goes ahead once: read_tls), out of the poller's read interest
// until its turn (a flood's 2,000 waiting hellos reported on every wake-up
// cost the busy connections more than the steps' share: bench/PERFORMANCE.md).
// While handshakes wait, a wake-up's records also go to JS every
// kFloodChunk events instead of once at its end (loop.cc). A flood makes
// wake-ups long (the steps' share on top of ~1,000 busy connections' events
// in one batch), and with one delivery the first connection's reply waited
// for the last one's read, then all went out at once for the peers to
// work through: the busy connections' p99 became about two wake-ups. In
// chunks the replies leave while the rest of the batch is read. Outside a
// flood wake-ups keep their one delivery (one crossing into JS each).
// Wake-ups are timed, and accepts rationed, only once some stream has
// started TLS: a plaintext loop accepts in batches as before.
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "loop_impl.h"
#include "syscalls.h"
#include "tls_stream.h"

namespace ioreactor {

namespace {
// Sealed bytes a held last flight may gather before a write sends them all
// at once (write_tls): an answer of a few records waits, a large write does not.
constexpr size_t kHeldFlightMax = 64 * 1024;
}  // namespace

int Loop::start_tls(int32_t slot, std::shared_ptr<TlsContext> ctx, const std::string& host,
                    const std::string& session_key, std::string* err) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr || ctx == nullptr || err == nullptr) return -EBADF;
  if (s->dead || s->tls || s->shut_pending || s->shut_done || !s->is_socket) return -EINVAL;
  int sent = impl_->uncork(slot);  // plaintext written before STARTTLS goes out as plaintext
  if (sent != 0) return sent;
  s = impl_->stream(slot);
  auto t = TlsStream::create(std::move(ctx), host, err);
  if (!t) return -EPROTO;
  if (t->reuse_sessions(session_key) != 0) {
    *err = t->error_code();
    return -EPROTO;
  }
  t->set_pool(&impl_->tls_buffers);
  s->tls.reset(t.release());
  impl_->tls_seen = true;
  // A client speaks first: its hello is queued (sent at once when connected,
  // else when the connect completes, as any early write).
  if (s->tls->handshake() == TlsStream::Step::kFailed) {
    *err = s->tls->error_code();
    return -EPROTO;
  }
  int e = impl_->send_tls_output(slot);
  if (e == 0 && !s->connecting) e = impl_->update_stream(slot);
  return e;
}

// Ciphertext that reached JS in the clear before TLS started (the bytes
// after a PROXY protocol header): fed to the engine as if just read. Only
// the peer's first flight can be here (a server cannot finish before it has
// spoken), so the handshake steps and answers, and the next read goes on.
int Loop::tls_feed(int32_t slot, const uint8_t* data, size_t len, std::string* err) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr || err == nullptr) return -EBADF;
  if (!s->tls || s->tls->established() || s->dead) return -EINVAL;
  if (len == 0) return 0;
  if (s->tls->feed(data, len) != 0 || s->tls->handshake() == TlsStream::Step::kFailed) {
    *err = s->tls->error_code();
    return -EPROTO;
  }
  return impl_->send_tls_output(slot);
}

const TlsStream* Loop::tls(int32_t slot) const {
  const Slot* s = impl_->slots.find(slot);
  return (s != nullptr && s->kind == Kind::kStream) ? s->tls.get() : nullptr;
}

bool Loop::Impl::tls_holding(const Slot& s) const { return s.tls && s.tls->held() != 0; }

size_t Loop::Impl::tls_held(const Slot& s) const { return s.tls ? s.tls->held() : 0; }

int64_t Loop::Impl::clock_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void Loop::set_handshake_time_budget(int64_t ns) { impl_->ration.set_fixed_budget(ns); }

void Loop::Impl::begin_wakeup() {
  if (tls_seen) ration.begin(clock_ns());
}

// process() has delivered the wake-up's established work to JS (its
// replies are written): now the new connections' turn, within the ration.
void Loop::Impl::end_wakeup() {
  if (!tls_seen) return;
  serve_new_connections();
  ration.end(clock_ns());
}

// Accepts first: they are cheap next to a handshake step, and the kernel's
// listen queue overflows (dropped SYNs, retried a second later) if it is
// left to fill while steps take the ration. A listener left with
// connections is reported again on the next wake-up (level-triggered). Then
// handshake steps, oldest first (a handshake whose hello was answered
// goes ahead: read_tls); those whose turn has not come wait in the queue,
// out of the poller. The list is taken first: a delivery runs JS,
// which may re-enter the loop.
void Loop::Impl::serve_new_connections() {
  std::vector<std::pair<int32_t, uint32_t>> listeners;
  listeners.swap(new_listeners);
  accept_new(&listeners);
  step_handshakes();
  park_handshakes();
  arm_waiting_head();
  // The JS the steps started (handshakeCompleted, held writes) is theirs too,
  // and so are the last flights JS did not send with its writes.
  int64_t t0 = clock_ns();
  flush();
  send_held_flights();
  flush();
  ration.charge(clock_ns() - t0);
  // Its capacity serves the next wake-up (no allocation per wake-up).
  listeners.clear();
  if (new_listeners.empty()) new_listeners.swap(listeners);
}

void Loop::Impl::accept_new(std::vector<std::pair<int32_t, uint32_t>>* listeners) {
  for (const auto& l : *listeners) {
    Slot* s = slots.find(l.first, l.second);
    if (s != nullptr && s->kind == Kind::kListener && !s->accept_paused) accept_batch(l.first, l.second, true);
  }
}

// The queue's front first, each within the ration.
void Loop::Impl::step_handshakes() {
  while (drop_waiting_head()) {
    auto h = waiting_handshakes.front();
    if (!ration.allow(clock_ns())) return;
    waiting_handshakes.pop_front();
    end_wait(h.first, h.second);
    read_tls_now(h.first, h.second);
    ration.step_done(clock_ns());
  }
}

// Drops queue heads that no longer wait: closed since they were queued, or
// failed, or paused by JS (which leave the queue: resuming puts a stream
// back in the poller, which reports it again). Returns whether one waits.
bool Loop::Impl::drop_waiting_head() {
  while (!waiting_handshakes.empty()) {
    auto h = waiting_handshakes.front();
    Slot* s = slots.find(h.first, h.second);
    bool queued = s != nullptr && s->kind == Kind::kStream && s->hs_waiting;
    if (queued && !s->dead && !s->eof && !s->paused && s->tls) return true;
    waiting_handshakes.pop_front();
    if (queued) end_wait(h.first, h.second);
  }
  return false;
}

// The oldest waiting stream stays in the poller: its unread flight keeps
// it ready (level-triggered), so the loop keeps waking while handshakes
// wait, with one event per wake-up instead of one per waiting stream. Run
// after anything that may have removed the head (a step, a close, a pause).
void Loop::Impl::arm_waiting_head() {
  if (!drop_waiting_head()) return;
  auto h = waiting_handshakes.front();
  set_parked(h.first, h.second, false);
}

// A queued stream leaves the queue (its turn, or it no longer waits): back
// in the poller's read interest if it was parked.
void Loop::Impl::end_wait(int32_t index, uint32_t gen) {
  slots.find(index, gen)->hs_waiting = false;
  set_parked(index, gen, false);
}

// Takes a queued stream out of the poller's read interest (parked) or puts
// it back; nothing when it is already so. A failed interest change fails
// the stream.
void Loop::Impl::set_parked(int32_t index, uint32_t gen, bool parked) {
  Slot* s = slots.find(index, gen);
  if (s->hs_parked == parked) return;
  s->hs_parked = parked;
  int err = update_stream(index);
  if (err != 0) stream_failed(index, gen, err);
}

// The streams this wake-up queued whose turn has not come leave the
// poller's read interest: level-triggered, it would otherwise report every
// waiting one on every wake-up (2,000 waiting hellos: thousands of events
// per wake-up, each polled and dispatched again for nothing, ~1-2 µs each,
// counted against the established connections). Only these pay the two
// epoll_ctl calls; a stream stepped in the wake-up that queued it pays none.
// The list is taken first (a failure's record may be delivered, running JS).
void Loop::Impl::park_handshakes() {
  std::vector<std::pair<int32_t, uint32_t>> queued;
  queued.swap(new_handshakes);
  for (const auto& h : queued) {
    Slot* s = slots.find(h.first, h.second);
    if (s != nullptr && s->kind == Kind::kStream && s->hs_waiting) set_parked(h.first, h.second, true);
  }
  // Its capacity serves the next wake-up (no allocation per wake-up).
  queued.clear();
  if (new_handshakes.empty()) new_handshakes.swap(queued);
}

// A stream still handshaking waits for the end of the wake-up, behind those
// queued before it: its step runs after the established connections' work
// has gone to JS. One exception: its second turn (after its hello was
// answered: the client's Finished) goes to the front, once. Finishing is
// cheap (no signature), and at the back it waited for every hello queued
// meanwhile: in a flood of 2,000 almost none completed before all hellos
// were answered. Only once per handshake, so a peer trickling its flight
// byte by byte cannot keep its place ahead of others.
void Loop::Impl::read_tls(int32_t index, uint32_t gen) {
  Slot* s = slots.find(index, gen);
  if (s->tls->established()) return read_tls_now(index, gen);
  if (s->hs_waiting) return;
  s->hs_waiting = true;
  new_handshakes.emplace_back(index, gen);
  if (s->hs_turns != 1) {
    waiting_handshakes.emplace_back(index, gen);
    return;
  }
  s->hs_turns = 2;  // used
  // Its hello was answered: its next flight (the Finished) goes ahead.
  // The head it displaces may be in the poller: park it with the new ones.
  if (!waiting_handshakes.empty()) new_handshakes.push_back(waiting_handshakes.front());
  waiting_handshakes.emplace_front(index, gen);
}

void Loop::Impl::read_tls_now(int32_t index, uint32_t gen) {
  size_t room = 0;
  uint8_t* p = ensure_slab(&room);
  Slot* s = slots.find(index, gen);  // ensure_slab may have delivered
  if (s == nullptr || s->dead || s->eof) return;
  if (p == nullptr) return stream_failed(index, gen, -ENOMEM);
  s->tls->prefetch(true);  // its record layer's state comes in during the read
  ssize_t n;
  do {
    n = sys::recv(s->fd, p, room);  // TLS runs on sockets only (start_tls)
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) stream_failed(index, gen, -errno);
    return;
  }
  if (n == 0) {
    s->tls->fail_with("UNEXPECTED_EOF_WHILE_READING");
    return tls_failed(index, gen);
  }
  if (s->tls->can_open_in_place()) return open_tls_in_place(index, gen, p, static_cast<size_t>(n));
  // The slab room is only borrowed for ciphertext: feed() copies it.
  if (s->tls->feed(p, static_cast<size_t>(n)) != 0) return tls_failed(index, gen);
  pump_tls(index, gen);
}

// An established connection on our record layer with nothing waiting in the
// engine (the usual read): its records are opened where they were read, in
// the slab, and their content handed on from there, with no copy into the
// engine and out again. Only the part of a record not all read yet is fed.
void Loop::Impl::open_tls_in_place(int32_t index, uint32_t gen, uint8_t* p, size_t n) {
  Slot* s = slots.find(index, gen);
  size_t used = 0;
  size_t got = s->tls->open_in_place(p, n, &used);
  if (used < n && s->tls->feed(p + used, n - used) != 0) return tls_failed(index, gen);
  // Opening may have produced output (a TLS 1.3 key update answer, an alert).
  int err = s->tls->has_output() ? send_tls_output(index) : 0;
  if (err != 0) return stream_failed(index, gen, err);
  if (got > 0) {
    auto offset = static_cast<int32_t>(slab_used);
    slab_used += got;
    push(kRecData, index, gen, offset, static_cast<int32_t>(got));
  }
  // A close or a failure after the content is reported next (the engine
  // took everything then; a record fed above has nothing to open yet).
  s = slots.find(index, gen);
  if (used == n && s != nullptr && !s->dead && !s->eof && s->tls->has_input()) decrypt_tls(index, gen);
}

// Moves the handshake on, then decrypts whatever is complete.
void Loop::Impl::pump_tls(int32_t index, uint32_t gen) {
  Slot* s = slots.find(index, gen);
  if (!s->tls->established()) {
    bool held = s->tls->held() != 0;
    TlsStream::Step step = s->tls->handshake();
    if (step == TlsStream::Step::kFailed) return tls_failed(index, gen);
    bool more = false;
    int32_t flags = step == TlsStream::Step::kDone ? s->tls->settled_flags(&more) : 0;
    // A step that made the server's flight answered the hello (read_tls): not
    // one that took half a hello split over reads, the costly half still to come.
    if (step == TlsStream::Step::kAgain && s->hs_turns == 0 && s->tls->has_output()) s->hs_turns = 1;
    // The last flight waits for JS's writes (hold_last_flight), but not when
    // writes were held or the write side is shut: those promised to be sent.
    bool hold = step == TlsStream::Step::kDone && !held && !s->shut_done && !s->shut_pending;
    if (hold) {
      hold_last_flight(index, gen);
    } else if (int err = send_tls_output(index); err != 0) {
      return stream_failed(index, gen, err);
    }
    if (step == TlsStream::Step::kAgain) return;
    push(kRecHandshake, index, gen, flags, more ? 1 : 0);
    s = slots.find(index, gen);
    if (s == nullptr || s->dead) return;
    // Held writes went out with the handshake's last flight.
    if (held && s->pending() == 0) push(kRecDrained, index, gen, 0, 0);
  }
  decrypt_tls(index, gen);
}

void Loop::Impl::decrypt_tls(int32_t index, uint32_t gen) {
  for (;;) {
    size_t room = 0;
    uint8_t* p = ensure_slab(&room);
    Slot* s = slots.find(index, gen);
    if (s == nullptr || s->dead || s->eof) return;
    if (p == nullptr) return stream_failed(index, gen, -ENOMEM);
    int64_t n = s->tls->read(p, room);
    // Reading may have produced output (a TLS 1.3 key update answer, an
    // alert); behind a held last flight it waits with it.
    int err = s->tls->has_output() && !s->flight_held ? send_tls_output(index) : 0;
    if (n == TlsStream::kFailed) return tls_failed(index, gen);
    if (err != 0) return stream_failed(index, gen, err);
    if (n == TlsStream::kNoData) return;
    if (n == TlsStream::kClosed) {
      s->eof = true;
      update_stream(index);
      return push(kRecEof, index, gen, 0, 0);
    }
    // The usual case, all fed ciphertext decrypted, ends here without
    // another turn to find that out.
    bool more = s->tls->has_input();
    auto offset = static_cast<int32_t>(slab_used);
    slab_used += static_cast<size_t>(n);
    push(kRecData, index, gen, offset, static_cast<int32_t>(n));
    if (!more) return;
  }
}

// The handshake's last flight (a TLS 1.3 server's NewSessionTickets, a
// client's Finished) is not sent at once: the Handshake record and the data
// that came with the peer's flight go to JS first, and what JS writes on
// them (an echo, an HTTP answer, a client's first request) is sealed behind
// it, so both leave in one send at the end of the step (flush_tls_all),
// as Node's TLS does; before, they were two sends (sendto is a fifth of a
// full handshake's kernel time: bench/PERFORMANCE.md). Whatever JS did not
// send is sent once the wake-up's deliveries are over (send_held_flights).
// Holding only delays a send, so nothing here can fail. The flight is sent
// at once instead (pump_tls does not hold it) when writes were held before
// the handshake completed (its Drained record promises they left) or the
// write side was shut before it ended (loseWriteConnection, loseConnection:
// the Finished and close_notify were promised to leave); and a held flight
// goes as soon as the held output (it and what is sealed behind it) reaches
// kHeldFlightMax, 64 KiB (write_tls): a large write's remainder is then
// counted as buffered, so its writer stops.
void Loop::Impl::hold_last_flight(int32_t index, uint32_t gen) {
  Slot* s = slots.find(index, gen);
  if (!s->tls->has_output() || s->flight_held) return;
  s->flight_held = true;
  held_flights.emplace_back(index, gen);
}

// The held flights JS did not send with its own writes. The list is taken
// first: a failure's delivery runs JS, which may hold no flight (only a
// handshake step does) but may close streams.
void Loop::Impl::send_held_flights() {
  std::vector<std::pair<int32_t, uint32_t>> held;
  held.swap(held_flights);
  for (const auto& h : held) {
    Slot* s = slots.find(h.first, h.second);
    if (s == nullptr || s->kind != Kind::kStream || !s->flight_held) continue;
    s->flight_held = false;
    if (s->dead || !s->tls) continue;
    int err = send_tls_output(h.first);
    if (err != 0) stream_failed(h.first, h.second, err);
  }
  held.clear();
  if (held_flights.empty()) held_flights.swap(held);
}

// Sends the engine's ciphertext at once; the kernel's refusal is queued.
// Returns 0 or -errno.
int Loop::Impl::send_tls_output(int32_t index) {
  Slot* s = slots.find(index);
  s->flight_held = false;  // it goes now, with this
  const uint8_t* data = nullptr;
  size_t len = s->tls->output(&data);
  if (len == 0) return 0;
  size_t sent = 0;
  if (!s->connecting && s->pending() == 0) {
    ssize_t n = send_bytes(s->fd, s->is_socket, data, len);
    if (n < 0) return static_cast<int>(n);
    sent = static_cast<size_t>(n);
  }
  if (sent < len) {
    if (!s->wbuf) s->wbuf.reset(new WriteBuffer());
    int err = s->wbuf->append(data + sent, len - sent);
    if (err != 0) return err;
  }
  s->tls->consume_output();
  return sent < len ? update_stream(index) : 0;
}

// A TLS failure: the alert OpenSSL made is sent if the kernel takes it at
// once, then the stream is dead and JS reads the reason from Loop::tls().
void Loop::Impl::tls_failed(int32_t index, uint32_t gen) {
  Slot* s = slots.find(index, gen);
  const uint8_t* data = nullptr;
  size_t len = s->tls->output(&data);
  if (len != 0 && !s->connecting && s->pending() == 0) (void)send_bytes(s->fd, s->is_socket, data, len);
  s->tls->consume_output();
  s->dead = true;
  set_interest(index, 0);
  push(kRecTlsError, index, gen, 0, 0);
}

int64_t Loop::Impl::write_tls(int32_t index, const struct iovec* iov, int count) {
  Slot* s = slots.find(index);
  if (!s->tls_unflushed) {  // flush_tls_all() will see to it
    tls_unflushed.emplace_back(index, s->gen);
    s->tls_unflushed = true;
  }
  if (s->tls->writev(iov, count) != 0) {
    // The byte stream is broken: the stream is dead, the caller learns it now.
    s->dead = true;
    set_interest(index, 0);
    return -EPROTO;
  }
  // A small write waits in the engine for the flush: nothing to send yet.
  // Nor behind a held last flight while what waits is small: the flush at
  // the end of the step sends both (hold_last_flight). A large write goes
  // now, so that what the kernel refuses is counted in the return value
  // and the caller stops feeding (its chunks are 1 MiB: write-backlog.ts).
  bool wait = s->flight_held && s->tls->output_size() < kHeldFlightMax;
  if (!s->tls->has_output() || wait) return static_cast<int64_t>(s->pending() + s->tls->held());
  int err = send_tls_output(index);
  if (err != 0) return err;
  s = slots.find(index);
  return static_cast<int64_t>(s->pending() + s->tls->held());
}

int64_t Loop::flush_tls(int32_t slot) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr || !s->tls) return -EBADF;
  if (s->dead) return -EPIPE;
  if (s->tls->flush() != 0) {
    s->dead = true;
    impl_->set_interest(slot, 0);
    return -EPROTO;
  }
  int err = impl_->send_tls_output(slot);
  if (err != 0) return err;
  s = impl_->stream(slot);
  return static_cast<int64_t>(s->pending() + s->tls->held());
}

// One call from JS per tick for every stream written in it, instead of one
// per stream: the list is taken first, so nothing flushing does can change
// it under the loop; streams removed since (a stale gen) are skipped.
void Loop::flush_tls_all(std::vector<TlsFlushed>* attention) {
  std::vector<std::pair<int32_t, uint32_t>> written;
  written.swap(impl_->tls_unflushed);
  for (size_t i = 0; i < written.size(); ++i) {
    const auto& w = written[i];
    if (i + 1 < written.size()) impl_->prefetch_seal(written[i + 1]);  // comes in during this one's send
    Slot* s = impl_->slots.find(w.first, w.second);
    if (s == nullptr || s->kind != Kind::kStream || !s->tls_unflushed) continue;
    s->tls_unflushed = false;
    int64_t r = flush_tls(w.first);
    if (r != 0) attention->push_back({w.first, w.second, r});
  }
  // The list's capacity serves the next tick (no allocation per tick).
  written.clear();
  if (impl_->tls_unflushed.empty()) impl_->tls_unflushed.swap(written);
}

void Loop::Impl::prefetch_seal(const std::pair<int32_t, uint32_t>& next) {
  Slot* s = slots.find(next.first, next.second);
  if (s != nullptr && s->kind == Kind::kStream && s->tls) s->tls->prefetch(false);
}

// TLS half-close: close_notify (after anything held) and no further writes.
// The TCP write side stays open: close_notify is TLS's end of stream, and a
// FIN before the peer's own close_notify would read as truncation to some.
int Loop::Impl::shutdown_tls(int32_t index) {
  Slot* s = slots.find(index);
  s->shut_done = true;
  if (s->tls->close_notify() != 0) return -EPROTO;
  return send_tls_output(index);
}

}  // namespace ioreactor
