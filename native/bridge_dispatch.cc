// NativeLoop dispatch: the LoopSink side (slabs, records delivered with one
// napi_call_function, short reads copied into keep chunks on the way) and the
// uv callbacks that wait, process and drain.
//
// Why napi_call_function and not napi_make_callback: what protocol code
// queues in a batch (process.nextTick, promise reactions, so Deferreds fired
// from them) must run before the next I/O wake-up. napi_make_callback's
// callback scope drains those queues as it closes, but so does the scope Node
// opens in the check phase of every loop iteration (native immediates), which
// follows the prepare and poll phases our uv callbacks run in: the second drain per
// wake-up cost ~780 instructions of ~7,800 per one-event round trip
// (bench/PERFORMANCE.md). What is lost: async_hooks see no resource of ours
// around the callbacks (the project offers no async context). Between drain
// rounds of one wake-up, when a wait came back full, drain_js_queues() opens a
// scope just to drain, so a protocol's queued reaction (pauseProducing after
// an await) still lands before the next wait.
//
// The exception is the own-set wait (bridge_wait.cc), which serves several
// wake-ups before libuv's check phase: there the crossing is a
// napi_make_callback on the loop's async resource (call()), so its scope
// drains as it closes. Callbacks then run in that resource's context: an
// AsyncLocalStorage store current when the reactor was made is current in
// them, as a Node server's is in its sockets' callbacks; on the other paths
// (the default wait, a second reactor, pollOnce) none is.
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>

#include "bridge_args.h"
#include "bridge_loop.h"
#include "poller.h"
#include "ws_frames.h"

