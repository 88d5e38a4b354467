// NativeLoop: the only code that touches Node and libuv. It owns a Loop
// (loop.h) and is its LoopSink: records are copied into an Int32Array made
// once, slabs are Node Buffers kept alive by a reference, and each delivery is
// one napi_call_function; promise continuations and nextTicks run after every
// wake-up (bridge_dispatch.cc says how without a callback scope of our own).
//
// Integration with libuv:
//  - a backend with a pollable fd (epoll) waits in its own set, which holds
//    libuv's epoll fd, from a uv_prepare_t callback (bridge_wait.cc: one epoll
//    call less per wake-up than being a member of libuv's set); a second loop
//    on the same thread is watched by a uv_poll_t instead. Either way, what
//    is ready is processed, again while batches come back full, but a bounded
//    number of times (see drain());
//  - a backend without one (poll; kqueue on macOS) gets a Waiter thread
//    (bridge_waiter.h) that wakes a uv_async_t; the batch is processed here, on
//    the loop thread, while the waiter sleeps.
// The uv handle is ref'd exactly while the Loop has ref'd registrations, and
// only then does the handle hold the JS object strongly, so an idle or
// forgotten loop neither keeps Node alive nor leaks (GC closes it).
//
// Lifetime: close(), the GC finalizer and environment teardown (Worker
// termination, process exit; an async cleanup hook) all end in shutdown().
// uv handles are freed in their close callbacks, which never touch `this`.
// close() from inside a callback is deferred until the dispatch unwinds.
//
// Every JS method is registered in one table (bridge_loop.h), whose one entry
// point checks the loop is open and a (slot, generation) handle is live before
// the method runs; each validates its own arguments and returns a number:
// >= 0 or -errno. Each method is an own property of the object, a plain napi
// function bound to it (bridge_methods.cc): no napi_unwrap per call.
// The callback path uses the raw C API so that nothing can throw into libuv.
#include "bridge.h"

#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bridge_args.h"
#include "bridge_loop.h"
#include "heap_trim.h"
#include "poller.h"

