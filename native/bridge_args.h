// Argument checks shared by the bridge files. JS callers get -EINVAL for a bad
// argument, never a throw: these only answer whether an argument is usable.
// Numbers must be plain, finite, integral and in range (no coercion: '1',
// true or 1.5 are refused), so a typo in JS cannot become a wrong fd.
#ifndef IOREACTOR_BRIDGE_ARGS_H
#define IOREACTOR_BRIDGE_ARGS_H

#include <napi.h>

#include <cstdint>
#include <string>

namespace ioreactor {
namespace bridge {

// v is an integral number in [lo, hi].
bool int_value(Napi::Value v, int64_t lo, int64_t hi, int64_t* out);
// info[i] is an integral number in [lo, hi].
bool int_arg(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, int64_t* out);
// info[i] is a slot index (0..INT32_MAX).
bool slot_arg(const Napi::CallbackInfo& info, size_t i, int32_t* out);
bool bool_arg(const Napi::CallbackInfo& info, size_t i, bool* out);
bool string_arg(const Napi::CallbackInfo& info, size_t i, std::string* out);
// A Uint8Array or Buffer view: its bytes, starting at the view's byte offset.
bool bytes_arg(Napi::Value v, const uint8_t** data, size_t* len);
// The same checks on raw napi values, for callbacks that skip node-addon-api
// (no exception is ever left pending): a slot, a Uint8Array's bytes.
bool raw_slot(napi_env env, napi_value v, int32_t* out);
bool raw_bytes(napi_env env, napi_value v, const uint8_t** data, size_t* len);
// A result as a JS number: a small integer when it fits (no heap number).
napi_value small_number(napi_env env, int64_t v);

}  // namespace bridge
}  // namespace ioreactor

#endif  // IOREACTOR_BRIDGE_ARGS_H
