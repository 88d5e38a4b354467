// NativeLoop methods for processes and UDP, added through the LoopMethods
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
using bridge::slot_arg;
using bridge::string_arg;

Napi::Value num(const Napi::CallbackInfo& info, double v) { return Napi::Number::New(info.Env(), v); }

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

// family (4 or 6), host, port from argument i on.
bool address_args(const Napi::CallbackInfo& info, size_t i, SockAddr* out) {
  int64_t family = 0, port = 0;
  if (!int_arg(info, i, 4, 6, &family) || family == 5) return false;
  if (!string_arg(info, i + 1, &out->host) || !int_arg(info, i + 2, 0, 65535, &port)) return false;
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
Napi::Value Spawn(NativeLoop&, Loop& loop, const Napi::CallbackInfo& info) {
  process::SpawnOptions o;
  std::vector<Loop::ChildFd> fds;
  if (!spawn_args(info, &o, &fds)) return num(info, -EINVAL);
  Loop::Spawned sp;
  int r = loop.spawn(o, fds, &sp);
  if (r < 0) return num(info, r);
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("pid", sp.pid);
  out.Set("slot", sp.slot);
  auto pipes = Napi::Array::New(env, sp.pipes.size());
  for (size_t i = 0; i < sp.pipes.size(); ++i) pipes.Set(static_cast<uint32_t>(i), sp.pipes[i]);
  out.Set("pipes", pipes);
  return out;
}

// signalChild(slot, signal) -> 0 | -errno (-ESRCH once reaped)
Napi::Value SignalChild(NativeLoop&, Loop& loop, const Napi::CallbackInfo& info) {
  int32_t slot = 0;
  int64_t sig = 0;
  if (!slot_arg(info, 0, &slot) || !int_arg(info, 1, 0, 128, &sig)) return num(info, -EINVAL);
  return num(info, loop.signal_child(slot, static_cast<int>(sig)));
}

// udpBind(family, host, port, maxPacket) -> slot | -errno
Napi::Value UdpBind(NativeLoop&, Loop& loop, const Napi::CallbackInfo& info) {
  SockAddr addr;
  int64_t max_packet = 0;
  if (!address_args(info, 0, &addr) || !int_arg(info, 3, 1, INT32_MAX, &max_packet)) return num(info, -EINVAL);
  int32_t slot = -1;
  int r = loop.udp_bind(addr, static_cast<size_t>(max_packet), &slot);
  return num(info, r < 0 ? r : slot);
}

// udpConnect(slot, family, host, port) -> 0 | -errno ('' host disconnects)
Napi::Value UdpConnect(NativeLoop&, Loop& loop, const Napi::CallbackInfo& info) {
  int32_t slot = 0;
  SockAddr peer;
  if (!slot_arg(info, 0, &slot) || !address_args(info, 1, &peer)) return num(info, -EINVAL);
  return num(info, loop.udp_connect(slot, peer));
}

// udpSend(slot, data, family, host|null, port) -> bytes sent | -errno
Napi::Value UdpSend(NativeLoop&, Loop& loop, const Napi::CallbackInfo& info) {
  int32_t slot = 0;
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!slot_arg(info, 0, &slot) || info.Length() < 2 || !bridge::bytes_arg(info[1], &data, &len)) {
    return num(info, -EINVAL);
  }
  SockAddr dest;
  bool to = info.Length() > 3 && info[3].IsString();
  if (to && !address_args(info, 2, &dest)) return num(info, -EINVAL);
  return num(info, static_cast<double>(loop.udp_send(slot, data, len, to ? &dest : nullptr)));
}

// udpSetBatch(slot, on) -> 0 | -errno
Napi::Value UdpSetBatch(NativeLoop&, Loop& loop, const Napi::CallbackInfo& info) {
  int32_t slot = 0;
  bool on = true;
  if (!slot_arg(info, 0, &slot) || !bridge::bool_arg(info, 1, &on)) return num(info, -EINVAL);
  return num(info, loop.udp_set_batch(slot, on));
}

const LoopMethods process_methods({
    {"spawn", &Spawn},
    {"signalChild", &SignalChild},
    {"udpBind", &UdpBind},
    {"udpConnect", &UdpConnect},
    {"udpSend", &UdpSend},
    {"udpSetBatch", &UdpSetBatch},
});

}  // namespace
}  // namespace ioreactor
