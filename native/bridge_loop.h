// NativeLoop, the JS object over a Loop (bridge.cc has the design note). It is
// declared here so that other bridge files can add methods without editing
// the class: a LoopMethods object at namespace scope registers them, e.g.
//
//   Napi::Value Spawn(NativeLoop& self, Loop& loop, const Napi::CallbackInfo& info);
//   const LoopMethods process_methods({{"spawn", &Spawn}});
//
// An extension method is only called on an open loop (a closed one answers
// -EBADF for it), and refresh_ref() runs after it, so a method that adds or
// removes registrations needs no bookkeeping of its own.
#ifndef IOREACTOR_BRIDGE_LOOP_H
#define IOREACTOR_BRIDGE_LOOP_H

#include <napi.h>
#include <uv.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "bridge_waiter.h"
#include "loop.h"

namespace ioreactor {

class NativeLoop;

// A NativeLoop method defined outside bridge.cc. Returns what JS gets.
using LoopMethod = Napi::Value (*)(NativeLoop& self, Loop& loop, const Napi::CallbackInfo& info);

struct LoopMethodEntry {
  const char* name;
  LoopMethod fn;
};

// Registers extension methods while the addon is loaded (static
// initialisation, before any environment defines the class). Not JS state:
// names and function pointers only.
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
  // extension methods get it called for them after each call.
  void refresh_ref();

 private:
  // ---- JS methods (typed in lib/native.ts) ----
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value PollOnce(const Napi::CallbackInfo& info);
  Napi::Value AddRaw(const Napi::CallbackInfo& info);
  Napi::Value ModifyRaw(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value Generation(const Napi::CallbackInfo& info);
  Napi::Value FdOf(const Napi::CallbackInfo& info);
  Napi::Value SetRef(const Napi::CallbackInfo& info);
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value SetAcceptBatch(const Napi::CallbackInfo& info);
  Napi::Value ResumeAccepting(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value AdoptStream(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Writev(const Napi::CallbackInfo& info);
  Napi::Value Buffered(const Napi::CallbackInfo& info);
  Napi::Value ShutdownWrite(const Napi::CallbackInfo& info);
  Napi::Value PauseReading(const Napi::CallbackInfo& info);
  Napi::Value ResumeReading(const Napi::CallbackInfo& info);
  Napi::Value SetNoDelay(const Napi::CallbackInfo& info);
  Napi::Value SetKeepAlive(const Napi::CallbackInfo& info);
  Napi::Value LocalAddress(const Napi::CallbackInfo& info);
  Napi::Value PeerAddress(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value CallExtension(const Napi::CallbackInfo& info);
  // write() again, as a raw napi_callback bound to this object (see bridge.cc).
  static napi_value FastWrite(napi_env env, napi_callback_info info);

  // ---- helpers ----
  Napi::Value num(double v) { return Napi::Number::New(Env(), v); }
  template <typename Fn>
  Napi::Value with_slot(const Napi::CallbackInfo& info, Fn fn);
  template <typename Fn>
  Napi::Value slot_bool(const Napi::CallbackInfo& info, Fn fn);
  Napi::Value address(const Napi::CallbackInfo& info, bool peer);
  void init_js_state(const Napi::CallbackInfo& info, const std::string& name);
  void define_fast_write(Napi::Env env, Napi::Object self);

  // ---- watching and dispatch ----
  int start_poll(int fd);
  int start_waiter();
  static void on_poll(uv_poll_t* h, int status, int events);
  static void on_async(uv_async_t* h);
  void dispatch_ready();
  int drain(int timeout_ms);
  void dispatch_waiter();
  void after_dispatch(bool top_level);
  void take_exception();

  // ---- shutdown ----
  static void on_teardown(napi_async_cleanup_hook_handle handle, void* arg);
  void shutdown(napi_async_cleanup_hook_handle teardown);
  void release_js();

  napi_env env_ = nullptr;
  uv_loop_t* uv_loop_ = nullptr;
  std::unique_ptr<Loop> loop_;
  std::unique_ptr<Waiter> waiter_;
  std::unique_ptr<Waiter> retired_waiter_;  // stopped mid-dispatch; freed after it
  uv_poll_t* poll_ = nullptr;
  uv_async_t* async_ = nullptr;
  napi_ref callback_ = nullptr;   // weak: the function is kept by a property of this
  napi_ref records_ref_ = nullptr;
  napi_ref slab_ref_ = nullptr;
  napi_ref error_ref_ = nullptr;  // first exception a callback threw in this dispatch
  napi_async_context async_ctx_ = nullptr;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  int32_t* records_ = nullptr;
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
