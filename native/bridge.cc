// NativeLoop: the only code that touches Node and libuv. It owns a Loop
// (loop.h) and is its LoopSink: records are copied into an Int32Array made
// once, slabs are Node Buffers kept alive by a reference, and each delivery is
// one napi_make_callback, so promise continuations run after every batch.
//
// Integration with libuv:
//  - a backend with a pollable fd (epoll) is watched by a uv_poll_t; its
//    callback waits with timeout 0 and processes, again while batches come back
//    full, but a bounded number of times (see drain());
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
// Every method validates its arguments and returns a number: >= 0 or -errno.
// The callback path uses the raw C API so that nothing can throw into libuv.
#include "bridge.h"

#include <fcntl.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
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

static_assert(sizeof(Record) == 5 * sizeof(int32_t), "records cross as 5 int32 each");

constexpr int64_t kAllEvents = kReadable | kWritable | kError | kHangup;

Mode make_mode(bool edge, bool oneshot) {
  Mode m;
  m.trigger = edge ? Trigger::kEdge : Trigger::kLevel;
  m.oneshot = oneshot;
  return m;
}

bool family_ok(int64_t f) { return f == 0 || f == 4 || f == 6; }

// ---- uv handle disposal ----

// During environment teardown Node waits for our async cleanup hook; the last
// handle close callback releases it, so no handle outlives the uv loop.
struct CloseGroup {
  napi_async_cleanup_hook_handle hook = nullptr;
  int pending = 0;
};

void release_group(CloseGroup* group) {
  if (group->hook != nullptr) napi_remove_async_cleanup_hook(group->hook);
  delete group;
}

void on_handle_closed(uv_handle_t* h) {
  auto* group = static_cast<CloseGroup*>(h->data);
  if (h->type == UV_POLL) {
    delete reinterpret_cast<uv_poll_t*>(h);
  } else {
    delete reinterpret_cast<uv_async_t*>(h);
  }
  if (group != nullptr && --group->pending == 0) release_group(group);
}

template <typename H>
void close_handle(H** handle, CloseGroup* group) {
  if (*handle == nullptr) return;
  auto* h = reinterpret_cast<uv_handle_t*>(*handle);
  h->data = group;
  if (group != nullptr) ++group->pending;
  uv_close(h, on_handle_closed);
  *handle = nullptr;
}

Napi::Error errno_error(Napi::Env env, int err, const std::string& what) {
  auto e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, -err));
  return e;
}

bool backend_available(Backend b) {
  int count = 0;
  const Backend* list = available_backends(&count);
  return std::find(list, list + count, b) != list + count;
}

}  // namespace

// ---- extension methods (bridge_loop.h) ----

namespace {
std::vector<LoopMethodEntry>& registry() {
  static std::vector<LoopMethodEntry> entries;
  return entries;
}
}  // namespace

LoopMethods::LoopMethods(std::initializer_list<LoopMethodEntry> entries) {
  registry().insert(registry().end(), entries.begin(), entries.end());
}

const std::vector<LoopMethodEntry>& LoopMethods::all() { return registry(); }

Napi::Value NativeLoop::CallExtension(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  const auto* entry = static_cast<const LoopMethodEntry*>(info.Data());
  Napi::Value ret = entry->fn(*this, *loop_, info);
  refresh_ref();
  return ret;
}

