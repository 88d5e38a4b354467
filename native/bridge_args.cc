// Argument checks for the bridge (see bridge_args.h).
#include "bridge_args.h"

#include <climits>
#include <cmath>

namespace ioreactor {
namespace bridge {

// One napi_get_value_double answers both questions: it refuses anything but
// a number (no coercion) and leaves no exception pending; IsNumber() first
// was a napi_typeof more per argument.
bool int_value(Napi::Value v, int64_t lo, int64_t hi, int64_t* out) {
  double d = 0;
  if (v.IsEmpty() || napi_get_value_double(v.Env(), v, &d) != napi_ok) return false;
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

bool int_arg(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, int64_t* out) {
  return info.Length() > i && int_value(info[i], lo, hi, out);
}

bool slot_arg(const Napi::CallbackInfo& info, size_t i, int32_t* out) {
  int64_t v = 0;
  if (!int_arg(info, i, 0, INT32_MAX, &v)) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

bool bool_arg(const Napi::CallbackInfo& info, size_t i, bool* out) {
  if (info.Length() <= i || !info[i].IsBoolean()) return false;
  *out = info[i].As<Napi::Boolean>().Value();
  return true;
}

bool string_arg(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) return false;
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

// A Uint8Array or Buffer: one napi_get_typedarray_info answers all of it
// (Napi::TypedArray would make three); data already includes the view's
// byte offset.
bool bytes_arg(Napi::Value v, const uint8_t** data, size_t* len) {
  return raw_bytes(v.Env(), v, data, len);
}

bool raw_bytes(napi_env env, napi_value v, const uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  size_t length = 0;
  void* p = nullptr;
  if (v == nullptr || napi_get_typedarray_info(env, v, &type, &length, &p, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  *data = static_cast<const uint8_t*>(p);
  *len = length;
  return true;
}

bool raw_slot(napi_env env, napi_value v, int32_t* out) {
  double d = 0;
  if (v == nullptr || napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= 0 && d <= INT32_MAX) || std::trunc(d) != d) return false;
  *out = static_cast<int32_t>(d);
  return true;
}

napi_value small_number(napi_env env, int64_t v) {
  napi_value out = nullptr;
  if (v >= INT32_MIN && v <= INT32_MAX) {
    napi_create_int32(env, static_cast<int32_t>(v), &out);
  } else {
    napi_create_double(env, static_cast<double>(v), &out);
  }
  return out;
}

}  // namespace bridge
}  // namespace ioreactor
