// Module entry point. The addon is context-aware: everything JS-facing lives
// in per-environment instance data (Napi::Addon), so it loads on the main
// thread and in any number of worker_threads Workers at once.
//
// On first load in a process it raises RLIMIT_NOFILE's soft limit to the hard
// limit (a C10K server needs more than the usual 1024) and remembers the
// original, which child processes should get back. That happens once per
// process, not per Worker.
//
// Node itself raises the soft limit to the hard one at startup, before any
// addon loads, so "the original" is usually gone by the time we look. When the
// soft limit already equals the hard one we take the parent's soft limit (what
// we inherited at exec; /proc/<ppid>/limits on Linux), or else 1024, the limit
// programs using select() expect.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>

#include "bridge.h"
#include "bridge_faults.h"
#include "bridge_tls.h"
#include "fault.h"
#include "poller.h"
#include "sockets.h"
#include "tls13_gcm.h"

namespace ioreactor {
namespace {

struct FdLimits {
  rlim_t original = 0;
  rlim_t hard = 0;
};

// The hard limit may be RLIM_INFINITY, which Linux refuses as a soft limit
// for NOFILE (it is capped by fs.nr_open); try a few finite values then.
void raise_soft_limit(const rlimit& lim) {
  if (lim.rlim_cur >= lim.rlim_max) return;
  const rlim_t candidates[] = {lim.rlim_max, rlim_t{1} << 20, 65536, 10240};
  for (rlim_t want : candidates) {
    if (want > lim.rlim_max || want <= lim.rlim_cur) continue;
    rlimit next = lim;
    next.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &next) == 0) return;
  }
}

// The parent's soft RLIMIT_NOFILE from /proc, or 0 when it cannot be read.
rlim_t parent_soft_limit() {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/limits", static_cast<int>(getppid()));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return 0;
  char line[256];
  unsigned long long soft = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, "Max open files", 14) != 0) continue;
    if (std::sscanf(line + 14, "%llu", &soft) != 1) soft = 0;  // "unlimited" reads as 0
    break;
  }
  std::fclose(f);
  return static_cast<rlim_t>(soft);
}

rlim_t original_soft_limit(const rlimit& lim) {
  if (lim.rlim_cur < lim.rlim_max) return lim.rlim_cur;  // nobody raised it yet
  rlim_t parent = parent_soft_limit();
  if (parent > 0 && parent <= lim.rlim_max) return parent;
  return std::min<rlim_t>(lim.rlim_cur, 1024);
}

const FdLimits& fd_limits() {
  static FdLimits limits;
  static std::once_flag once;
  std::call_once(once, [] {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    limits.original = original_soft_limit(lim);
    limits.hard = lim.rlim_max;
    raise_soft_limit(lim);
  });
  return limits;
}