Napi::Function NativeLoop::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod("start", &NativeLoop::Start),
      InstanceMethod("stop", &NativeLoop::Stop),
      InstanceMethod("close", &NativeLoop::Close),
      InstanceMethod("pollOnce", &NativeLoop::PollOnce),
      InstanceMethod("addRaw", &NativeLoop::AddRaw),
      InstanceMethod("modifyRaw", &NativeLoop::ModifyRaw),
      InstanceMethod("remove", &NativeLoop::Remove),
      InstanceMethod("generation", &NativeLoop::Generation),
      InstanceMethod("fdOf", &NativeLoop::FdOf),
      InstanceMethod("setRef", &NativeLoop::SetRef),
      InstanceMethod("listen", &NativeLoop::Listen),
      InstanceMethod("setAcceptBatch", &NativeLoop::SetAcceptBatch),
      InstanceMethod("resumeAccepting", &NativeLoop::ResumeAccepting),
      InstanceMethod("connect", &NativeLoop::Connect),
      InstanceMethod("adoptStream", &NativeLoop::AdoptStream),
      InstanceMethod("write", &NativeLoop::Write),
      InstanceMethod("writev", &NativeLoop::Writev),
      InstanceMethod("buffered", &NativeLoop::Buffered),
      InstanceMethod("shutdownWrite", &NativeLoop::ShutdownWrite),
      InstanceMethod("pauseReading", &NativeLoop::PauseReading),
      InstanceMethod("resumeReading", &NativeLoop::ResumeReading),
      InstanceMethod("setNoDelay", &NativeLoop::SetNoDelay),
      InstanceMethod("setKeepAlive", &NativeLoop::SetKeepAlive),
      InstanceMethod("localAddress", &NativeLoop::LocalAddress),
      InstanceMethod("peerAddress", &NativeLoop::PeerAddress),
      InstanceMethod("stats", &NativeLoop::Stats),
  };
  for (const LoopMethodEntry& e : LoopMethods::all()) {
    // The entry lives in the registry for the life of the addon.
    props.push_back(InstanceMethod(e.name, &NativeLoop::CallExtension, napi_default_method,
                                   const_cast<LoopMethodEntry*>(&e)));
  }
  return DefineClass(env, "NativeLoop", props);
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
  init_js_state(info, name);
  int err = 0;
  loop_ = Loop::create(backend, this, &err);
  if (!loop_) {
    release_js();
    throw errno_error(env, err > 0 ? err : -err, "cannot create the " + name + " loop");
  }
  napi_get_uv_event_loop(env_, &uv_loop_);
  napi_add_async_cleanup_hook(env_, on_teardown, this, &hook_);
}

// records, backend, the callback (held by the object so that GC can collect
// the whole cycle), and the async context used for every crossing.
void NativeLoop::init_js_state(const Napi::CallbackInfo& info, const std::string& name) {
  Napi::Env env = info.Env();
  Napi::Object self = info.This().As<Napi::Object>();
  const size_t ints = static_cast<size_t>(Loop::kMaxRecords) * 5;
  auto ab = Napi::ArrayBuffer::New(env, ints * sizeof(int32_t));
  records_ = static_cast<int32_t*>(ab.Data());
  napi_create_reference(env_, ab, 1, &records_ref_);
  auto fn = info[1].As<Napi::Function>();
  self.DefineProperties({
      Napi::PropertyDescriptor::Value("backend", Napi::String::New(env, name), napi_enumerable),
      Napi::PropertyDescriptor::Value("records", Napi::Int32Array::New(env, ints, ab, 0), napi_enumerable),
      Napi::PropertyDescriptor::Value(Napi::Symbol::New(env, "callback"), fn, napi_default),
  });
  napi_create_reference(env_, fn, 0, &callback_);
  define_fast_write(env, self);
  napi_async_init(env_, self, Napi::String::New(env, "ioreactor.NativeLoop"), &async_ctx_);
}

NativeLoop::~NativeLoop() {
  if (loop_ || waiter_ || poll_ != nullptr || async_ != nullptr) shutdown(nullptr);
  if (hook_ != nullptr) napi_remove_async_cleanup_hook(hook_);
  hook_ = nullptr;
  release_js();
}

