// NativeLoop, the JS object over a Loop (bridge.cc has the design note), and
// the one registry every one of its JS methods goes through. Each bridge file
// registers its methods with a LoopMethods object at namespace scope, e.g.
//
//   Napi::Value Spawn(MethodCall& call);
//   const LoopMethods process_methods({{"spawn", Takes::kLoop, &Spawn}});
//
// The registry checks what the method takes before calling it, so no method
// repeats the checks: an open loop (a closed one answers -EBADF), and for a
// method on one registration its handle, (slot, generation) as the first two
// arguments, which must name a live registration of this loop: a handle kept
// past remove() or past the loop's close never reaches the slot's next
// tenant. refresh_ref() runs after each call, so a method that adds or
// removes registrations needs no bookkeeping of its own. Each object gets
// every entry as an own property, a plain napi function bound to it
// (bridge_methods.cc): a call finds its loop without napi_unwrap.
#ifndef IOREACTOR_BRIDGE_LOOP_H
#define IOREACTOR_BRIDGE_LOOP_H

#include <napi.h>
#include <uv.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "bridge_waiter.h"
#include "coalesce_gate.h"
#include "loop.h"

namespace ioreactor {

class NativeLoop;

// The token of libuv's epoll fd in our set while we wait there (bridge_wait.cc):
// slot 0 with generation 0, which no registration ever has. Its event only
// ends the wait; drain() drops it before the loop sees the batch.
constexpr uint64_t kLibuvWakeToken = 0;

// The longest coalescing window start() accepts, in µs: below libuv's 1 ms
// timer granularity, so a window never delays a timer by a whole tick.
constexpr int64_t kMaxCoalesceMicros = 1000;

// What the registry checks before a method runs.
enum class Takes : uint8_t {
  kAnyState,  // nothing: runs on a closed loop too (close, stats); call.loop may be null
  kLoop,      // an open loop
  kSlot,      // an open loop and a live (slot, gen) handle in arguments 0 and 1
};

// One call of a registered method: the object, its Loop, the JS arguments and,
// for Takes::kSlot, the checked slot. The method's own arguments start at
// arg(0) (after the handle for kSlot methods).
struct MethodCall {
  NativeLoop& self;
  Loop* loop;
  const Napi::CallbackInfo& info;
  int32_t slot = -1;
  size_t first = 0;

  size_t arg(size_t i) const { return first + i; }
  Napi::Value num(double v) const { return Napi::Number::New(info.Env(), v); }
};

// A NativeLoop method. Returns what JS gets.
using LoopMethod = Napi::Value (*)(MethodCall& call);

struct LoopMethodEntry {
  const char* name;
  Takes takes;
  LoopMethod fn;
};

// One registry entry bound to one NativeLoop: the data of the napi function
// that is the method's own property on the object (bridge_methods.cc).
struct BoundMethod {
  NativeLoop* self;
  const LoopMethodEntry* entry;
};

// Registers methods while the addon is loaded (static initialisation, before
// any environment defines the class). Not JS state: names and function
// pointers only.
class LoopMethods {
 public:
  LoopMethods(std::initializer_list<LoopMethodEntry> entries);
  static const std::vector<LoopMethodEntry>& all();
};

class NativeLoop : public Napi::ObjectWrap<NativeLoop>, public LoopSink {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeLoop(const Napi::CallbackInfo& info);
  ~NativeLoop() override;

  uint8_t* new_slab(size_t size) override;
  void deliver(const Record* records, int count) override;

  // Re-evaluates whether the uv handle (and this object) keeps Node alive;
  // the registry calls it after each method.
  void refresh_ref();

  // ---- lifecycle, for the methods that bridge_lifecycle.cc and
  // bridge_dispatch.cc register: 0 or -errno ----
  // in_libuv: be watched inside libuv's set even when this loop could wait
  // in its own (bridge_wait.cc), so that Node's loop idle time stays exact.
  // coalesce_us: the own-set wait's coalescing window (bridge_wait.cc), 0 off;
  // adaptive: only while the gate is open (coalesce_gate.h); cork_writes:
  // Loop::set_cork_writes.
  int start(bool in_libuv = false, int coalesce_us = 0, bool adaptive = false, bool cork_writes = false);
  int stop();
  int close();
  int poll_once(int timeout_ms);
  bool closed() const { return closed_; }
  // Sleeps the coalescing window took (drain_coalesced), for stats().
  uint64_t coalesce_sleeps() const { return coalesce_sleeps_; }

