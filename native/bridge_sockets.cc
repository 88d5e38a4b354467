// NativeLoop registration and socket methods: raw fds, listen/connect/adopt,
// write/writev, reading and shutdown control, options, addresses and stats.
#include <fcntl.h>

#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "bridge_args.h"
#include "bridge_loop.h"
#include "poller.h"

namespace ioreactor {
namespace {

using bridge::bool_arg;
using bridge::bytes_arg;
using bridge::int_arg;
using bridge::neg;
using bridge::slot_arg;
using bridge::string_arg;

constexpr int64_t kAllEvents = kReadable | kWritable | kError | kHangup;

Mode make_mode(bool edge, bool oneshot) {
  Mode m;
  m.trigger = edge ? Trigger::kEdge : Trigger::kLevel;
  m.oneshot = oneshot;
  return m;
}

bool family_ok(int64_t f) { return f == 0 || f == 4 || f == 6; }

}  // namespace

// ---- registrations ----

template <typename Fn>
Napi::Value NativeLoop::with_slot(const Napi::CallbackInfo& info, Fn fn) {
  if (closed_) return num(-EBADF);
  int32_t slot = 0;
  if (!slot_arg(info, 0, &slot)) return num(-EINVAL);
  return num(static_cast<double>(fn(slot)));
}

template <typename Fn>
Napi::Value NativeLoop::slot_bool(const Napi::CallbackInfo& info, Fn fn) {
  if (closed_) return num(-EBADF);
  int32_t slot = 0;
  bool on = false;
  if (!slot_arg(info, 0, &slot) || !bool_arg(info, 1, &on)) return num(-EINVAL);
  return num(neg(fn(slot, on)));
}

Napi::Value NativeLoop::AddRaw(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int64_t fd = 0, interest = 0;
  bool edge = false, oneshot = false;
  if (!int_arg(info, 0, 0, INT32_MAX, &fd) || !int_arg(info, 1, 0, kAllEvents, &interest) ||
      !bool_arg(info, 2, &edge) || !bool_arg(info, 3, &oneshot)) {
    return num(-EINVAL);
  }
  // A closed fd is refused here: the poll backend would only notice later.
  if (fcntl(static_cast<int>(fd), F_GETFD) < 0) return num(-EBADF);
  int32_t slot = -1;
  int r = neg(loop_->add_raw(static_cast<int>(fd), static_cast<uint32_t>(interest), make_mode(edge, oneshot), &slot));
  refresh_ref();
  return num(r < 0 ? r : slot);
}

Napi::Value NativeLoop::ModifyRaw(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int32_t slot = 0;
  int64_t interest = 0;
  bool edge = false, oneshot = false;
  if (!slot_arg(info, 0, &slot) || !int_arg(info, 1, 0, kAllEvents, &interest) || !bool_arg(info, 2, &edge) ||
      !bool_arg(info, 3, &oneshot)) {
    return num(-EINVAL);
  }
  return num(neg(loop_->modify_raw(slot, static_cast<uint32_t>(interest), make_mode(edge, oneshot))));
}

Napi::Value NativeLoop::Remove(const Napi::CallbackInfo& info) {
  return with_slot(info, [this](int32_t slot) {
    int r = neg(loop_->remove(slot));
    refresh_ref();
    return r;
  });
}

Napi::Value NativeLoop::Generation(const Napi::CallbackInfo& info) {
  // Records carry the generation as int32; return the same view of it.
  return with_slot(info, [this](int32_t slot) { return static_cast<int32_t>(loop_->generation(slot)); });
}

Napi::Value NativeLoop::FdOf(const Napi::CallbackInfo& info) {
  return with_slot(info, [this](int32_t slot) {
    int fd = loop_->fd_of(slot);
    return fd < 0 ? -EBADF : fd;
  });
}

Napi::Value NativeLoop::SetRef(const Napi::CallbackInfo& info) {
  return slot_bool(info, [this](int32_t slot, bool on) {
    int r = loop_->set_ref(slot, on);
    refresh_ref();
    return r;
  });
}

// ---- sockets ----

Napi::Value NativeLoop::Listen(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int64_t family = 0, port = 0, backlog = 0;
  bool reuse = false;
  SockAddr addr;
  if (!int_arg(info, 0, 0, 6, &family) || !family_ok(family) || !string_arg(info, 1, &addr.host) ||
      !int_arg(info, 2, 0, 65535, &port) || !int_arg(info, 3, 0, INT32_MAX, &backlog) ||
      !bool_arg(info, 4, &reuse)) {
    return num(-EINVAL);
  }
  addr.family = static_cast<int>(family);
  addr.port = static_cast<int>(port);
  int32_t slot = -1;
  int r = neg(loop_->listen(addr, static_cast<int>(backlog), reuse, &slot));
  refresh_ref();
  return num(r < 0 ? r : slot);
}

Napi::Value NativeLoop::SetAcceptBatch(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int32_t slot = 0;
  int64_t batch = 0;
  if (!slot_arg(info, 0, &slot) || !int_arg(info, 1, 1, INT32_MAX, &batch)) return num(-EINVAL);
  return num(neg(loop_->set_accept_batch(slot, static_cast<int>(batch))));
}

Napi::Value NativeLoop::ResumeAccepting(const Napi::CallbackInfo& info) {
  return with_slot(info, [this](int32_t slot) { return neg(loop_->resume_accepting(slot)); });
}

Napi::Value NativeLoop::Connect(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int64_t family = 0, port = 0, bind_port = 0;
  SockAddr addr, bind;
  bool has_bind = info.Length() > 3 && info[3].IsString();
  bool bind_ok = has_bind ? string_arg(info, 3, &bind.host) : (info.Length() <= 3 || info[3].IsNull() || info[3].IsUndefined());
  if (!int_arg(info, 0, 0, 6, &family) || !family_ok(family) || !string_arg(info, 1, &addr.host) ||
      !int_arg(info, 2, 0, 65535, &port) || !bind_ok) {
    return num(-EINVAL);
  }
  if (info.Length() > 4 && !info[4].IsUndefined() && !int_arg(info, 4, 0, 65535, &bind_port)) return num(-EINVAL);
  addr.family = bind.family = static_cast<int>(family);
  addr.port = static_cast<int>(port);
  bind.port = static_cast<int>(bind_port);
  int32_t slot = -1;
  int r = neg(loop_->connect(addr, has_bind ? &bind : nullptr, &slot));
  refresh_ref();
  return num(r < 0 ? r : slot);
}

Napi::Value NativeLoop::AdoptStream(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int64_t fd = 0;
  if (!int_arg(info, 0, 0, INT32_MAX, &fd)) return num(-EINVAL);
  if (fcntl(static_cast<int>(fd), F_GETFD) < 0) return num(-EBADF);
  int32_t slot = -1;
  int r = neg(loop_->adopt_stream(static_cast<int>(fd), &slot));
  refresh_ref();
  return num(r < 0 ? r : slot);
}

Napi::Value NativeLoop::Write(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int32_t slot = 0;
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!slot_arg(info, 0, &slot) || info.Length() < 2 || !bytes_arg(info[1], &data, &len)) return num(-EINVAL);
  return num(static_cast<double>(loop_->write(slot, data, len)));
}