// write() is the one call made per echoed message, so it skips the
// node-addon-api wrapper: InstanceMethod's napi_unwrap (a V8 private-symbol
// lookup) and Napi::TypedArray's three napi_get_typedarray_info calls were
// most of its cost. It is an own property of each object, a plain napi
// function whose data is this NativeLoop; the function holds the object by a
// symbol-keyed property, so while the function is reachable the object (and
// so `this`) is alive, and the pair is collected together.
void NativeLoop::define_fast_write(Napi::Env env, Napi::Object self) {
  napi_value fn = nullptr, key = nullptr;
  if (napi_create_function(env, "write", NAPI_AUTO_LENGTH, FastWrite, this, &fn) != napi_ok ||
      napi_create_symbol(env, nullptr, &key) != napi_ok || napi_set_property(env, fn, key, self) != napi_ok) {
    throw Napi::Error::New(env, "cannot define NativeLoop.write");
  }
  self.DefineProperty(Napi::PropertyDescriptor::Value("write", Napi::Value(env, fn), napi_writable));
}

napi_value NativeLoop::FastWrite(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {nullptr, nullptr};
  void* data = nullptr;
  int64_t r = -EINVAL;
  int32_t slot = 0;
  const uint8_t* bytes = nullptr;
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return bridge::small_number(env, r);
  auto* self = static_cast<NativeLoop*>(data);
  if (self->closed_) {
    r = -EBADF;
  } else if (argc >= 2 && bridge::raw_slot(env, argv[0], &slot) && bridge::raw_bytes(env, argv[1], &bytes, &len)) {
    r = self->loop_->write(slot, bytes, len);
  }
  return bridge::small_number(env, r);
}

// ---- LoopSink ----

uint8_t* NativeLoop::new_slab(size_t size) {
  void* data = nullptr;
  napi_value buf;
  if (napi_create_buffer(env_, size, &data, &buf) != napi_ok) return nullptr;
  if (slab_ref_ != nullptr) napi_delete_reference(env_, slab_ref_);
  slab_ref_ = nullptr;
  napi_create_reference(env_, buf, 1, &slab_ref_);
  return static_cast<uint8_t*>(data);
}

void NativeLoop::deliver(const Record* records, int count) {
  if (closed_ || count <= 0 || records_ == nullptr) return;
  count = std::min(count, Loop::kMaxRecords);
  std::memcpy(records_, records, static_cast<size_t>(count) * sizeof(Record));
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  napi_value fn = nullptr, self = nullptr, argv[2] = {nullptr, nullptr}, result;
  napi_get_reference_value(env_, callback_, &fn);
  napi_get_reference_value(env_, static_cast<napi_ref>(*this), &self);
  napi_create_int32(env_, count, &argv[0]);
  if (slab_ref_ != nullptr) napi_get_reference_value(env_, slab_ref_, &argv[1]);
  if (argv[1] == nullptr) napi_get_undefined(env_, &argv[1]);
  if (fn != nullptr && self != nullptr &&
      napi_make_callback(env_, async_ctx_, self, fn, 2, argv, &result) != napi_ok) {
    take_exception();
  }
  napi_close_handle_scope(env_, scope);
}

// Keeps the first exception a callback threw; later ones in the same
// dispatch are dropped (the first one is the cause).
void NativeLoop::take_exception() {
  bool pending = false;
  if (napi_is_exception_pending(env_, &pending) != napi_ok || !pending) return;
  napi_value err;
  if (napi_get_and_clear_last_exception(env_, &err) != napi_ok) return;
  if (error_ref_ == nullptr) napi_create_reference(env_, err, 1, &error_ref_);
}

// ---- watching ----

Napi::Value NativeLoop::Start(const Napi::CallbackInfo&) {
  if (closed_) return num(-EBADF);
  if (started_) return num(0);
  int fd = loop_->poller().pollable_fd();
  int r = fd >= 0 ? start_poll(fd) : start_waiter();
  if (r < 0) return num(r);
  started_ = true;
  refresh_ref();
  return num(0);
}