  // True when (slot, gen) names a live registration of this open loop; the
  // one check behind every method on a registration, write() included.
  bool live(int32_t slot, int64_t gen) const;
  // Short reads of (slot, gen) that are one whole masked WebSocket frame
  // reach JS unmasked, as kRecFrameKept (bridge_dispatch.cc), while `on`.
  void unmask_frames(int32_t slot, uint32_t gen, bool on);

 private:
  // The one napi callback of every registered method (its data is a
  // BoundMethod), and the checks it runs before the method (bridge_methods.cc).
  static napi_value CallBound(napi_env env, napi_callback_info raw);
  Napi::Value Call(const LoopMethodEntry& entry, const Napi::CallbackInfo& info);
  // write(bytes) with writeArgs = [slot, gen], the one call made per echoed
  // message, as a raw napi_callback bound to this object that also skips
  // Napi::TypedArray (bridge.cc).
  static napi_value FastWrite(napi_env env, napi_callback_info info);
  // writeAt(arrayBuffer) with writeArgs = [slot, gen, offset, length]: the
  // same for a range of the buffer.
  static napi_value FastWriteAt(napi_env env, napi_callback_info info);
  // writeString(string) with writeArgs = [slot, gen]: write() of the
  // string's UTF-8 bytes, encoded in C++ rather than into a Buffer in JS.
  static napi_value FastWriteString(napi_env env, napi_callback_info info);
  // The fast writes' shared start: their one argument in *arg and their
  // loop, open with writeArgs in place; null when the call cannot go on,
  // with the answer to return in *fail (-EINVAL, or -EBADF once closed).
  static NativeLoop* fast_write_call(napi_env env, napi_callback_info info, napi_value* arg, napi_value* fail);
  int64_t checked_write(int32_t slot, int32_t gen, const uint8_t* bytes, size_t len);
  // Undefined (nullptr) for 0, all sent; else the number.
  static napi_value write_result(napi_env env, int64_t r);

  // ---- helpers ----
  void init_js_state(const Napi::CallbackInfo& info, const std::string& name);
  // Makes every method an own property of `self`, bound to this loop.
  void define_methods(Napi::Env env, Napi::Object self);

  // ---- watching and dispatch ----
  int start_poll(int fd);
  int start_waiter();
  // ---- our own wait in libuv's prepare phase (bridge_wait.cc) ----
  int start_own_wait();
  void stop_own_wait();
  static void on_prepare(uv_prepare_t* h);
  void wait_here();
  int libuv_timeout();
  bool wait_again(int* timeout_ms);
  int drain_coalesced(int timeout_ms);
  void precise_window(bool on);
  static void on_poll(uv_poll_t* h, int status, int events);
  static void on_async(uv_async_t* h);
  void dispatch_ready();
  int drain(int timeout_ms);
  int without_libuv(PollEvent* events, int n);
  void process_batch(const PollEvent* events, int count);
  void keep_error(const char* what);
  void dispatch_waiter();
  void after_dispatch(bool top_level);
  // ---- heap trimming after TLS bursts (heap_trim.h; bridge_trim.cc) ----
  void arm_trim();
  static void on_trim(uv_timer_t* h);
  void take_exception();
  void call_js(int count);
  bool copy_kept(const Record& r, uint8_t* dst) const;
  napi_status call(napi_value self, napi_value fn, napi_value* argv, napi_value* result);
  void drain_js_queues();

  // ---- short reads copied out of the slab (bridge_dispatch.cc) ----
  void copy_short_reads(const Record* records, int count);
  void new_keep();
  void keep_args(napi_value* first, napi_value* more);
  void release_batch_keeps();

  // ---- shutdown ----
  static void on_teardown(napi_async_cleanup_hook_handle handle, void* arg);
  void shutdown(napi_async_cleanup_hook_handle teardown);
  void release_js();

