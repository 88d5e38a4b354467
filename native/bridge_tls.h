// The addon-level TLS export (bridge_tls.cc): contexts are built without a
// loop, so CertificateOptions can check keys and certificates when it is made.
#ifndef IOREACTOR_BRIDGE_TLS_H
#define IOREACTOR_BRIDGE_TLS_H

#include <napi.h>

namespace ioreactor {

// tlsContext(options): a context handle, a reason string, or -EINVAL.
Napi::Value tls_context_new(const Napi::CallbackInfo& info);

}  // namespace ioreactor

#endif  // IOREACTOR_BRIDGE_TLS_H