double limit_value(rlim_t v) {
  return v == RLIM_INFINITY ? std::numeric_limits<double>::infinity() : static_cast<double>(v);
}

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    fd_limits();
    DefineAddon(exports, {
                             InstanceMethod("backends", &Addon::Backends),
                             InstanceMethod("fdLimits", &Addon::Limits),
                             InstanceMethod("probeUnix", &Addon::ProbeUnix),
                             InstanceMethod("listenSocket", &Addon::ListenSocket),
                             InstanceMethod("closeFd", &Addon::CloseFd),
                             InstanceMethod("tlsDirectGcm", &Addon::TlsDirectGcm),
                             InstanceValue("NativeLoop", define_native_loop(env)),
                             InstanceValue("tlsContext", Napi::Function::New(env, &tls_context_new, "tlsContext")),
                         });
    // Test builds only (-DIOREACTOR_FAULTS): setFault/clearFaults/faultHits.
    if constexpr (fault::kEnabled) define_fault_api(env, exports);
  }

 private:
  // Backend names, best first; the first is the default.
  Napi::Value Backends(const Napi::CallbackInfo& info) {
    int count = 0;
    const Backend* list = available_backends(&count);
    auto out = Napi::Array::New(info.Env(), static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) out.Set(static_cast<uint32_t>(i), backend_name(list[i]));
    return out;
  }

  // Whether small AES-GCM records take the direct path in this process
  // (tls13_gcm.h: AES-NI, the aesni_* functions exported, their known
  // answer right, no OPENSSL_ia32cap mask): for tests and diagnostics.
  Napi::Value TlsDirectGcm(const Napi::CallbackInfo& info) {
    const Tls13Suite* aes128 = tls13_suite(0x1301);
    return Napi::Boolean::New(info.Env(), aes128 != nullptr && Tls13Gcm::available(*aes128));
  }

  // {original, current, hard}: the soft limit before we raised it, now, and the cap.
  Napi::Value Limits(const Napi::CallbackInfo& info) {
    const FdLimits& l = fd_limits();
    rlimit now{};
    getrlimit(RLIMIT_NOFILE, &now);
    auto out = Napi::Object::New(info.Env());
    out.Set("original", limit_value(l.original));
    out.Set("current", limit_value(now.rlim_cur));
    out.Set("hard", limit_value(l.hard));
    return out;
  }

  // probeUnix(path): 0 when a listener accepted a connect to path, else
  // -errno (-EINVAL for a non-string). Used before reclaiming a socket file.
  Napi::Value ProbeUnix(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsString()) return Napi::Number::New(info.Env(), -EINVAL);
    std::string path = info[0].As<Napi::String>().Utf8Value();
    return Napi::Number::New(info.Env(), sockets::probe_unix_listener(path));
  }

  // listenSocket(family, host, port, backlog, reusePort) -> {fd, port} | -errno: a
  // listening socket no loop watches, for `ioreactor serve`'s supervisor to
  // hold and hand to workers (they accept; it never does). Close-on-exec:
  // a child gets it only where spawn's stdio puts it.
  Napi::Value ListenSocket(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsNumber() ||
        !info[3].IsNumber() || !info[4].IsBoolean()) {
      return Napi::Number::New(env, -EINVAL);
    }
    SockAddr addr;
    addr.family = info[0].As<Napi::Number>().Int32Value();
    addr.host = info[1].As<Napi::String>().Utf8Value();
    addr.port = info[2].As<Napi::Number>().Int32Value();
    int backlog = info[3].As<Napi::Number>().Int32Value();
    if ((addr.family != 4 && addr.family != 6) || addr.port < 0 || addr.port > 65535 || backlog < 0) {
      return Napi::Number::New(env, -EINVAL);
    }
    int fd = -1;
    int err = sockets::open_listener(addr, backlog, info[4].As<Napi::Boolean>().Value(), &fd);
    if (err != 0) return Napi::Number::New(env, err);
    // The port the kernel chose for port 0: the other workers' sockets bind it.
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    SockAddr bound;
    err = ::getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) < 0 ? -errno : 0;
    if (err == 0) err = sockets::from_sockaddr(reinterpret_cast<struct sockaddr*>(&ss), len, &bound);
    if (err != 0) {
      ::close(fd);
      return Napi::Number::New(env, err);
    }
    auto out = Napi::Object::New(env);
    out.Set("fd", fd);
    out.Set("port", bound.port);
    return out;
  }

  // closeFd(fd) -> 0 | -errno: closes what listenSocket returned.
  Napi::Value CloseFd(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber()) return Napi::Number::New(info.Env(), -EINVAL);
    int fd = info[0].As<Napi::Number>().Int32Value();
    if (fd < 0) return Napi::Number::New(info.Env(), -EBADF);
    return Napi::Number::New(info.Env(), ::close(fd) == 0 ? 0 : -errno);
  }
};

}  // namespace
}  // namespace ioreactor

using ioreactor::Addon;
NODE_API_ADDON(Addon)
