// Streams (TCP/UNIX sockets and pipes): connect completion, one read per
// readable event into the shared slab, writes tried at once with only the
// remainder buffered, and the interest bookkeeping that keeps a
// level-triggered poller from spinning (no readable interest after EOF or
// while paused, writable only while a buffer is non-empty, nothing at all
// once the stream is dead).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "loop_impl.h"
#include "sockets.h"
#include "syscalls.h"

namespace ioreactor {

namespace {
constexpr uint32_t kTrouble = kError | kHangup;

// Where the write end of a pipe is known to report an error, and nothing else,
// under readable interest once its last reader has closed: Linux (POLLERR from
// pipe_poll). Elsewhere a closed reader is noticed at the next write, or when
// the child exits.
#if defined(__linux__)
constexpr bool kWatchPipeClose = true;
#else
constexpr bool kWatchPipeClose = false;
#endif
}  // namespace

Slot* Loop::Impl::stream(int32_t index) {
  Slot* s = slots.find(index);
  return (s != nullptr && s->kind == Kind::kStream) ? s : nullptr;
}

uint32_t Loop::Impl::stream_interest(const Slot& s) const {
  if (s.dead) return 0;
  if (s.connecting) return kWritable;
  uint32_t want = (s.can_read && !s.paused && !s.eof && !s.hs_parked) ? static_cast<uint32_t>(kReadable) : 0u;
  // Readable interest on the write end of a pipe never reports readable: it
  // keeps the fd registered so the error the kernel raises once no reader is
  // left comes to us while the pipe is idle (Twisted's "read hack").
  if (s.watch_close) want = kReadable;
  return s.pending() != 0 ? want | kWritable : want;
}

int Loop::Impl::update_stream(int32_t index) {
  return set_interest(index, stream_interest(*slots.find(index)));
}

void Loop::Impl::on_stream(int32_t index, uint32_t gen, uint32_t events) {
  Slot* s = slots.find(index, gen);
  if (s->dead) return;
  if (s->connecting) {
    if ((events & (kWritable | kTrouble)) != 0) finish_connect(index, gen);
    return;
  }
  bool reading = s->can_read && !s->paused && !s->eof;
  if (reading && (events & (kReadable | kTrouble)) != 0) {
    read_stream(index, gen);
    s = slots.find(index, gen);
    if (s == nullptr || s->dead) return;
  }
  if ((events & (kWritable | kTrouble)) != 0 && s->pending() != 0) {
    flush_stream(index, gen);
    s = slots.find(index, gen);
    if (s == nullptr || s->dead) return;
  }
  if (!reading && (events & kTrouble) != 0) idle_hangup(index, gen, events);
}

// Hang-up or error on a stream we are not reading. A paused stream with
// nothing queued is out of the poller, and one with writes queued learns of a
// real hang-up from the flush (send fails on it), so nothing here can spin.
// What is left is an event gathered before a pause earlier in this batch
// (a half-close hint, not a failure) or a pending socket error: only the
// latter is reported.
void Loop::Impl::idle_hangup(int32_t index, uint32_t gen, uint32_t events) {
  Slot* s = slots.find(index, gen);
  if (s->watch_close) {
    if ((events & kError) != 0) stream_failed(index, gen, -EPIPE);  // the reader closed
    return;
  }
  if ((events & kError) == 0 || !s->registered || !s->is_socket) return;
  int err = sockets::pending_error(s->fd);
  if (err != 0) stream_failed(index, gen, err);
}

void Loop::Impl::finish_connect(int32_t index, uint32_t gen) {
  Slot* s = slots.find(index, gen);
  int err = sockets::pending_error(s->fd);
  s->connecting = false;
  if (err != 0) s->dead = true;
  int perr = update_stream(index);
  if (err == 0) err = perr;
  push(kRecConnected, index, gen, -err, 0);  // records carry errno positive
  // Data written while connecting goes out now rather than a wake-up later.
  s = slots.find(index, gen);
  if (s == nullptr || s->dead) return;
  if (s->pending() != 0) {
    flush_stream(index, gen);
  } else {
    shutdown_if_drained(*s);
  }
}

void Loop::Impl::read_stream(int32_t index, uint32_t gen) {
  if (slots.find(index, gen)->tls) return read_tls(index, gen);
  size_t room = 0;
  uint8_t* p = ensure_slab(&room);
  Slot* s = slots.find(index, gen);  // ensure_slab may have delivered
  if (s == nullptr || s->dead || s->paused || s->eof) return;
  if (p == nullptr) return stream_failed(index, gen, -ENOMEM);
  ssize_t n;
  do {
    n = s->is_socket ? sys::recv(s->fd, p, room) : sys::read(s->fd, p, room);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    auto offset = static_cast<int32_t>(slab_used);
    slab_used += static_cast<size_t>(n);
    push(kRecData, index, gen, offset, static_cast<int32_t>(n));
  } else if (n == 0) {
    s->eof = true;
    update_stream(index);
    push(kRecEof, index, gen, 0, 0);
  } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
    stream_failed(index, gen, -errno);
  }
}

void Loop::Impl::flush_stream(int32_t index, uint32_t gen) {
  Slot* s = slots.find(index, gen);
  int err = s->wbuf->flush(s->fd, s->is_socket);
  if (err != 0) return stream_failed(index, gen, err);
  if (!s->wbuf->empty()) return;  // writable interest is still armed
  update_stream(index);
  if (tls_holding(*s)) return;  // not drained: plaintext waits for the handshake
  shutdown_if_drained(*s);
  push(kRecDrained, index, gen, 0, 0);
}

