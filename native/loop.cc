// The loop core: creation and teardown, the wait/process cycle, record and
// slab bookkeeping, the slot lifecycle and raw fds. Streams live in
// loop_stream.cc, listeners in loop_listener.cc (see loop_impl.h for the
// re-entrancy rule every handler follows).
//
// A batch: wait into a fixed event array, dispatch each event whose token's
// generation still matches its slot, deliver what was gathered once at the
// end (in chunks while TLS handshakes wait: loop_tls.cc). A full wait means
// more may be ready, so poll_once waits again with timeout 0 rather than
// leaving events for the next turn of Node's loop.
#include <errno.h>
#include <unistd.h>

#include <algorithm>

#include "loop_impl.h"
#include "reaper.h"
#include "syscalls.h"

namespace ioreactor {

Loop::Loop() : impl_(new Impl) {}

Loop::~Loop() {
  for (size_t i = 0; i < impl_->slots.size(); ++i) {
    Slot* s = impl_->slots.find(static_cast<int32_t>(i));
    if (s != nullptr && s->kind == Kind::kChild) Impl::release_child(*s);
    if (s != nullptr && s->kind != Kind::kRaw && s->fd >= 0) sys::close(s->fd);
  }
}

std::unique_ptr<Loop> Loop::create(Backend backend, LoopSink* sink, int* err) {
  if (sink == nullptr) {
    if (err != nullptr) *err = -EINVAL;
    return nullptr;
  }
  int e = 0;
  std::unique_ptr<Poller> poller = make_poller(backend, &e);
  if (!poller) {
    if (err != nullptr) *err = e != 0 ? e : -ENOTSUP;
    return nullptr;
  }
  reaper::kick();  // orphans left waiting by a failed reaper start: try again
  std::unique_ptr<Loop> loop(new Loop());
  loop->impl_->poller = std::move(poller);
  loop->impl_->sink = sink;
  return loop;
}

Poller& Loop::poller() { return *impl_->poller; }
const LoopStats& Loop::stats() const { return impl_->stats; }
size_t Loop::refcount() const { return impl_->refs; }

int Loop::poll_once(int timeout_ms) {
  if (timeout_ms < -1) return -EINVAL;
  Impl& m = *impl_;
  int total = 0;
  // Bounded: level-triggered fds that stay ready (a writable socket, unread
  // data while paused elsewhere) keep every wait full, and an unbounded drain
  // would never hand control back to Node's loop.
  for (int round = 0; round < kMaxDrainRounds; ++round) {
    int n = m.poller->wait(timeout_ms, m.events, Impl::kMaxEvents);
    if (n < 0) return n;
    // Copy out: a sink callback may re-enter poll_once and reuse m.events.
    PollEvent batch[Impl::kMaxEvents];
    std::copy(m.events, m.events + n, batch);
    process(batch, n);
    total += n;
    if (n < Impl::kMaxEvents) return total;
    timeout_ms = 0;
  }
  return total;
}

void Loop::process(const PollEvent* events, int count) {
  if (events == nullptr || count <= 0) return;
  Impl& m = *impl_;
  ++m.stats.wakeups;
  m.stats.events += static_cast<uint64_t>(count);
  m.begin_wakeup();
  for (int i = 0; i < count; ++i) {
    m.dispatch(events[i]);
    // During a handshake flood, records go to JS in chunks (loop_tls.cc).
    if ((i + 1) % kFloodChunk == 0 && !m.waiting_handshakes.empty()) m.flush();
  }
  m.flush();
  m.end_wakeup();
}

void Loop::Impl::dispatch(const PollEvent& ev) {
  auto index = static_cast<int32_t>(ev.token & 0xffffffffu);
  auto gen = static_cast<uint32_t>(ev.token >> 32);
  Slot* s = slots.find(index, gen);
  if (s == nullptr) return;  // removed, or its fd reused, earlier in the batch
  switch (s->kind) {
    case Kind::kRaw:
      push(kRecRaw, index, gen, static_cast<int32_t>(ev.events), 0);
      break;
    case Kind::kListener:
      on_listener(index, gen);
      break;
    case Kind::kStream:
      on_stream(index, gen, ev.events);
      break;
    case Kind::kChild:
      on_child(index, gen);
      break;
    case Kind::kDgram:
      on_dgram(index, gen);
      break;
    default:
      break;
  }
}

// ---- records and slab ----

void Loop::Impl::push(int32_t type, int32_t index, uint32_t gen, int32_t a, int32_t b) {
  records[nrec++] = Record{type, index, static_cast<int32_t>(gen), a, b};
  if (nrec == kMaxRecords) flush();
}

// Writes JS makes while a delivery runs are gathered and sent as the
// outermost one ends (loop_cork.cc); a stream failing there is a record,
// delivered by the next round.
void Loop::Impl::flush() {
  while (nrec != 0) {
    int n = nrec;
    nrec = 0;
    ++stats.deliveries;
    {
      // Counted down however deliver() ends (it may throw): writes after a
      // delivery that never ended must not wait for one.
      struct Delivering {
        int& depth;
        explicit Delivering(int& d) : depth(d) { ++depth; }
        ~Delivering() { --depth; }
      } in(delivering);
      sink->deliver(records, n);
    }
    if (delivering == 0) uncork_all();
  }
}

uint8_t* Loop::Impl::slab_room(size_t need, size_t* room) {
  size_t left = slab != nullptr ? kSlabSize - slab_used : 0;
  if (left < need) {
    // Pending records point into the old slab: they go out before it changes.
    flush();
    slab = sys::injected(fault::Call::kSlab) ? nullptr : sink->new_slab(kSlabSize);
    slab_used = 0;
    if (slab == nullptr) return nullptr;
    left = kSlabSize;
  }
  *room = left;
  return slab + slab_used;
}

uint8_t* Loop::Impl::ensure_slab(size_t* room) {
  uint8_t* p = slab_room(kMinRead, room);
  if (p != nullptr) *room = std::min(*room, kReadSize);
  return p;
}

// ---- slots ----

int32_t Loop::Impl::add_slot(Kind kind, int fd) {
  ++refs;
  return slots.alloc(kind, fd);
}

void Loop::Impl::free_slot(int32_t index) {
  Slot* s = slots.find(index);
  if (s->registered) poller->remove(s->fd);
  if (s->kind == Kind::kChild) release_child(*s);
  if (s->kind != Kind::kRaw && s->fd >= 0) sys::close(s->fd);
  if (s->ref) --refs;
  slots.release(index);
}

// Brings the poller in line with `want` for an owned slot. Zero interest
// means out of the poller entirely: epoll and poll report HUP/ERR even with no
// interest, and a level-triggered report nobody reads would spin.
int Loop::Impl::set_interest(int32_t index, uint32_t want) {
  Slot* s = slots.find(index);
  if (s == nullptr) return -EBADF;
  int err = 0;
  if (want == 0) {
    if (s->registered) err = poller->remove(s->fd);
    s->registered = false;
  } else if (!s->registered) {
    err = poller->add(s->fd, want, s->mode, s->token(index));
    s->registered = err == 0;
  } else if (want != s->interest) {
    err = poller->modify(s->fd, want, s->mode, s->token(index));
  }
  s->interest = s->registered ? want : 0;
  return err;
}

int Loop::remove(int32_t slot) {
  Slot* s = impl_->slots.find(slot);
  if (s == nullptr) return -EBADF;
  // What this delivery wrote goes to the kernel as it would have at once
  // without corking (one try; what it refuses goes with the slot).
  if (s->kind == Kind::kStream && s->corked >= 0) (void)impl_->uncork(slot);
  impl_->free_slot(slot);
  impl_->arm_waiting_head();  // it may have been the oldest waiting handshake
  return 0;
}

uint32_t Loop::generation(int32_t slot) const { return impl_->slots.generation(slot); }

bool Loop::live(int32_t slot, uint32_t gen) const { return impl_->slots.find(slot, gen) != nullptr; }

int Loop::fd_of(int32_t slot) const {
  const Slot* s = impl_->slots.find(slot);
  return s != nullptr ? s->fd : -1;
}

int Loop::set_ref(int32_t slot, bool ref) {
  Slot* s = impl_->slots.find(slot);
  if (s == nullptr) return -EBADF;
  if (s->ref != ref) {
    s->ref = ref;
    if (ref) {
      ++impl_->refs;
    } else {
      --impl_->refs;
    }
  }
  return 0;
}

// ---- raw fds ----

int Loop::add_raw(int fd, uint32_t interest, Mode mode, int32_t* slot) {
  if (fd < 0) return -EBADF;
  if (slot == nullptr || (interest & ~kAllEvents) != 0) return -EINVAL;
  if (!impl_->poller->supports(mode)) return -ENOTSUP;
  int32_t index = impl_->add_slot(Kind::kRaw, fd);
  Slot* s = impl_->slots.find(index);
  s->mode = mode;
  int err = impl_->poller->add(fd, interest, mode, s->token(index));
  if (err != 0) {
    impl_->free_slot(index);
    return err;
  }
  s->registered = true;
  s->interest = interest;
  *slot = index;
  return 0;
}

int Loop::modify_raw(int32_t slot, uint32_t interest, Mode mode) {
  Slot* s = impl_->slots.find(slot);
  if (s == nullptr || s->kind != Kind::kRaw) return -EBADF;
  if ((interest & ~kAllEvents) != 0) return -EINVAL;
  if (!impl_->poller->supports(mode)) return -ENOTSUP;
  int err = impl_->poller->modify(s->fd, interest, mode, s->token(slot));
  if (err != 0) return err;
  s->mode = mode;
  s->interest = interest;
  return 0;
}

}  // namespace ioreactor