namespace ioreactor {
namespace {

using bridge::int_arg;

}  // namespace

// ---- LoopSink ----

uint8_t* NativeLoop::new_slab(size_t size) {
  void* data = nullptr;
  napi_value buf;
  if (napi_create_buffer(env_, size, &data, &buf) != napi_ok) return nullptr;
  if (slab_ref_ != nullptr) napi_delete_reference(env_, slab_ref_);
  slab_ref_ = nullptr;
  napi_create_reference(env_, buf, 1, &slab_ref_);
  slab_data_ = static_cast<uint8_t*>(data);
  return slab_data_;
}

// Short reads go out as copies in a keep chunk, so a protocol that keeps one
// holds the chunk alive and not the slab (lib/reactor/received.ts says why;
// here the copy is a memcpy, in JS it was two typed arrays and a set). When
// the chunk fills mid-batch the batch goes on in a fresh one, still in one
// crossing: the chunks after the first go to JS as a fourth argument (an
// array) and a record says which by its offset (chunk index * kKeepSize +
// offset). Before, the rest of the batch stayed views of the slab for the JS
// copier (~650 instructions and two typed arrays each): at 1,000 WebSocket
// connections a batch of ~100-300 70-byte reads overran the 16 KiB chunk
// and about half of them went that way.
void NativeLoop::deliver(const Record* records, int count) {
  if (closed_ || count <= 0 || records_ == nullptr) return;
  count = std::min(count, Loop::kMaxRecords);
  copy_short_reads(records, count);
  call_js(count);
  release_batch_keeps();
}

// Copies records into records_, short kRecData ones turned into kRecDataKept
// (into as many chunks as they need; without memory for one a record stays
// a view of the slab).
void NativeLoop::copy_short_reads(const Record* records, int count) {
  bool used = false;  // a record of this batch is in the current chunk
  for (int n = 0; n < count; ++n) {
    Record r = records[n];
    auto len = static_cast<size_t>(r.b);
    if (r.type == kRecData && r.b <= kKeepUpTo && slab_data_ != nullptr) {
      if (keep_data_ == nullptr || kKeepSize - keep_used_ < len) {
        if (used) {  // filled by this batch: JS still needs it
          batch_keeps_.push_back(keep_ref_);
          keep_ref_ = nullptr;
        }
        new_keep();
        used = false;
      }
      if (keep_data_ != nullptr) {
        bool frame = copy_kept(r, keep_data_ + keep_used_);
        size_t at = batch_keeps_.size() * kKeepSize + keep_used_;
        r = Record{frame ? kRecFrameKept : kRecDataKept, r.slot, r.gen, static_cast<int32_t>(at), r.b};
        keep_used_ += len;
        used = true;
      }
    }
    std::memcpy(records_ + static_cast<size_t>(n) * kRecordInts, &r, sizeof(Record));
  }
}

// Copies a short read to `dst`; on a connection whose WebSocket protocol
// asked for it (unmask_frames), a read that is one whole masked data frame
// comes out unmasked (ws_frames.h) and the result is true.
bool NativeLoop::copy_kept(const Record& r, uint8_t* dst) const {
  auto len = static_cast<size_t>(r.b);
  auto slot = static_cast<size_t>(r.slot);
  if (slot < unmask_gen_.size() && unmask_gen_[slot] == static_cast<uint32_t>(r.gen)) {
    return ws::copy_unmasking(dst, slab_data_ + r.a, len);
  }
  std::memcpy(dst, slab_data_ + r.a, len);
  return false;
}

// Reads of (slot, gen) are unmasked in the copy from now on (or no longer).
// Kept by slot with the generation, so a reused slot starts without it.
void NativeLoop::unmask_frames(int32_t slot, uint32_t gen, bool on) {
  auto i = static_cast<size_t>(slot);
  if (!on) {
    if (i < unmask_gen_.size() && unmask_gen_[i] == gen) unmask_gen_[i] = 0;
    return;
  }
  if (i >= unmask_gen_.size()) unmask_gen_.resize(std::max(i + 1, unmask_gen_.size() * 2), 0);
  unmask_gen_[i] = gen;
}

// Lets go of the chunks this batch filled before its current one.
void NativeLoop::release_batch_keeps() {
  for (napi_ref ref : batch_keeps_) napi_delete_reference(env_, ref);
  batch_keeps_.clear();
}

// A fresh keep chunk, uninitialised: every byte handed out is written first.
void NativeLoop::new_keep() {
  if (keep_ref_ != nullptr) napi_delete_reference(env_, keep_ref_);
  keep_ref_ = nullptr;
  keep_data_ = nullptr;
  keep_used_ = 0;
  void* data = nullptr;
  napi_value buf;
  if (napi_create_buffer(env_, kKeepSize, &data, &buf) != napi_ok) return;
  if (napi_create_reference(env_, buf, 1, &keep_ref_) != napi_ok) return;
  keep_data_ = static_cast<uint8_t*>(data);
}

// One crossing into JS with the first `count` records of records_, the slab
// and the keep chunk(s).
void NativeLoop::call_js(int count) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  napi_value fn = nullptr, self = nullptr, argv[4] = {nullptr, nullptr, nullptr, nullptr}, result;
  napi_get_reference_value(env_, callback_, &fn);
  napi_get_reference_value(env_, static_cast<napi_ref>(*this), &self);
  napi_create_int32(env_, count, &argv[0]);
  if (slab_ref_ != nullptr) napi_get_reference_value(env_, slab_ref_, &argv[1]);
  keep_args(&argv[2], &argv[3]);
  for (napi_value& v : argv) {
    if (v == nullptr) napi_get_undefined(env_, &v);
  }
  if (fn != nullptr && self != nullptr && call(self, fn, argv, &result) != napi_ok) take_exception();
  napi_close_handle_scope(env_, scope);
}

// The crossing itself: in a callback scope of ours, which drains the JS
// queues as it closes, while wait_here() may wait again before libuv's check
// phase would drain them (bridge_wait.cc); otherwise without.
napi_status NativeLoop::call(napi_value self, napi_value fn, napi_value* argv, napi_value* result) {
  if (scoped_calls_) return napi_make_callback(env_, async_ctx_, self, fn, 4, argv, result);
  return napi_call_function(env_, self, fn, 4, argv, result);
}

// The batch's first keep chunk, and (when it filled more than one) an
// array of the others in order, the current one last.
void NativeLoop::keep_args(napi_value* first, napi_value* more) {
  if (batch_keeps_.empty()) {
    if (keep_ref_ != nullptr) napi_get_reference_value(env_, keep_ref_, first);
    return;
  }
  napi_get_reference_value(env_, batch_keeps_[0], first);
  size_t n = batch_keeps_.size();
  if (napi_create_array_with_length(env_, n, more) != napi_ok) return;
  for (size_t i = 1; i <= n; ++i) {
    napi_value chunk = nullptr;
    napi_get_reference_value(env_, i < n ? batch_keeps_[i] : keep_ref_, &chunk);
    if (chunk != nullptr) napi_set_element(env_, *more, static_cast<uint32_t>(i - 1), chunk);
  }
}

