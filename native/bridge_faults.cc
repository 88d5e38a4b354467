// The fault table for JavaScript tests (see bridge_faults.h). Like the rest of
// the bridge, bad arguments give -EINVAL rather than a throw.
#include "bridge_faults.h"

#include <cerrno>
#include <climits>
#include <string>

#include "bridge_args.h"
#include "fault.h"

namespace ioreactor {
namespace {

bool call_arg(const Napi::CallbackInfo& info, fault::Call* out) {
  return info.Length() > 0 && info[0].IsString() &&
         fault::from_name(info[0].As<Napi::String>().Utf8Value(), out);
}

// An int32 argument, or `fallback` when it is absent.
bool int_arg(const Napi::CallbackInfo& info, size_t i, int fallback, int* out) {
  if (info.Length() <= i || info[i].IsUndefined()) {
    *out = fallback;
    return true;
  }
  int64_t v = 0;
  if (!bridge::int_arg(info, i, INT32_MIN, INT32_MAX, &v)) return false;
  *out = static_cast<int>(v);
  return true;
}

// setFault(name, errno, count, skip = 0): the next `count` calls (< 0: all)
// after `skip` fail with errno. Returns 0 or -EINVAL.
Napi::Value SetFault(const Napi::CallbackInfo& info) {
  fault::Call call;
  int err = 0, count = 0, skip = 0;
  bool ok = call_arg(info, &call) && int_arg(info, 1, 0, &err) && err > 0 &&
            int_arg(info, 2, 1, &count) && int_arg(info, 3, 0, &skip) && skip >= 0;
  if (ok) fault::set(call, err, count, skip);
  return Napi::Number::New(info.Env(), ok ? 0 : -EINVAL);
}

Napi::Value ClearFaults(const Napi::CallbackInfo& info) {
  fault::clear();
  return info.Env().Undefined();
}

// faultHits(name): failures injected into that call since clearFaults().
Napi::Value FaultHits(const Napi::CallbackInfo& info) {
  fault::Call call;
  if (!call_arg(info, &call)) return Napi::Number::New(info.Env(), -EINVAL);
  return Napi::Number::New(info.Env(), static_cast<double>(fault::hits(call)));
}

}  // namespace

void define_fault_api(Napi::Env env, Napi::Object exports) {
  exports.Set("setFault", Napi::Function::New(env, SetFault, "setFault"));
  exports.Set("clearFaults", Napi::Function::New(env, ClearFaults, "clearFaults"));
  exports.Set("faultHits", Napi::Function::New(env, FaultHits, "faultHits"));
}

}  // namespace ioreactor
