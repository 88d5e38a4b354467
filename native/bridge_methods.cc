// How JS calls reach a NativeLoop: the method registry (bridge_loop.h) and the
// functions that bind its entries to each object.
//
// Every method, the registry's and write/writeAt, is an own property of its
// NativeLoop object: a plain napi function whose data names that loop (and,
// for a registry method, the entry). A call so finds its NativeLoop without
// node-addon-api's InstanceMethod wrapper, whose napi_unwrap (a V8
// private-symbol lookup on `this`) was ~790 of its ~1,000 instructions, paid
// by every call a connection makes (tlsStart, peerIPv4, finish, ...) and by
// each wake-up's tlsFlushAll.
//
// `this` is not read: a method taken off its object (`const { remove } =
// loop`) or called on another object still acts on the loop it came from, as
// a bound function would. Each function holds its object by a symbol-keyed
// property, so while a function is reachable the object, and so the
// NativeLoop its data points into, is alive (the property can be neither
// written nor deleted); the object's finalizer frees the NativeLoop only once
// neither is. On a closed loop the registry's checks answer -EBADF as before
// (stats and close still run).
//
// The cost is paid once per loop: ~45 functions made at construction.
#include <cerrno>
#include <string>
#include <vector>

#include "bridge_args.h"
#include "bridge_loop.h"

namespace ioreactor {

namespace {

std::vector<LoopMethodEntry>& registry() {
  static std::vector<LoopMethodEntry> entries;
  return entries;
}

// One napi function named `name` calling cb with `data`, holding `self` by
// `key`, as a property descriptor for `self`; false when N-API refused.
bool bound_function(napi_env env, napi_value self, napi_value key, const char* name, napi_callback cb, void* data,
                    std::vector<napi_property_descriptor>* props) {
  napi_value fn = nullptr;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, data, &fn) != napi_ok) return false;
  // Read-only, hidden and not deletable: the function's data points into the
  // NativeLoop, so JS must not be able to cut the link that keeps it alive
  // (a deleted holder let the object be collected under a live function).
  napi_property_descriptor holder{};
  holder.name = key;
  holder.value = self;
  holder.attributes = napi_default;
  if (napi_define_properties(env, fn, 1, &holder) != napi_ok) return false;
  napi_property_descriptor d{};
  d.utf8name = name;
  d.value = fn;
  d.attributes = napi_default_method;  // writable and configurable, as a prototype method was
  props->push_back(d);
  return true;
}

}  // namespace

LoopMethods::LoopMethods(std::initializer_list<LoopMethodEntry> entries) {
  registry().insert(registry().end(), entries.begin(), entries.end());
}

const std::vector<LoopMethodEntry>& LoopMethods::all() { return registry(); }

Napi::Function NativeLoop::Define(Napi::Env env) {
  return DefineClass(env, "NativeLoop", std::vector<PropertyDescriptor>{});
}

// Called once, from the constructor: bound_ is filled before any address in
// it is handed out and never grows after.
void NativeLoop::define_methods(Napi::Env env, Napi::Object self) {
  for (const LoopMethodEntry& e : LoopMethods::all()) bound_.push_back(BoundMethod{this, &e});
  std::vector<napi_property_descriptor> props;
  napi_value key = nullptr, description = nullptr;
  bool ok = napi_create_string_utf8(env, "ioreactor.loop", NAPI_AUTO_LENGTH, &description) == napi_ok &&
            napi_create_symbol(env, description, &key) == napi_ok;
  for (BoundMethod& b : bound_) ok = ok && bound_function(env, self, key, b.entry->name, CallBound, &b, &props);
  ok = ok && bound_function(env, self, key, "write", FastWrite, this, &props) &&
       bound_function(env, self, key, "writeAt", FastWriteAt, this, &props) &&
       bound_function(env, self, key, "writeString", FastWriteString, this, &props) &&
       napi_define_properties(env, self, props.size(), props.data()) == napi_ok;
  if (!ok) throw Napi::Error::New(env, "cannot define the NativeLoop methods");
}

// The registry's methods' one napi callback. A Napi::Error a method throws
// (a TypeError for a bad options object) becomes the JS exception, as
// node-addon-api's own wrappers do it.
napi_value NativeLoop::CallBound(napi_env env, napi_callback_info raw) {
  try {
    Napi::CallbackInfo info(env, raw);
    const auto* bound = static_cast<const BoundMethod*>(info.Data());
    return bound->self->Call(*bound->entry, info);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

// The registry's checks, then the method: an open loop unless it runs in any
// state, and for a method on one registration a live (slot, gen) handle.
Napi::Value NativeLoop::Call(const LoopMethodEntry& entry, const Napi::CallbackInfo& info) {
  MethodCall call{*this, loop_.get(), info};
  if (entry.takes != Takes::kAnyState && closed_) return call.num(-EBADF);
  if (entry.takes == Takes::kSlot) {
    int64_t gen = 0;
    if (!bridge::slot_arg(info, 0, &call.slot) || !bridge::int_arg(info, 1, 1, INT32_MAX, &gen)) {
      return call.num(-EINVAL);
    }
    if (!live(call.slot, gen)) return call.num(-EBADF);
    call.first = 2;
  }
  Napi::Value ret = entry.fn(call);
  refresh_ref();
  return ret;
}

}  // namespace ioreactor