// A shutdown_write() asked for while data was queued (or still connecting).
void Loop::Impl::shutdown_if_drained(Slot& s) {
  if (!s.shut_pending || s.connecting || s.pending() != 0) return;
  s.shut_pending = false;
  s.shut_done = true;
  ::shutdown(s.fd, SHUT_WR);
}

void Loop::Impl::stream_failed(int32_t index, uint32_t gen, int err) {
  slots.find(index, gen)->dead = true;
  set_interest(index, 0);
  push(kRecError, index, gen, -err, 0);  // records carry errno positive
}

// ---- creating streams ----

int Loop::connect(const SockAddr& addr, const SockAddr* bind, int32_t* slot) {
  if (slot == nullptr) return -EINVAL;
  int fd = -1;
  int err = sockets::open_connection(addr, bind, &fd);
  if (err != 0) return err;
  int32_t index = impl_->add_slot(Kind::kStream, fd);
  Slot* s = impl_->slots.find(index);
  s->is_socket = true;
  s->connecting = true;  // even an immediate success reports via writable
  err = impl_->update_stream(index);
  if (err != 0) {
    impl_->free_slot(index);
    return err;
  }
  *slot = index;
  return 0;
}

int Loop::adopt_stream(int fd, int32_t* slot) {
  if (slot == nullptr) return -EINVAL;
  if (fd < 0) return -EBADF;
  int fl = ::fcntl(fd, F_GETFL);
  struct stat st;
  if (fl < 0 || ::fstat(fd, &st) < 0) return -errno;
  int err = sockets::prepare_adopted(fd);
  if (err != 0) return err;
  int32_t index = impl_->add_slot(Kind::kStream, fd);
  Slot* s = impl_->slots.find(index);
  s->is_socket = S_ISSOCK(st.st_mode);
  s->can_read = (fl & O_ACCMODE) != O_WRONLY;
  s->watch_close = !s->can_read && S_ISFIFO(st.st_mode) && kWatchPipeClose;
  err = impl_->update_stream(index);
  if (err != 0) {
    // Not ours after all: the caller keeps the fd on failure.
    impl_->slots.find(index)->kind = Kind::kRaw;
    impl_->free_slot(index);
    return err;
  }
  *slot = index;
  return 0;
}

// ---- reading control, options, addresses ----

int Loop::pause_reading(int32_t slot) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr) return -EBADF;
  s->paused = true;
  int err = impl_->update_stream(slot);
  impl_->arm_waiting_head();  // it may have been the oldest waiting handshake
  return err;
}

int Loop::resume_reading(int32_t slot) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr) return -EBADF;
  s->paused = false;
  return impl_->update_stream(slot);
}

int Loop::set_nodelay(int32_t slot, bool on) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr) return -EBADF;
  if (!s->is_socket) return -ENOTSOCK;
  return sockets::set_flag(s->fd, IPPROTO_TCP, TCP_NODELAY, on);
}

int Loop::set_keepalive(int32_t slot, bool on) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr) return -EBADF;
  if (!s->is_socket) return -ENOTSOCK;
  return sockets::set_flag(s->fd, SOL_SOCKET, SO_KEEPALIVE, on);
}

// A protocol that knows no reply can come of fewer than `bytes` more (an
// HTTP head not yet complete: lib/web/channel.ts) is then woken once per that
// many bytes, not once per byte a client trickles. The kernel wakes the
// poller at once if what is queued already reaches a lowered mark.
int Loop::set_read_low_water(int32_t slot, int bytes) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr) return -EBADF;
  if (!s->is_socket) return -ENOTSOCK;
  if (s->tls) return -ENOTSUP;  // the mark would count ciphertext: a record split short of it would stall
  if (bytes < 1) return -EINVAL;
  return ::setsockopt(s->fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes) < 0 ? -errno : 0;
}

namespace {
using NameFn = int (*)(int, struct sockaddr*, socklen_t*);

// The slot's own name or its peer's (fn) into *ss; 0 or -errno.
int name_of(const Slot* s, NameFn fn, struct sockaddr_storage* ss, socklen_t* len) {
  if (s == nullptr) return -EBADF;
  *len = sizeof *ss;
  return fn(s->fd, reinterpret_cast<struct sockaddr*>(ss), len) < 0 ? -errno : 0;
}

int address_of(const Slot* s, NameFn fn, SockAddr* out) {
  if (s == nullptr) return -EBADF;
  if (out == nullptr) return -EINVAL;
  struct sockaddr_storage ss;
  socklen_t len = 0;
  int r = name_of(s, fn, &ss, &len);
  return r < 0 ? r : sockets::from_sockaddr(reinterpret_cast<struct sockaddr*>(&ss), len, out);
}
}  // namespace

int Loop::local_address(int32_t slot, SockAddr* out) const {
  return address_of(impl_->slots.find(slot), ::getsockname, out);
}

int Loop::peer_address(int32_t slot, SockAddr* out) const {
  return address_of(impl_->slots.find(slot), ::getpeername, out);
}

// The peer of an IPv4 connection as numbers (address in host order), with no
// text made: what a server asks of every connection it accepts.
int Loop::peer_ipv4(int32_t slot, uint32_t* addr, uint16_t* port) const {
  struct sockaddr_storage ss;
  socklen_t len = 0;
  int r = name_of(impl_->slots.find(slot), ::getpeername, &ss, &len);
  if (r < 0) return r;
  if (ss.ss_family != AF_INET || len < sizeof(struct sockaddr_in)) return -EAFNOSUPPORT;
  const auto* in = reinterpret_cast<const struct sockaddr_in*>(&ss);
  *addr = ntohl(in->sin_addr.s_addr);
  *port = ntohs(in->sin_port);
  return 0;
}

}  // namespace ioreactor
