// The Node side of the native core: the NativeLoop class (bridge.cc) that
// wraps a Loop for JavaScript. addon.cc calls define_native_loop() once per
// Node environment (main thread or Worker); nothing here is static JS state.
#ifndef IOREACTOR_BRIDGE_H
#define IOREACTOR_BRIDGE_H

#include <napi.h>

namespace ioreactor {

// The NativeLoop constructor for this environment, typed in lib/native.ts.
Napi::Function define_native_loop(Napi::Env env);

}  // namespace ioreactor

#endif  // IOREACTOR_BRIDGE_H