// Runs what JS queued (nextTicks, microtasks): a callback scope does it as it
// closes; inside an outer scope (pollOnce from JS) that one does it later.
void NativeLoop::drain_js_queues() {
  napi_value self = nullptr;
  napi_callback_scope scope;
  if (napi_get_reference_value(env_, static_cast<napi_ref>(*this), &self) != napi_ok || self == nullptr) return;
  if (napi_open_callback_scope(env_, self, async_ctx_, &scope) != napi_ok) return;
  napi_close_callback_scope(env_, scope);
  take_exception();
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
    int ours = without_libuv(events_.data(), n);
    // The adaptive window's gate (coalesce_gate.h), before the batch runs.
    if (ours > 0 && adaptive_ && gate_.note(events_.data(), ours)) {
      gate_.end_epoch(static_cast<int64_t>(uv_hrtime()));
    }
    if (ours > 0) process_batch(events_.data(), ours);
    total += ours;
    if (n < static_cast<int>(events_.size()) || closed_) break;
    timeout_ms = 0;
    if (!scoped_calls_) drain_js_queues();  // scoped crossings drained already
  }
  --depth_;
  return total;
}

// Drops libuv's own event (bridge_wait.cc) from a batch: it only ended the
// wait, and counted it would make every timer or Node socket a wake-up of
// the loop's; libuv_ready_ says it came. Returns how many events are left.
int NativeLoop::without_libuv(PollEvent* events, int n) {
  if (prepare_ == nullptr) return n;
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    if (events[i].token != kLibuvWakeToken) {
      events[kept++] = events[i];
    } else {
      libuv_ready_ = true;
    }
  }
  return kept;
}

void NativeLoop::dispatch_waiter() {
  if (closed_ || !loop_ || !waiter_) return;
  const PollEvent* events = nullptr;
  int n = waiter_->take(&events);
  if (n < 0) return;
  if (n == 0) {
    waiter_->done();  // a bare wake-up: let the thread poll the new set
    return;
  }
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  ++depth_;
  process_batch(events, n);
  --depth_;
  if (waiter_) waiter_->done();
  after_dispatch(true);
  napi_close_handle_scope(env_, scope);
}

// Runs a batch through the Loop. Nothing may throw into libuv, or past
// pollOnce's caller unhandled: an allocation failing inside (bad_alloc from a
// growing slot table) becomes the batch's JS error, surfaced by
// after_dispatch as a callback's exception would be.
void NativeLoop::process_batch(const PollEvent* events, int count) {
  try {
    loop_->process(events, count);
  } catch (const std::exception& e) {
    keep_error(e.what());
  } catch (...) {
    keep_error("unknown exception");
  }
}

void NativeLoop::keep_error(const char* what) {
  if (error_ref_ != nullptr) return;
  char text[256];
  std::snprintf(text, sizeof text, "ioreactor: the native loop failed: %s", what);
  napi_value msg = nullptr, err = nullptr;
  if (napi_create_string_utf8(env_, text, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env_, nullptr, msg, &err) != napi_ok) {
    return;
  }
  napi_create_reference(env_, err, 1, &error_ref_);
}

// After a batch: finish a close requested inside it, re-evaluate the ref
// (callbacks may have removed registrations), and surface a callback's
// exception: uncaughtException from libuv, a throw from pollOnce().
void NativeLoop::after_dispatch(bool top_level) {
  if (depth_ > 0) return;
  retired_waiter_.reset();
  arm_trim();
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
  uv_handle_t* h = prepare_ != nullptr && uv_is_active(reinterpret_cast<uv_handle_t*>(prepare_))
                      ? reinterpret_cast<uv_handle_t*>(prepare_)
                  : poll_ != nullptr ? reinterpret_cast<uv_handle_t*>(poll_)
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

int NativeLoop::poll_once(int timeout_ms) {
  // Re-entry from a callback, or racing the waiter thread for the poller.
  if (depth_ > 0 || waiter_) return -EBUSY;
  int r = drain(timeout_ms);
  after_dispatch(false);
  return r;
}

namespace {

// pollOnce(timeoutMs) -> events processed | -errno
Napi::Value PollOnce(MethodCall& call) {
  int64_t timeout = 0;
  if (!int_arg(call.info, call.arg(0), -1, INT32_MAX, &timeout)) return call.num(-EINVAL);
  return call.num(call.self.poll_once(static_cast<int>(timeout)));
}

const LoopMethods dispatch_methods({{"pollOnce", Takes::kLoop, &PollOnce}});

}  // namespace
}  // namespace ioreactor