namespace ioreactor {
namespace {

using bridge::string_arg;

// err is -errno; the error's errno field is too, as in Node.
Napi::Error errno_error(Napi::Env env, int err, const std::string& what) {
  auto e = Napi::Error::New(env, what + ": " + std::strerror(-err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

bool backend_available(Backend b) {
  int count = 0;
  const Backend* list = available_backends(&count);
  return std::find(list, list + count, b) != list + count;
}

}  // namespace

bool NativeLoop::live(int32_t slot, int64_t gen) const {
  if (closed_ || gen < 1 || gen > INT32_MAX) return false;
  return loop_->live(slot, static_cast<uint32_t>(gen));
}

NativeLoop::NativeLoop(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeLoop>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  std::string name;
  if (!string_arg(info, 0, &name) || info.Length() < 2 || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "NativeLoop(backend: string, callback: function)");
  }
  Backend backend;
  if (!backend_from_name(name, &backend) || !backend_available(backend)) {
    auto e = Napi::Error::New(env, "backend '" + name + "' is not available in this build");
    e.Set("code", Napi::String::New(env, "ENOTSUP"));
    throw e;
  }
  try {
    init_js_state(info, name);
  } catch (...) {
    release_js();  // a throwing constructor runs no destructor: drop the references made so far
    throw;
  }
  int err = 0;
  loop_ = Loop::create(backend, this, &err);
  if (!loop_) {
    release_js();
    throw errno_error(env, err, "cannot create the " + name + " loop");
  }
  napi_get_uv_event_loop(env_, &uv_loop_);
  napi_add_async_cleanup_hook(env_, on_teardown, this, &hook_);
}

// records, backend, the callback (held by the object so that GC can collect
// the whole cycle), and the async context used for every crossing.
void NativeLoop::init_js_state(const Napi::CallbackInfo& info, const std::string& name) {
  Napi::Env env = info.Env();
  Napi::Object self = info.This().As<Napi::Object>();
  const size_t ints = static_cast<size_t>(Loop::kMaxRecords) * kRecordInts;
  auto ab = Napi::ArrayBuffer::New(env, (ints + kWriteArgs) * sizeof(int32_t));
  records_ = static_cast<int32_t*>(ab.Data());
  write_args_ = records_ + ints;
  napi_create_reference(env_, ab, 1, &records_ref_);
  auto fn = info[1].As<Napi::Function>();
  self.DefineProperties({
      Napi::PropertyDescriptor::Value("backend", Napi::String::New(env, name), napi_enumerable),
      Napi::PropertyDescriptor::Value("records", Napi::Int32Array::New(env, ints, ab, 0), napi_enumerable),
      Napi::PropertyDescriptor::Value("writeArgs", Napi::Int32Array::New(env, kWriteArgs, ab, ints * sizeof(int32_t)),
                                      napi_enumerable),
      Napi::PropertyDescriptor::Value(Napi::Symbol::New(env, "callback"), fn, napi_default),
  });
  napi_create_reference(env_, fn, 0, &callback_);
  define_methods(env, self);
  napi_async_init(env_, self, Napi::String::New(env, "ioreactor.NativeLoop"), &async_ctx_);
}

NativeLoop::~NativeLoop() {
  if (loop_ || waiter_ || poll_ != nullptr || async_ != nullptr) shutdown(nullptr);
  if (hook_ != nullptr) napi_remove_async_cleanup_hook(hook_);
  hook_ = nullptr;
  release_js();
}

// The fast writes' shared end: the registry's checks through the same live()
// (an open loop and a live (slot, gen) handle), then the write.
int64_t NativeLoop::checked_write(int32_t slot, int32_t gen, const uint8_t* bytes, size_t len) {
  if (closed_ || !live(slot, gen)) return -EBADF;
  try {
    return loop_->write(slot, bytes, len);
  } catch (...) {
    return -ENOMEM;  // nothing may throw into V8 from a raw callback
  }
}

// The fast writes' shared start (bridge_loop.h), inlined into each: write()
// is the hottest call, and as a call of its own this cost it ~26
// instructions (bench/profile/callgrind.sh echo).
[[gnu::always_inline]] inline NativeLoop* NativeLoop::fast_write_call(napi_env env, napi_callback_info info, napi_value* arg, napi_value* fail) {
  size_t argc = 1;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, arg, nullptr, &data) != napi_ok) {
    *fail = bridge::small_number(env, -EINVAL);
    return nullptr;
  }
  auto* self = static_cast<NativeLoop*>(data);
  if (self->closed_ || self->write_args_ == nullptr) {
    *fail = bridge::small_number(env, -EBADF);
    return nullptr;
  }
  if (argc < 1) {
    *fail = bridge::small_number(env, -EINVAL);
    return nullptr;
  }
  return self;
}

// write() is the one call made per echoed message: like every method it is a
// plain napi function bound to this object (bridge_methods.cc), and it also
// skips Napi::TypedArray's three napi_get_typedarray_info calls. writeAt() is
// the same for a range of an ArrayBuffer (a WebSocket reply framed where its
// payload was read, lib/websocket/whole-frame.ts): no typed array is made
// for it in JS (~200 instructions a message). Their numbers (slot, gen, and
// writeAt's offset and length) come in `writeArgs`, an Int32Array over our
// memory that JS fills just before the call: each number passed as an
// argument cost ~80 instructions of N-API conversion and checks. And "all
// sent", the usual answer, is undefined (no return value): making the
// number 0 cost ~60 (napi_create_int32, v8::Integer::New).
//
// write(bytes), writeArgs = [slot, gen] -> undefined (all sent) | bytes still buffered | -errno
napi_value NativeLoop::FastWrite(napi_env env, napi_callback_info info) {
  napi_value arg = nullptr, fail = nullptr;
  NativeLoop* self = fast_write_call(env, info, &arg, &fail);
  if (self == nullptr) return fail;
  const int32_t slot = self->write_args_[0], gen = self->write_args_[1];
  const uint8_t* bytes = nullptr;
  size_t len = 0;
  if (slot < 0 || gen < 0 || !bridge::raw_bytes(env, arg, &bytes, &len)) return bridge::small_number(env, -EINVAL);
  return write_result(env, self->checked_write(slot, gen, bytes, len));
}

// writeAt(arrayBuffer), writeArgs = [slot, gen, offset, length] -> as write()
napi_value NativeLoop::FastWriteAt(napi_env env, napi_callback_info info) {
  napi_value arg = nullptr, fail = nullptr;
  NativeLoop* self = fast_write_call(env, info, &arg, &fail);
  if (self == nullptr) return fail;
  const int32_t* a = self->write_args_;
  int32_t slot = a[0], gen = a[1], at = a[2], len = a[3];
  void* memory = nullptr;
  size_t size = 0;
  if (napi_get_arraybuffer_info(env, arg, &memory, &size) != napi_ok || slot < 0 || gen < 0 || at < 0 || len < 0 ||
      static_cast<size_t>(at) > size || static_cast<size_t>(len) > size - static_cast<size_t>(at)) {
    return bridge::small_number(env, -EINVAL);
  }
  return write_result(env, self->checked_write(slot, gen, static_cast<const uint8_t*>(memory) + at, static_cast<size_t>(len)));
}

// writeString(string), writeArgs = [slot, gen] -> as write(): the string's
// UTF-8 bytes (lone surrogates as U+FFFD, as Buffer.from makes them) encoded
// onto the stack and written from there. Made in JS first, they would cost a
// Buffer: Node's byte-length call, a pooled typed array and its encoding
// call (bench/PERFORMANCE.md, "A string written as it is"). A UTF-16 unit is
// at most 3 bytes, so the kStringAtOnce units JS sends at most always fit.
// The encoder stops short at a whole character (at most 4 bytes) when the
// room runs out, so with 4 bytes to spare a string that did not fit shows as
// a longer result than any that did: it is refused (-EMSGSIZE), never cut.
napi_value NativeLoop::FastWriteString(napi_env env, napi_callback_info info) {
  napi_value arg = nullptr, fail = nullptr;
  NativeLoop* self = fast_write_call(env, info, &arg, &fail);
  if (self == nullptr) return fail;
  const int32_t slot = self->write_args_[0], gen = self->write_args_[1];
  constexpr size_t kMost = kStringAtOnce * 3;
  char text[kMost + 4 + 1];  // + the spare character, + napi's NUL
  size_t len = 0;
  if (slot < 0 || gen < 0 || napi_get_value_string_utf8(env, arg, text, sizeof text, &len) != napi_ok) {
    return bridge::small_number(env, -EINVAL);
  }
  if (len > kMost) return bridge::small_number(env, -EMSGSIZE);
  return write_result(env, self->checked_write(slot, gen, reinterpret_cast<const uint8_t*>(text), len));
}

// The fast writes' answer: nothing (undefined) when all was sent, else the number.
napi_value NativeLoop::write_result(napi_env env, int64_t r) {
  return r == 0 ? nullptr : bridge::small_number(env, r);
}

namespace {

// refcount() -> live ref'd registrations
Napi::Value Refcount(MethodCall& call) { return call.num(static_cast<double>(call.loop->refcount())); }

// stats() -> counters (zero once closed)
Napi::Value Stats(MethodCall& call) {
  auto out = Napi::Object::New(call.info.Env());
  LoopStats s;
  uint64_t kernel_waits = 0;
  if (!call.self.closed()) {
    s = call.loop->stats();
    kernel_waits = call.loop->poller().kernel_waits();
  }
  out.Set("wakeups", static_cast<double>(s.wakeups));
  out.Set("events", static_cast<double>(s.events));
  out.Set("accepts", static_cast<double>(s.accepts));
  out.Set("acceptBatches", static_cast<double>(s.accept_batches));
  out.Set("deliveries", static_cast<double>(s.deliveries));
  out.Set("kernelWaits", static_cast<double>(kernel_waits));
  out.Set("coalesceSleeps", static_cast<double>(call.self.coalesce_sleeps()));
  out.Set("corkedWrites", static_cast<double>(s.corked_writes));
  out.Set("corkedSends", static_cast<double>(s.corked_sends));
  out.Set("heapTrims", static_cast<double>(HeapTrim::trims()));  // process-wide
  return out;
}

const LoopMethods core_methods({
    {"refcount", Takes::kLoop, &Refcount},
    {"stats", Takes::kAnyState, &Stats},
});

}  // namespace

Napi::Function define_native_loop(Napi::Env env) { return NativeLoop::Define(env); }

}  // namespace ioreactor
