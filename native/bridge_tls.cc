// TLS for JS, typed in lib/native.ts: the addon's tlsContext() and NativeLoop
// methods added through the method registry (bridge_loop.h), each but
// tlsFlushAll on one stream's (slot, gen) handle:
//   tlsContext(options)             -> a context handle, or a reason string (addon)
//   tlsStart(slot, gen, ctx, host, sessionKey) -> 0, -errno, or a reason string
//   tlsInfo(slot, gen)              -> { established, alpn, version, error, verifyResult, sessionReused, recordLayer } or -errno
//   tlsSettled(slot, gen)           -> flags, [flags, alpn, DER or null], or -errno
//   tlsFlushAll()                   -> 0, or [slot, gen, result, ...] (Loop::flush_tls_all)
// A context handle is a type-tagged External owning a shared_ptr, so a
// handle from anywhere else is refused rather than misread, and the context
// lives as long as the handle or any connection using it.
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "bridge_args.h"
#include "bridge_loop.h"
#include "bridge_tls.h"
#include "tls_context.h"
#include "tls_stream.h"

namespace ioreactor {
namespace {

using bridge::bytes_arg;
using bridge::int_value;
using bridge::string_arg;
using ContextRef = std::shared_ptr<TlsContext>;

// Distinguishes our context handles from any other External.
const napi_type_tag kContextTag = {0x696f7265616374ULL, 0x746c73637478ULL};

Napi::Value num(const Napi::CallbackInfo& info, double v) { return Napi::Number::New(info.Env(), v); }

std::string text(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

// Bytes passed as a latin1 string (one char per byte).
std::string latin1(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) return std::string();
  std::u16string wide = v.As<Napi::String>().Utf16Value();
  std::string out(wide.size(), '\0');
  for (size_t i = 0; i < wide.size(); ++i) out[i] = static_cast<char>(wide[i] & 0xff);
  return out;
}

bool flag(const Napi::Object& o, const char* key) { return o.Get(key).ToBoolean().Value(); }

// The context behind a handle, or nullptr.
ContextRef context_of(Napi::Value v) {
  if (!v.IsExternal()) return nullptr;
  auto ext = v.As<Napi::External<ContextRef>>();
  if (!ext.CheckTypeTag(&kContextTag)) return nullptr;
  return *ext.Data();
}

// {server, key, cert, chain, ca, verify, requireCert, alpn, minVersion, ciphers, ticketKeys, renewTickets}
bool read_config(const Napi::Object& o, TlsConfig* cfg) {
  int64_t min_version = TLS1_2_VERSION;
  Napi::Value mv = o.Get("minVersion");
  if (!mv.IsUndefined() && !int_value(mv, TLS1_VERSION, TLS1_3_VERSION, &min_version)) return false;
  cfg->server = flag(o, "server");
  cfg->key_pem = text(o, "key");
  cfg->cert_pem = text(o, "cert");
  cfg->chain_pem = text(o, "chain");
  cfg->ca_pem = text(o, "ca");
  cfg->verify = flag(o, "verify");
  cfg->require_cert = flag(o, "requireCert");
  cfg->alpn = latin1(o, "alpn");
  cfg->ciphers = text(o, "ciphers");
  cfg->ticket_keys = latin1(o, "ticketKeys");
  cfg->renew_tickets = o.Get("renewTickets").IsUndefined() || flag(o, "renewTickets");
  cfg->min_version = static_cast<int>(min_version);
  return true;
}

// sni: [name, handle, name, handle, ...] of server contexts.
bool add_sni(const Napi::Object& o, TlsContext* ctx) {
  Napi::Value v = o.Get("sni");
  if (v.IsUndefined()) return true;
  if (!v.IsArray()) return false;
  auto list = v.As<Napi::Array>();
  for (uint32_t i = 0; i + 1 < list.Length(); i += 2) {
    Napi::Value name = list.Get(i);
    ContextRef other = context_of(list.Get(i + 1));
    if (!name.IsString() || other == nullptr || !other->server()) return false;
    ctx->add_sni(name.As<Napi::String>().Utf8Value(), other);
  }
  return true;
}

}  // namespace

Napi::Value tls_context_new(const Napi::CallbackInfo& info) {
  TlsConfig cfg;
  if (info.Length() < 1 || !info[0].IsObject()) return num(info, -EINVAL);
  auto o = info[0].As<Napi::Object>();
  if (!read_config(o, &cfg)) return num(info, -EINVAL);
  std::string err;
  ContextRef ctx = TlsContext::create(cfg, &err);
  if (ctx == nullptr) return Napi::String::New(info.Env(), err);
  if (!add_sni(o, ctx.get())) return num(info, -EINVAL);
  auto ext = Napi::External<ContextRef>::New(info.Env(), new ContextRef(std::move(ctx)),
                                             [](Napi::Env, ContextRef* p) { delete p; });
  ext.TypeTag(&kContextTag);
  return ext;
}

namespace {

// tlsStart(slot, gen, context, hostname, sessionKey) -> 0 | -errno | OpenSSL reason code
Napi::Value TlsStart(MethodCall& c) {
  const Napi::CallbackInfo& info = c.info;
  std::string host, key;
  ContextRef ctx = info.Length() > c.arg(0) ? context_of(info[c.arg(0)]) : nullptr;
  if (ctx == nullptr || !string_arg(info, c.arg(1), &host) || !string_arg(info, c.arg(2), &key)) return c.num(-EINVAL);
  std::string err;
  int r = c.loop->start_tls(c.slot, std::move(ctx), host, key, &err);
  if (r == -EPROTO) return Napi::String::New(info.Env(), err);
  return c.num(r);
}

// tlsFeed(slot, gen, bytes) -> 0 | -errno | OpenSSL reason code
Napi::Value TlsFeed(MethodCall& c) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (c.info.Length() <= c.arg(0) || !bytes_arg(c.info[c.arg(0)], &data, &len)) return c.num(-EINVAL);
  std::string err;
  int r = c.loop->tls_feed(c.slot, data, len, &err);
  if (r == -EPROTO) return Napi::String::New(c.info.Env(), err);
  return c.num(r);
}

// tlsInfo(slot, gen) -> {established, alpn, version, error, verifyResult, sessionReused, recordLayer} | -errno
Napi::Value TlsInfo(MethodCall& c) {
  const TlsStream* t = c.loop->tls(c.slot);
  if (t == nullptr) return c.num(-EBADF);
  auto out = Napi::Object::New(c.info.Env());
  out.Set("established", t->established());
  out.Set("alpn", t->alpn());
  out.Set("version", t->version());
  out.Set("error", t->error_code());
  out.Set("verifyResult", static_cast<double>(t->verify_result()));
  out.Set("sessionReused", t->session_reused());
  out.Set("recordLayer", t->record_layer());
  return out;
}

// tlsSettled(slot, gen): what a completed handshake settled, in one call.
// The Handshake record carries the flags (TlsStream::settled_flags), and JS
// asks only when there is more: then [flags, alpn, DER or null]; a plain
// number when there is not. tlsInfo is the full (slower) picture.
Napi::Value TlsSettled(MethodCall& c) {
  const TlsStream* t = c.loop->tls(c.slot);
  if (t == nullptr) return c.num(-EBADF);
  bool more = false;
  double flags = t->settled_flags(&more);
  std::string alpn = t->alpn();
  std::string der = t->peer_certificate_der();
  if (alpn.empty() && der.empty()) return c.num(flags);
  Napi::Env env = c.info.Env();
  auto out = Napi::Array::New(env, 3);
  out.Set(0u, flags);
  out.Set(1u, alpn);
  out.Set(2u, der.empty() ? env.Null() : Napi::Buffer<char>::Copy(env, der.data(), der.size()).As<Napi::Value>());
  return out;
}

// tlsFlushAll() -> 0 | [slot, gen, result, ...] for the streams whose result
// is not 0 (bytes still buffered, or -errno). The common answer, 0, makes no
// array and allocates nothing.
Napi::Value TlsFlushAll(MethodCall& c) {
  std::vector<Loop::TlsFlushed> attention;
  c.loop->flush_tls_all(&attention);
  if (attention.empty()) return c.num(0);
  Napi::Env env = c.info.Env();
  auto out = Napi::Array::New(env, attention.size() * 3);
  uint32_t i = 0;
  for (const auto& a : attention) {
    out.Set(i++, static_cast<double>(a.slot));
    out.Set(i++, static_cast<double>(a.gen));
    out.Set(i++, static_cast<double>(a.result));
  }
  return out;
}

}  // namespace

const LoopMethods tls_methods({
    {"tlsStart", Takes::kSlot, &TlsStart},
    {"tlsFeed", Takes::kSlot, &TlsFeed},
    {"tlsInfo", Takes::kSlot, &TlsInfo},
    {"tlsSettled", Takes::kSlot, &TlsSettled},
    {"tlsFlushAll", Takes::kLoop, &TlsFlushAll},
});

}  // namespace ioreactor
