// Argument checks for the bridge (see bridge_args.h).
#include "bridge_args.h"

#include <climits>
#include <cmath>

namespace ioreactor {
namespace bridge {

bool int_arg(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, int64_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) return false;
  *out = static_cast<int64_t>(d);
  return true;
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

// A Uint8Array or Buffer; Data() already points at the view's byte offset.
bool bytes_arg(Napi::Value v, const uint8_t** data, size_t* len) {
  if (!v.IsTypedArray()) return false;
  auto ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return false;
  auto u8 = v.As<Napi::Uint8Array>();
  *data = u8.Data();
  *len = u8.ByteLength();
  return true;
}

}  // namespace bridge
}  // namespace ioreactor
