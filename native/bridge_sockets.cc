// NativeLoop methods for registrations and sockets, added through the method
// registry (bridge_loop.h): raw fds, listen/connect/adopt, writev, reading
// and shutdown control, options and addresses, typed in lib/native.ts.
// Methods on one registration (Takes::kSlot) get their slot already checked
// against the handle's generation; their own arguments start at call.arg(0).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "bridge_args.h"
#include "bridge_loop.h"
#include "poller.h"
#include "sockets.h"

namespace ioreactor {
namespace {

using bridge::bool_arg;
using bridge::bytes_arg;
using bridge::int_arg;
using bridge::slot_arg;
using bridge::string_arg;

Mode make_mode(bool edge, bool oneshot) {
  Mode m;
  m.trigger = edge ? Trigger::kEdge : Trigger::kLevel;
  m.oneshot = oneshot;
  return m;
}

bool family_ok(int64_t f) { return f == 0 || f == 4 || f == 6; }

// (interest, edge, oneshot) from argument i on.
bool mode_args(const MethodCall& c, size_t i, int64_t* interest, Mode* mode) {
  bool edge = false, oneshot = false;
  if (!int_arg(c.info, c.arg(i), 0, kAllEvents, interest) || !bool_arg(c.info, c.arg(i + 1), &edge) ||
      !bool_arg(c.info, c.arg(i + 2), &oneshot)) {
    return false;
  }
  *mode = make_mode(edge, oneshot);
  return true;
}

// A new registration's slot, or the error.
Napi::Value slot_or_error(const MethodCall& c, int r, int32_t slot) { return c.num(r < 0 ? r : slot); }

// ---- registrations ----

// addRaw(fd, interest, edge, oneshot) -> slot | -errno
Napi::Value AddRaw(MethodCall& c) {
  int64_t fd = 0, interest = 0;
  Mode mode;
  if (!int_arg(c.info, c.arg(0), 0, INT32_MAX, &fd) || !mode_args(c, 1, &interest, &mode)) return c.num(-EINVAL);
  // A closed fd is refused here: the poll backend would only notice later.
  if (fcntl(static_cast<int>(fd), F_GETFD) < 0) return c.num(-EBADF);
  int32_t slot = -1;
  int r = c.loop->add_raw(static_cast<int>(fd), static_cast<uint32_t>(interest), mode, &slot);
  return slot_or_error(c, r, slot);
}

// modifyRaw(slot, gen, interest, edge, oneshot) -> 0 | -errno
Napi::Value ModifyRaw(MethodCall& c) {
  int64_t interest = 0;
  Mode mode;
  if (!mode_args(c, 0, &interest, &mode)) return c.num(-EINVAL);
  return c.num(c.loop->modify_raw(c.slot, static_cast<uint32_t>(interest), mode));
}

// remove(slot, gen) -> 0 | -errno
Napi::Value Remove(MethodCall& c) { return c.num(c.loop->remove(c.slot)); }

// generation(slot) -> the slot's current generation, as records carry it (int32)
Napi::Value Generation(MethodCall& c) {
  int32_t slot = 0;
  if (!slot_arg(c.info, c.arg(0), &slot)) return c.num(-EINVAL);
  return c.num(static_cast<int32_t>(c.loop->generation(slot)));
}

// fdOf(slot, gen) -> fd | -EBADF
Napi::Value FdOf(MethodCall& c) {
  int fd = c.loop->fd_of(c.slot);
  return c.num(fd < 0 ? -EBADF : fd);
}

// A method on one registration taking one boolean.
template <int (Loop::*Set)(int32_t, bool)>
Napi::Value SlotBool(MethodCall& c) {
  bool on = false;
  if (!bool_arg(c.info, c.arg(0), &on)) return c.num(-EINVAL);
  return c.num((c.loop->*Set)(c.slot, on));
}

// A method on one registration taking nothing more.
template <int (Loop::*Op)(int32_t)>
Napi::Value SlotOp(MethodCall& c) {
  return c.num((c.loop->*Op)(c.slot));
}

// ---- sockets ----

// listen(family, host, port, backlog, reusePort) -> slot | -errno
Napi::Value Listen(MethodCall& c) {
  int64_t family = 0, port = 0, backlog = 0;
  bool reuse = false;
  SockAddr addr;
  if (!int_arg(c.info, c.arg(0), 0, 6, &family) || !family_ok(family) || !string_arg(c.info, c.arg(1), &addr.host) ||
      !int_arg(c.info, c.arg(2), 0, 65535, &port) || !int_arg(c.info, c.arg(3), 0, INT32_MAX, &backlog) ||
      !bool_arg(c.info, c.arg(4), &reuse)) {
    return c.num(-EINVAL);
  }
  addr.family = static_cast<int>(family);
  addr.port = static_cast<int>(port);
  int32_t slot = -1;
  int r = c.loop->listen(addr, static_cast<int>(backlog), reuse, &slot);
  return slot_or_error(c, r, slot);
}

// setAcceptBatch(slot, gen, maxBatch) -> 0 | -errno
Napi::Value SetAcceptBatch(MethodCall& c) {
  int64_t batch = 0;
  if (!int_arg(c.info, c.arg(0), 1, INT32_MAX, &batch)) return c.num(-EINVAL);
  return c.num(c.loop->set_accept_batch(c.slot, static_cast<int>(batch)));
}

// setReadLowWater(slot, gen, bytes) -> 0 | -errno
Napi::Value SetReadLowWater(MethodCall& c) {
  int64_t bytes = 0;
  if (!int_arg(c.info, c.arg(0), 1, INT32_MAX, &bytes)) return c.num(-EINVAL);
  return c.num(c.loop->set_read_low_water(c.slot, static_cast<int>(bytes)));
}

// The optional bind address of connect(): (host|null, port) from argument 3.
bool bind_args(const MethodCall& c, SockAddr* bind, bool* has_bind) {
  const Napi::CallbackInfo& info = c.info;
  size_t host = c.arg(3), port = c.arg(4);
  *has_bind = info.Length() > host && info[host].IsString();
  if (*has_bind && !string_arg(info, host, &bind->host)) return false;
  if (!*has_bind && info.Length() > host && !info[host].IsNull() && !info[host].IsUndefined()) return false;
  int64_t bind_port = 0;
  if (info.Length() > port && !info[port].IsUndefined() && !int_arg(info, port, 0, 65535, &bind_port)) return false;
  bind->port = static_cast<int>(bind_port);
  return true;
}

// connect(family, host, port, bindHost|null, bindPort) -> slot | -errno
Napi::Value Connect(MethodCall& c) {
  int64_t family = 0, port = 0;
  SockAddr addr, bind;
  bool has_bind = false;
  if (!int_arg(c.info, c.arg(0), 0, 6, &family) || !family_ok(family) || !string_arg(c.info, c.arg(1), &addr.host) ||
      !int_arg(c.info, c.arg(2), 0, 65535, &port) || !bind_args(c, &bind, &has_bind)) {
    return c.num(-EINVAL);
  }
  addr.family = bind.family = static_cast<int>(family);
  addr.port = static_cast<int>(port);
  int32_t slot = -1;
  int r = c.loop->connect(addr, has_bind ? &bind : nullptr, &slot);
  return slot_or_error(c, r, slot);
}

// adoptStream(fd) -> slot | -errno: an fd the loop now owns
Napi::Value AdoptStream(MethodCall& c) {
  int64_t fd = 0;
  if (!int_arg(c.info, c.arg(0), 0, INT32_MAX, &fd)) return c.num(-EINVAL);
  if (fcntl(static_cast<int>(fd), F_GETFD) < 0) return c.num(-EBADF);
  int32_t slot = -1;
  int r = c.loop->adopt_stream(static_cast<int>(fd), &slot);
  return slot_or_error(c, r, slot);
}

// adoptSocket(fd, family, listening) -> slot | -errno: a dup of someone's
// listening socket (a kListener slot) or connection (a kStream slot); the
// caller's fd is never closed by us, the dup never leaks on failure.
Napi::Value AdoptSocket(MethodCall& c) {
  int64_t fd = 0, family = 0;
  bool listening = false;
  if (!int_arg(c.info, c.arg(0), 0, INT32_MAX, &fd) || !int_arg(c.info, c.arg(1), 0, 6, &family) ||
      !family_ok(family) || !bool_arg(c.info, c.arg(2), &listening)) {
    return c.num(-EINVAL);
  }
  int own = -1;
  int r = sockets::dup_adoptable(static_cast<int>(fd), static_cast<int>(family), listening, &own);
  if (r != 0) return c.num(r);
  int32_t slot = -1;
  r = listening ? c.loop->adopt_listener(own, &slot) : c.loop->adopt_stream(own, &slot);
  if (r != 0) ::close(own);
  return slot_or_error(c, r, slot);
}

// writev(slot, gen, chunks) -> bytes still buffered | -errno
Napi::Value Writev(MethodCall& c) {
  size_t at = c.arg(0);
  if (c.info.Length() <= at || !c.info[at].IsArray()) return c.num(-EINVAL);
  auto list = c.info[at].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count > INT32_MAX) return c.num(-EINVAL);
  std::vector<const uint8_t*> bufs(count);
  std::vector<size_t> lens(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (!bytes_arg(list.Get(i), &bufs[i], &lens[i])) return c.num(-EINVAL);
  }
  return c.num(static_cast<double>(c.loop->writev(c.slot, bufs.data(), lens.data(), static_cast<int>(count))));
}

// unmaskFrames(slot, gen, on) -> 0: while on, short reads that are one whole
// masked WebSocket frame reach JS unmasked (kRecFrameKept; ws_frames.h).
Napi::Value UnmaskFrames(MethodCall& c) {
  bool on = false;
  if (!bool_arg(c.info, c.arg(0), &on)) return c.num(-EINVAL);
  c.self.unmask_frames(c.slot, c.loop->generation(c.slot), on);
  return c.num(0);
}

// buffered(slot, gen) -> bytes waiting to be written
Napi::Value Buffered(MethodCall& c) { return c.num(static_cast<double>(c.loop->buffered(c.slot))); }

// kernelSendQueue(slot, gen) -> bytes in the socket's send queue in the
// kernel (Loop::kernel_send_queue), or -errno
Napi::Value KernelSendQueue(MethodCall& c) { return c.num(static_cast<double>(c.loop->kernel_send_queue(c.slot))); }

// finish(slot, gen) -> 0 | bytes still waiting | -errno: Loop::finish, the
// usual end of a connection in one call instead of shutdownWrite, buffered
// and remove.
Napi::Value Finish(MethodCall& c) { return c.num(static_cast<double>(c.loop->finish(c.slot))); }

// localAddress / peerAddress(slot, gen) -> {family, host, port} | -errno
template <bool kPeer>
Napi::Value Address(MethodCall& c) {
  SockAddr addr;
  int r = kPeer ? c.loop->peer_address(c.slot, &addr) : c.loop->local_address(c.slot, &addr);
  if (r < 0) return c.num(r);
  auto out = Napi::Object::New(c.info.Env());
  out.Set("family", addr.family);
  out.Set("host", addr.host);
  out.Set("port", addr.port);
  return out;
}

// peerIPv4(slot, gen) -> an IPv4 peer as one number, address * 65536 + port
// (exact in a double), or -EAFNOSUPPORT for any other family (peerAddress
// then), or -errno. A server asks every connection it accepts for its peer;
// the object and host string peerAddress makes were most of that call.
Napi::Value PeerIPv4(MethodCall& c) {
  uint32_t addr = 0;
  uint16_t port = 0;
  int r = c.loop->peer_ipv4(c.slot, &addr, &port);
  if (r < 0) return c.num(r);
  return c.num(static_cast<double>(addr) * 65536.0 + port);
}

const LoopMethods socket_methods({
    {"addRaw", Takes::kLoop, &AddRaw},
    {"modifyRaw", Takes::kSlot, &ModifyRaw},
    {"remove", Takes::kSlot, &Remove},
    {"generation", Takes::kLoop, &Generation},
    {"fdOf", Takes::kSlot, &FdOf},
    {"setRef", Takes::kSlot, &SlotBool<&Loop::set_ref>},
    {"listen", Takes::kLoop, &Listen},
    {"setAcceptBatch", Takes::kSlot, &SetAcceptBatch},
    {"resumeAccepting", Takes::kSlot, &SlotOp<&Loop::resume_accepting>},
    {"connect", Takes::kLoop, &Connect},
    {"adoptStream", Takes::kLoop, &AdoptStream},
    {"adoptSocket", Takes::kLoop, &AdoptSocket},
    {"writev", Takes::kSlot, &Writev},
    {"buffered", Takes::kSlot, &Buffered},
    {"kernelSendQueue", Takes::kSlot, &KernelSendQueue},
    {"finish", Takes::kSlot, &Finish},
    {"unmaskFrames", Takes::kSlot, &UnmaskFrames},
    {"shutdownWrite", Takes::kSlot, &SlotOp<&Loop::shutdown_write>},
    {"pauseReading", Takes::kSlot, &SlotOp<&Loop::pause_reading>},
    {"resumeReading", Takes::kSlot, &SlotOp<&Loop::resume_reading>},
    {"setNoDelay", Takes::kSlot, &SlotBool<&Loop::set_nodelay>},
    {"setKeepAlive", Takes::kSlot, &SlotBool<&Loop::set_keepalive>},
    {"setReadLowWater", Takes::kSlot, &SetReadLowWater},
    {"localAddress", Takes::kSlot, &Address<false>},
    {"peerAddress", Takes::kSlot, &Address<true>},
    {"peerIPv4", Takes::kSlot, &PeerIPv4},
});

}  // namespace
}  // namespace ioreactor
