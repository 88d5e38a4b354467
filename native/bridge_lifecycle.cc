// NativeLoop lifecycle: start() and stop() of the uv watching, close(), and
// shutdown() shared by close, the GC finalizer and environment teardown.
#include <uv.h>

#include <cerrno>
#include <memory>
#include <new>

#include "bridge_args.h"
#include "bridge_loop.h"
#include "poller.h"

namespace ioreactor {
namespace {

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
  } else if (h->type == UV_PREPARE) {
    delete reinterpret_cast<uv_prepare_t*>(h);
  } else if (h->type == UV_IDLE) {
    delete reinterpret_cast<uv_idle_t*>(h);
  } else if (h->type == UV_TIMER) {
    delete reinterpret_cast<uv_timer_t*>(h);
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

}  // namespace

// ---- watching ----

int NativeLoop::start(bool in_libuv, int coalesce_us, bool adaptive, bool cork_writes) {
  if (started_) return 0;
  loop_->set_cork_writes(cork_writes);
  coalesce_ns_ = static_cast<long>(coalesce_us) * 1000;
  int fd = loop_->poller().pollable_fd();
  // A pollable backend waits in its own set when it can and may
  // (bridge_wait.cc), else inside libuv's.
  int r = fd < 0 ? start_waiter() : in_libuv ? -EBUSY : start_own_wait();
  adaptive_ = adaptive && fd >= 0 && r == 0;  // the gate is fed by the own-set wait only
  gate_ = CoalesceGate(coalesce_ns_);
  if (fd >= 0 && r < 0) r = start_poll(fd);
  if (r < 0) return r;
  started_ = true;
  return 0;
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

int NativeLoop::stop() {
  if (!started_) return 0;
  started_ = false;
  if (poll_ != nullptr) uv_poll_stop(poll_);
  stop_own_wait();
  if (waiter_) {
    waiter_->stop();
    // Loop::process may still be reading this waiter's events.
    retired_waiter_ = std::move(waiter_);
    if (depth_ == 0) retired_waiter_.reset();
  }
  close_handle(&async_, nullptr);
  return 0;
}

// ---- shutdown ----

int NativeLoop::close() {
  if (closed_) return 0;
  if (depth_ > 0) {
    closed_ = true;  // later calls fail at once; the Loop goes when the dispatch unwinds
    close_pending_ = true;
    return 0;
  }
  shutdown(nullptr);
  return 0;
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
  stop_own_wait();
  // nothrow: this runs from the destructor and from Node's cleanup hook,
  // where an exception would abort. Without memory for the group the hook
  // is released now rather than when the handles are closed.
  auto* group = new (std::nothrow) CloseGroup;
  if (group != nullptr) {
    group->hook = teardown;
  } else if (teardown != nullptr) {
    napi_remove_async_cleanup_hook(teardown);
  }
  close_handle(&poll_, group);
  close_handle(&prepare_, group);
  close_handle(&idle_, group);
  close_handle(&async_, group);
  close_handle(&trim_timer_, group);
  if (group != nullptr && group->pending == 0) release_group(group);
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
  for (napi_ref* r : {&callback_, &records_ref_, &slab_ref_, &keep_ref_, &error_ref_}) {
    if (*r != nullptr) napi_delete_reference(env_, *r);
    *r = nullptr;
  }
  records_ = nullptr;
  write_args_ = nullptr;
  slab_data_ = nullptr;
  keep_data_ = nullptr;
  if (async_ctx_ != nullptr) napi_async_destroy(env_, async_ctx_);
  async_ctx_ = nullptr;
}

// ---- registered methods ----

namespace {

// start(inLibuv?: boolean, coalesceMicros?: 0..1000, adaptive?: boolean,
// corkWrites?: boolean) -> 0 | -errno: dispatch records from inside Node's
// loop; inLibuv keeps an epoll loop inside libuv's set; coalesceMicros is the
// own-set wait's window (bridge_wait.cc), adaptive opens it only while many
// connections are busy; corkWrites gathers the writes JS makes during a
// delivery into one send per stream at its end (loop_cork.cc).
Napi::Value Start(MethodCall& call) {
  bool in_libuv = false, adaptive = false, cork = false;
  int64_t coalesce_us = 0;
  size_t i = call.arg(0);
  auto given = [&call](size_t k) { return call.info.Length() > k && !call.info[k].IsUndefined(); };
  if ((given(i) && !bridge::bool_arg(call.info, i, &in_libuv)) ||
      (given(i + 1) && !bridge::int_arg(call.info, i + 1, 0, kMaxCoalesceMicros, &coalesce_us)) ||
      (given(i + 2) && !bridge::bool_arg(call.info, i + 2, &adaptive)) ||
      (given(i + 3) && !bridge::bool_arg(call.info, i + 3, &cork))) {
    return call.num(-EINVAL);
  }
  return call.num(call.self.start(in_libuv, static_cast<int>(coalesce_us), adaptive, cork));
}

// stop() -> 0 | -errno: stop watching; pollOnce still works.
Napi::Value Stop(MethodCall& call) { return call.num(call.self.stop()); }

// close() -> 0: closes the loop and every fd it owns; deferred while a dispatch runs.
Napi::Value Close(MethodCall& call) { return call.num(call.self.close()); }

const LoopMethods lifecycle_methods({
    {"start", Takes::kLoop, &Start},
    {"stop", Takes::kLoop, &Stop},
    {"close", Takes::kAnyState, &Close},
});

}  // namespace
}  // namespace ioreactor