  napi_env env_ = nullptr;
  std::vector<BoundMethod> bound_;  // one per registry entry; filled once, never moved
  uv_loop_t* uv_loop_ = nullptr;
  std::unique_ptr<Loop> loop_;
  std::unique_ptr<Waiter> waiter_;
  std::unique_ptr<Waiter> retired_waiter_;  // stopped mid-dispatch; freed after it
  uv_poll_t* poll_ = nullptr;
  uv_prepare_t* prepare_ = nullptr;  // our own wait (bridge_wait.cc); ref'd as poll_ would be
  uv_idle_t* idle_ = nullptr;        // started with prepare_: keeps libuv's poll from blocking
  bool libuv_ready_ = false;         // libuv's fd ended the last wait (bridge_wait.cc)
  bool scoped_calls_ = false;        // crossings into JS drain the JS queues (wait_here)
  // Wake-ups served in one prepare callback before libuv gets a whole turn,
  // and the time after the callback's start within which the waits after the
  // first must end (bridge_wait.cc): together they bound how long an unref'd
  // setImmediate can wait. (1 ms was tried: at a fixed half rate it added
  // ~0.13 epoll_wait per request.)
  static constexpr int kWaitsPerTurn = 64;
  static constexpr int64_t kTurnLimitMs = 50;
  uint64_t turn_start_ms_ = 0;  // libuv's time when wait_here began
  // How long the own-set wait sleeps, when a wake-up's work is done and
  // nothing more is ready, before it waits again (0: it waits at once).
  long coalesce_ns_ = 0;
  // With `adaptive` (start()): the window applies only while the gate, fed
  // each own-set wake-up's events in drain(), is open.
  bool adaptive_ = false;
  CoalesceGate gate_;
  static constexpr long kWindowSlackNs = 1000;  // the thread's timer slack in the window's sleep
  long saved_slack_ns_ = 0;                     // the thread's own slack (0: not read yet)
  uint64_t coalesce_sleeps_ = 0;
  uv_async_t* async_ = nullptr;
  uv_timer_t* trim_timer_ = nullptr;  // unref'd: never keeps Node alive
  napi_ref callback_ = nullptr;   // weak: the function is kept by a property of this
  napi_ref records_ref_ = nullptr;
  napi_ref slab_ref_ = nullptr;
  napi_ref keep_ref_ = nullptr;   // the chunk short reads are copied into
  // Chunks this batch filled before the current one (held until its
  // crossing returns): record a = chunk index * kKeepSize + offset.
  std::vector<napi_ref> batch_keeps_;
  uint8_t* slab_data_ = nullptr;  // the slab last handed to the loop
  uint8_t* keep_data_ = nullptr;
  size_t keep_used_ = 0;
  // Reads up to kKeepUpTo bytes go out as copies in kKeepSize chunks: a kept
  // one holds 16 KiB alive, not a slab (lib/reactor/received.ts has the bound).
  static constexpr size_t kKeepSize = 16 * 1024;  // lib/native.ts KEEP_CHUNK
  static constexpr int32_t kKeepUpTo = 4 * 1024;
  // By slot: the generation whose short reads are unmasked in the copy
  // (unmask_frames), 0 for none (no registration has generation 0).
  std::vector<uint32_t> unmask_gen_;
  napi_ref error_ref_ = nullptr;  // first exception a callback threw in this dispatch
  napi_async_context async_ctx_ = nullptr;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  int32_t* records_ = nullptr;
  // write's two and writeAt's four arguments, in the records' ArrayBuffer
  // after them (JS: the `writeArgs` Int32Array); null once released, as records_.
  static constexpr size_t kWriteArgs = 4;
  // The longest string writeString() takes, in UTF-16 units (lib/native.ts
  // STRING_AT_ONCE): its UTF-8 form, at most 12 KiB, is encoded on the stack.
  // Were it below JS's figure, a write would come back -EMSGSIZE and close
  // its connection: test/poller.test.ts writes a string of exactly that many
  // three-byte characters to hold the two together.
  static constexpr size_t kStringAtOnce = 4096;
  int32_t* write_args_ = nullptr;
  static constexpr int kDrainRounds = Loop::kMaxDrainRounds;
  std::vector<PollEvent> events_ = std::vector<PollEvent>(Loop::kMaxRecords);
  int depth_ = 0;  // dispatches in progress (pollOnce inside a callback is refused)
  bool started_ = false;
  bool closed_ = false;
  bool close_pending_ = false;
  bool strong_ = false;
};

}  // namespace ioreactor

#endif  // IOREACTOR_BRIDGE_LOOP_H