Napi::Value NativeLoop::Writev(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int32_t slot = 0;
  if (!slot_arg(info, 0, &slot) || info.Length() < 2 || !info[1].IsArray()) return num(-EINVAL);
  auto list = info[1].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count > INT32_MAX) return num(-EINVAL);
  std::vector<const uint8_t*> bufs(count);
  std::vector<size_t> lens(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (!bytes_arg(list.Get(i), &bufs[i], &lens[i])) return num(-EINVAL);
  }
  int64_t r = loop_->writev(slot, bufs.data(), lens.data(), static_cast<int>(count));
  return num(static_cast<double>(r));
}

Napi::Value NativeLoop::Buffered(const Napi::CallbackInfo& info) {
  return with_slot(info, [this](int32_t slot) { return loop_->buffered(slot); });
}

Napi::Value NativeLoop::ShutdownWrite(const Napi::CallbackInfo& info) {
  return with_slot(info, [this](int32_t slot) { return neg(loop_->shutdown_write(slot)); });
}

Napi::Value NativeLoop::PauseReading(const Napi::CallbackInfo& info) {
  return with_slot(info, [this](int32_t slot) { return neg(loop_->pause_reading(slot)); });
}

Napi::Value NativeLoop::ResumeReading(const Napi::CallbackInfo& info) {
  return with_slot(info, [this](int32_t slot) { return neg(loop_->resume_reading(slot)); });
}

Napi::Value NativeLoop::SetNoDelay(const Napi::CallbackInfo& info) {
  return slot_bool(info, [this](int32_t slot, bool on) { return loop_->set_nodelay(slot, on); });
}

Napi::Value NativeLoop::SetKeepAlive(const Napi::CallbackInfo& info) {
  return slot_bool(info, [this](int32_t slot, bool on) { return loop_->set_keepalive(slot, on); });
}

Napi::Value NativeLoop::address(const Napi::CallbackInfo& info, bool peer) {
  if (closed_) return num(-EBADF);
  int32_t slot = 0;
  if (!slot_arg(info, 0, &slot)) return num(-EINVAL);
  SockAddr addr;
  int r = neg(peer ? loop_->peer_address(slot, &addr) : loop_->local_address(slot, &addr));
  if (r < 0) return num(r);
  auto out = Napi::Object::New(Env());
  out.Set("family", addr.family);
  out.Set("host", addr.host);
  out.Set("port", addr.port);
  return out;
}

Napi::Value NativeLoop::LocalAddress(const Napi::CallbackInfo& info) { return address(info, false); }

Napi::Value NativeLoop::PeerAddress(const Napi::CallbackInfo& info) { return address(info, true); }

Napi::Value NativeLoop::Stats(const Napi::CallbackInfo&) {
  auto out = Napi::Object::New(Env());
  LoopStats s;
  uint64_t kernel_waits = 0;
  if (!closed_) {
    s = loop_->stats();
    kernel_waits = loop_->poller().kernel_waits();
  }
  out.Set("wakeups", static_cast<double>(s.wakeups));
  out.Set("events", static_cast<double>(s.events));
  out.Set("accepts", static_cast<double>(s.accepts));
  out.Set("acceptBatches", static_cast<double>(s.accept_batches));
  out.Set("deliveries", static_cast<double>(s.deliveries));
  out.Set("kernelWaits", static_cast<double>(kernel_waits));
  return out;
}

}  // namespace ioreactor