int NativeLoop::start_poll(int fd) {
  if (poll_ == nullptr) {
    auto* h = new uv_poll_t;
    int r = uv_poll_init(uv_loop_, h, fd);
    if (r < 0) {
      delete h;
      return r;
    }
    h->data = this;
    poll_ = h;
  }
  return uv_poll_start(poll_, UV_READABLE, on_poll);
}

int NativeLoop::start_waiter() {
  auto* h = new uv_async_t;
  int r = uv_async_init(uv_loop_, h, on_async);
  if (r < 0) {
    delete h;
    return r;
  }
  h->data = this;
  async_ = h;
  waiter_ = std::make_unique<Waiter>(&loop_->poller(), [h] { uv_async_send(h); });
  return 0;
}

Napi::Value NativeLoop::Stop(const Napi::CallbackInfo&) {
  if (closed_) return num(-EBADF);
  if (!started_) return num(0);
  started_ = false;
  if (poll_ != nullptr) uv_poll_stop(poll_);
  if (waiter_) {
    waiter_->stop();
    // Loop::process may still be reading this waiter's events.
    retired_waiter_ = std::move(waiter_);
    if (depth_ == 0) retired_waiter_.reset();
  }
  close_handle(&async_, nullptr);
  refresh_ref();
  return num(0);
}

void NativeLoop::on_poll(uv_poll_t* h, int status, int) {
  auto* self = static_cast<NativeLoop*>(h->data);
  if (status < 0) {
    // The poller fd itself failed; stop rather than spin on the error.
    uv_poll_stop(h);
    return;
  }
  self->dispatch_ready();
}

void NativeLoop::on_async(uv_async_t* h) { static_cast<NativeLoop*>(h->data)->dispatch_waiter(); }

void NativeLoop::dispatch_ready() {
  if (closed_ || !loop_) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  drain(0);
  after_dispatch(true);
  napi_close_handle_scope(env_, scope);
}

// Waits and processes; while a wait comes back full, waits again with timeout
// 0, but at most kDrainRounds times: with more level-triggered fds ready than
// a batch holds, every wait comes back full (the kernel re-queues them), so an
// unbounded drain would never return. The uv_poll fires again next turn.
int NativeLoop::drain(int timeout_ms) {
  ++depth_;
  int total = 0;
  for (int round = 0; round < kDrainRounds; ++round) {
    int n = loop_->poller().wait(timeout_ms, events_.data(), static_cast<int>(events_.size()));
    if (n < 0) {
      total = total > 0 ? total : n;
      break;
    }
    loop_->process(events_.data(), n);
    total += n;
    if (n < static_cast<int>(events_.size()) || closed_) break;
    timeout_ms = 0;
  }
  --depth_;
  return total;
}

void NativeLoop::dispatch_waiter() {
  if (closed_ || !loop_ || !waiter_) return;
  const PollEvent* events = nullptr;
  int n = waiter_->take(&events);
  if (n <= 0) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  ++depth_;
  loop_->process(events, n);
  --depth_;
  if (waiter_) waiter_->done();
  after_dispatch(true);
  napi_close_handle_scope(env_, scope);
}

// After a batch: finish a close requested inside it, re-evaluate the ref
// (callbacks may have removed registrations), and surface a callback's
// exception: uncaughtException from libuv, a throw from pollOnce().
void NativeLoop::after_dispatch(bool top_level) {
  if (depth_ > 0) return;
  retired_waiter_.reset();
  if (close_pending_) {
    close_pending_ = false;
    shutdown(nullptr);
  } else {
    refresh_ref();
  }
  if (error_ref_ == nullptr) return;
  napi_value err = nullptr;
  napi_get_reference_value(env_, error_ref_, &err);
  napi_delete_reference(env_, error_ref_);
  error_ref_ = nullptr;
  if (err == nullptr) return;
  if (top_level) {
    napi_fatal_exception(env_, err);
  } else {
    napi_throw(env_, err);
  }
}

