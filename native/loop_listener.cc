// Listening sockets: batched accept with an adaptive batch size, in the
// spirit of Twisted's numberAccepts. A wake-up that used its whole batch
// doubles the next one (up to the slot's max); one that used less than half
// halves it (down to the floor). max 1 pins it to one accept per wake-up.
// In a loop that speaks TLS, accepting waits for the end of the wake-up and
// each accept is a step of the handshake ration (loop_tls.cc), within the
// same batch limit.
//
// Running out of fds (EMFILE/ENFILE) or kernel memory must not spin: the
// listener leaves the poller (level-triggered readiness would otherwise come
// straight back) and reports kRecAcceptError; JS decides when to
// resume_accepting(), typically from a timer.
#include <errno.h>

#include <algorithm>

#include "loop_impl.h"
#include "sockets.h"

namespace ioreactor {

namespace {

// Errors that belong to one pending connection (Linux passes the peer's
// network errors through accept): skip it and take the next.
bool skip_connection(int err) {
  switch (err) {
    case -EINTR:
    case -ECONNABORTED:
    case -EPROTO:
    case -ENOPROTOOPT:
    case -ENETDOWN:
    case -ENETUNREACH:
    case -EHOSTDOWN:
    case -EHOSTUNREACH:
    case -EOPNOTSUPP:
#ifdef ENONET
    case -ENONET:
#endif
      return true;
    default:
      return false;
  }
}

// Errors that consumed a connection but are worth telling JS about (a
// firewall rule refusing it); the listener stays armed, since the next
// readiness is a different connection.
bool report_and_continue(int err) { return err == -EPERM; }

}  // namespace

void Loop::Impl::on_listener(int32_t index, uint32_t gen) {
  if (slots.find(index, gen)->accept_paused) return;
  // A TLS loop accepts at the end of the wake-up, within the handshake
  // ration (loop_tls.cc).
  if (tls_seen) {
    new_listeners.emplace_back(index, gen);
    return;
  }
  accept_batch(index, gen, false);
}

// Accepts up to the listener's batch. `rationed`: each accept is a step of
// the handshake ration, and its record goes to JS at once, so that the
// step's time includes the connection's setup there.
void Loop::Impl::accept_batch(int32_t index, uint32_t gen, bool rationed) {
  const int batch = slots.find(index, gen)->accept_batch;
  int accepted = 0;
  for (int i = 0; i < batch; ++i) {
    // A delivery may have run JS, which may have closed or paused the listener.
    Slot* s = slots.find(index, gen);
    if (s == nullptr || s->accept_paused) break;
    if (rationed && !ration.allow(clock_ns())) break;
    Took took = take_connection(index, gen);
    if (rationed) {
      flush();
      ration.step_done(clock_ns());
    }
    if (took == Took::kStop) break;
    if (took == Took::kTaken) ++accepted;
  }
  if (accepted > 0) ++stats.accept_batches;
  Slot* s = slots.find(index, gen);
  if (s != nullptr) adapt_batch(*s, accepted);
}

// One connection from the listen queue into a stream slot, reported to JS.
Loop::Impl::Took Loop::Impl::take_connection(int32_t index, uint32_t gen) {
  int fd = sockets::accept_one(slots.find(index, gen)->fd);
  if (fd < 0) {
    if (skip_connection(fd)) return Took::kSkipped;
    if (fd != -EAGAIN && fd != -EWOULDBLOCK) accept_error(index, gen, fd);
    return Took::kStop;
  }
  int32_t child = add_slot(Kind::kStream, fd);
  slots.find(child)->is_socket = true;
  int err = set_interest(child, kReadable);
  if (err != 0) {
    free_slot(child);
    accept_error(index, gen, err);
    return Took::kStop;
  }
  ++stats.accepts;
  push(kRecAccepted, index, gen, child, static_cast<int32_t>(slots.generation(child)));
  return Took::kTaken;
}

void Loop::Impl::adapt_batch(Slot& s, int accepted) {
  if (accepted >= s.accept_batch) {
    s.accept_batch = std::min(s.accept_batch * 2, s.accept_max);
  } else if (accepted < s.accept_batch / 2) {
    s.accept_batch = std::max(s.accept_batch / 2, s.accept_floor);
  }
}

// Reports an accept failure; pauses accepting unless the error belonged to
// a single connection. Returns true when paused.
bool Loop::Impl::accept_error(int32_t index, uint32_t gen, int err) {
  bool pause = !report_and_continue(err);
  Slot* s = slots.find(index, gen);
  if (pause) {
    s->accept_paused = true;
    s->accept_batch = s->accept_floor;
    set_interest(index, 0);
  }
  push(kRecAcceptError, index, gen, -err, 0);  // records carry errno positive
  return pause;
}

int Loop::listen(const SockAddr& addr, int backlog, bool reuse_port, int32_t* slot) {
  if (slot == nullptr || backlog < 0) return -EINVAL;
  int fd = -1;
  int err = sockets::open_listener(addr, backlog, reuse_port, &fd);
  if (err != 0) return err;
  return impl_->register_listener(fd, true, slot);
}

int Loop::adopt_listener(int fd, int32_t* slot) {
  if (slot == nullptr) return -EINVAL;
  if (fd < 0) return -EBADF;
  int err = sockets::prepare_adopted(fd);
  if (err != 0) return err;
  return impl_->register_listener(fd, false, slot);
}

// A listening socket into a kListener slot armed for readable. On failure
// the fd is closed when `owned`, else left to the caller (adopt_listener).
int Loop::Impl::register_listener(int fd, bool owned, int32_t* slot) {
  int32_t index = add_slot(Kind::kListener, fd);
  Slot* s = slots.find(index);
  s->is_socket = true;
  s->accept_batch = kAcceptStart;
  s->accept_floor = kAcceptStart;
  s->accept_max = kAcceptMax;
  int err = set_interest(index, kReadable);
  if (err != 0) {
    if (!owned) slots.find(index)->kind = Kind::kRaw;  // free_slot leaves a kRaw fd open
    free_slot(index);
    return err;
  }
  *slot = index;
  return 0;
}

int Loop::set_accept_batch(int32_t slot, int max_batch) {
  Slot* s = impl_->slots.find(slot);
  if (s == nullptr) return -EBADF;
  if (s->kind != Kind::kListener || max_batch < 1 || max_batch > 65536) return -EINVAL;
  s->accept_max = max_batch;
  s->accept_floor = std::min(Impl::kAcceptStart, max_batch);
  s->accept_batch = std::clamp(s->accept_batch, s->accept_floor, max_batch);
  return 0;
}

int Loop::resume_accepting(int32_t slot) {
  Slot* s = impl_->slots.find(slot);
  if (s == nullptr) return -EBADF;
  if (s->kind != Kind::kListener) return -EINVAL;
  if (!s->accept_paused) return 0;
  s->accept_paused = false;
  return impl_->set_interest(slot, kReadable);
}

}  // namespace ioreactor
