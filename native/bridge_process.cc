// NativeLoop methods for processes and UDP, added through the method
// registry (bridge_loop.h): spawn, signalChild, udpBind, udpConnect, udpSend,
// udpSetBatch, typed in lib/native.ts. Every argument is checked before the
// Loop sees it; a wrong one gives -EINVAL, never a throw, so lib/process.ts
// and lib/udp.ts turn every failure into their own typed errors.
#include <cerrno>
#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "bridge_args.h"
#include "bridge_loop.h"

namespace ioreactor {
namespace {

using bridge::int_arg;
using bridge::int_value;
using bridge::string_arg;

bool string_list(Napi::Value v, std::vector<std::string>* out) {
  if (!v.IsArray()) return false;
  auto list = v.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsString()) return false;
    out->push_back(item.As<Napi::String>().Utf8Value());
  }
  return true;
}

// (childFd, how, parentFd) triples; how 0 = we read, 1 = we write, 2 = pass parentFd.
bool fd_triples(Napi::Value v, std::vector<Loop::ChildFd>* out) {
  if (!v.IsArray()) return false;
  auto list = v.As<Napi::Array>();
  if (list.Length() % 3 != 0) return false;
  for (uint32_t i = 0; i < list.Length(); i += 3) {
    int64_t child = 0, how = 0, parent = 0;
    if (!int_value(list.Get(i), 0, 4096, &child) || !int_value(list.Get(i + 1), 0, 2, &how) ||
        !int_value(list.Get(i + 2), -1, INT_MAX, &parent)) {
      return false;
    }
    out->push_back({static_cast<int>(child), static_cast<Loop::ChildFd::How>(how), static_cast<int>(parent)});
  }
  return true;
}

// family (4 or 6), host, port from the call's argument i on.
bool address_args(const MethodCall& c, size_t i, SockAddr* out) {
  int64_t family = 0, port = 0;
  if (!int_arg(c.info, c.arg(i), 4, 6, &family) || family == 5) return false;
  if (!string_arg(c.info, c.arg(i + 1), &out->host) || !int_arg(c.info, c.arg(i + 2), 0, 65535, &port)) return false;
  out->family = static_cast<int>(family);
  out->port = static_cast<int>(port);
  return true;
}

bool spawn_args(const Napi::CallbackInfo& info, process::SpawnOptions* o, std::vector<Loop::ChildFd>* fds) {
  if (info.Length() < 8 || !string_arg(info, 0, &o->executable)) return false;
  if (!string_list(info[1], &o->argv) || !string_list(info[2], &o->env)) return false;
  if (info[3].IsString()) {
    o->cwd = info[3].As<Napi::String>().Utf8Value();
  } else if (!info[3].IsNull() && !info[3].IsUndefined()) {
    return false;
  }
  return fd_triples(info[4], fds) && int_arg(info, 5, -1, INT64_C(1) << 40, &o->nofile_soft) &&
         int_arg(info, 6, -1, UINT32_MAX - 1, &o->uid) && int_arg(info, 7, -1, UINT32_MAX - 1, &o->gid);
}

// spawn(executable, args, env, cwd|null, fds, nofileSoft, uid, gid) -> {pid, slot, pipes} | -errno
Napi::Value Spawn(MethodCall& c) {
  process::SpawnOptions o;
  std::vector<Loop::ChildFd> fds;
  if (!spawn_args(c.info, &o, &fds)) return c.num(-EINVAL);
  Loop::Spawned sp;
  int r = c.loop->spawn(o, fds, &sp);
  if (r < 0) return c.num(r);
  Napi::Env env = c.info.Env();
  auto out = Napi::Object::New(env);
  out.Set("pid", sp.pid);
  out.Set("slot", sp.slot);
  auto pipes = Napi::Array::New(env, sp.pipes.size());
  for (size_t i = 0; i < sp.pipes.size(); ++i) pipes.Set(static_cast<uint32_t>(i), sp.pipes[i]);
  out.Set("pipes", pipes);
  return out;
}

// signalChild(slot, gen, signal) -> 0 | -errno (-ESRCH once reaped)
Napi::Value SignalChild(MethodCall& c) {
  int64_t sig = 0;
  if (!int_arg(c.info, c.arg(0), 0, 128, &sig)) return c.num(-EINVAL);
  return c.num(c.loop->signal_child(c.slot, static_cast<int>(sig)));
}

// udpBind(family, host, port, maxPacket) -> slot | -errno
Napi::Value UdpBind(MethodCall& c) {
  SockAddr addr;
  int64_t max_packet = 0;
  if (!address_args(c, 0, &addr) || !int_arg(c.info, c.arg(3), 1, INT32_MAX, &max_packet)) return c.num(-EINVAL);
  int32_t slot = -1;
  int r = c.loop->udp_bind(addr, static_cast<size_t>(max_packet), &slot);
  return c.num(r < 0 ? r : slot);
}

// udpConnect(slot, gen, family, host, port) -> 0 | -errno ('' host disconnects)
Napi::Value UdpConnect(MethodCall& c) {
  SockAddr peer;
  if (!address_args(c, 0, &peer)) return c.num(-EINVAL);
  return c.num(c.loop->udp_connect(c.slot, peer));
}

// udpSend(slot, gen, data, family, host|null, port) -> bytes sent | -errno
Napi::Value UdpSend(MethodCall& c) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (c.info.Length() <= c.arg(0) || !bridge::bytes_arg(c.info[c.arg(0)], &data, &len)) return c.num(-EINVAL);
  SockAddr dest;
  bool to = c.info.Length() > c.arg(2) && c.info[c.arg(2)].IsString();
  if (to && !address_args(c, 1, &dest)) return c.num(-EINVAL);
  return c.num(static_cast<double>(c.loop->udp_send(c.slot, data, len, to ? &dest : nullptr)));
}

// udpSetBatch(slot, gen, on) -> 0 | -errno
Napi::Value UdpSetBatch(MethodCall& c) {
  bool on = true;
  if (!bridge::bool_arg(c.info, c.arg(0), &on)) return c.num(-EINVAL);
  return c.num(c.loop->udp_set_batch(c.slot, on));
}

const LoopMethods process_methods({
    {"spawn", Takes::kLoop, &Spawn},
    {"signalChild", Takes::kSlot, &SignalChild},
    {"udpBind", Takes::kLoop, &UdpBind},
    {"udpConnect", Takes::kSlot, &UdpConnect},
    {"udpSend", Takes::kSlot, &UdpSend},
    {"udpSetBatch", Takes::kSlot, &UdpSetBatch},
});

}  // namespace
}  // namespace ioreactor