void NativeLoop::refresh_ref() {
  bool want = started_ && !closed_ && loop_ && loop_->refcount() > 0;
  uv_handle_t* h = poll_ != nullptr ? reinterpret_cast<uv_handle_t*>(poll_)
                                    : reinterpret_cast<uv_handle_t*>(async_);
  if (h != nullptr) {
    if (want) {
      uv_ref(h);
    } else {
      uv_unref(h);
    }
  }
  if (want == strong_) return;
  napi_ref self = static_cast<napi_ref>(*this);
  uint32_t count = 0;
  napi_status st = want ? napi_reference_ref(env_, self, &count) : napi_reference_unref(env_, self, &count);
  if (st == napi_ok) strong_ = want;
}

Napi::Value NativeLoop::PollOnce(const Napi::CallbackInfo& info) {
  if (closed_) return num(-EBADF);
  int64_t timeout = 0;
  if (!int_arg(info, 0, -1, INT32_MAX, &timeout)) return num(-EINVAL);
  // Re-entry from a callback, or racing the waiter thread for the poller.
  if (depth_ > 0 || waiter_) return num(-EBUSY);
  int r = drain(static_cast<int>(timeout));
  after_dispatch(false);
  return num(r);
}

// ---- shutdown ----

Napi::Value NativeLoop::Close(const Napi::CallbackInfo&) {
  if (closed_) return num(0);
  if (depth_ > 0) {
    closed_ = true;  // later calls fail at once; the Loop goes when the dispatch unwinds
    close_pending_ = true;
    return num(0);
  }
  shutdown(nullptr);
  return num(0);
}

void NativeLoop::on_teardown(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* self = static_cast<NativeLoop*>(arg);
  self->hook_ = nullptr;  // Node hands the hook to us; shutdown releases it
  self->shutdown(handle);
}

// Stops the waiter, closes the uv handles, destroys the Loop (closing the fds
// it owns) and drops every JS reference. With `teardown`, the hook is
// released once the handles are really closed.
void NativeLoop::shutdown(napi_async_cleanup_hook_handle teardown) {
  closed_ = true;
  started_ = false;
  if (waiter_) waiter_->stop();
  auto* group = new CloseGroup;
  group->hook = teardown;
  close_handle(&poll_, group);
  close_handle(&async_, group);
  if (group->pending == 0) release_group(group);
  waiter_.reset();
  retired_waiter_.reset();
  loop_.reset();
  if (hook_ != nullptr && teardown == nullptr) napi_remove_async_cleanup_hook(hook_);
  hook_ = nullptr;
  if (strong_) {
    uint32_t count = 0;
    napi_reference_unref(env_, static_cast<napi_ref>(*this), &count);
    strong_ = false;
  }
  release_js();
}

void NativeLoop::release_js() {
  for (napi_ref* r : {&callback_, &records_ref_, &slab_ref_, &error_ref_}) {
    if (*r != nullptr) napi_delete_reference(env_, *r);
    *r = nullptr;
  }
  records_ = nullptr;
  if (async_ctx_ != nullptr) napi_async_destroy(env_, async_ctx_);
  async_ctx_ = nullptr;
}

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

// refcount() goes through the extension registry (bridge_loop.h), so the
// path other bridge files use is exercised by the tests of this one.
namespace {
Napi::Value Refcount(NativeLoop&, Loop& loop, const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(loop.refcount()));
}
const LoopMethods core_extensions({{"refcount", &Refcount}});
}  // namespace

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
  if (!closed_) s = loop_->stats();
  out.Set("wakeups", static_cast<double>(s.wakeups));
  out.Set("events", static_cast<double>(s.events));
  out.Set("accepts", static_cast<double>(s.accepts));
  out.Set("acceptBatches", static_cast<double>(s.accept_batches));
  out.Set("deliveries", static_cast<double>(s.deliveries));
  return out;
}

Napi::Function define_native_loop(Napi::Env env) { return NativeLoop::Define(env); }

}  // namespace ioreactor
