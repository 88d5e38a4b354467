// SSL_CTX construction from PEM text (see tls_context.h for the design).
// Every OpenSSL call that can fail is checked and the per-thread error queue
// is drained by tls_take_error() on the way out, so a worker thread's queue
// never carries one connection's failure into another's.
#include "tls_context.h"
#include "tls_stream.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cctype>

namespace ioreactor {

namespace {

// A read-only memory BIO over `pem`, freed with the returned holder.
struct PemBio {
  explicit PemBio(const std::string& pem) : bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))) {}
  ~PemBio() { BIO_free(bio); }
  BIO* bio;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Calls fn(X509*) for each certificate in pem; returns how many, or -EINVAL when
// the text holds something that is not a certificate.
template <typename Fn>
int each_cert(const std::string& pem, Fn fn) {
  PemBio in(pem);
  if (in.bio == nullptr) return -EINVAL;
  int count = 0;
  for (;;) {
    X509* x = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    bool ok = fn(x);
    X509_free(x);
    if (!ok) return -EINVAL;
    ++count;
  }
  // The loop ends on "no start line" once the text is used up: expected.
  unsigned long e = ERR_peek_last_error();
  bool clean_end = ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  return (e == 0 || clean_end) ? count : -EINVAL;
}

}  // namespace

namespace {

// "decryption failed or bad record mac" -> DECRYPTION_FAILED_OR_BAD_RECORD_MAC
std::string as_code(const char* reason) {
  std::string code(reason);
  for (char& c : code) c = c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return code;
}

}  // namespace

std::string tls_take_error(const char* fallback) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  return reason == nullptr ? fallback : as_code(reason);
}

std::string tls_reason_code(int reason) {
  const char* text = ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, reason));
  return text == nullptr ? "SSL_REASON_" + std::to_string(reason) : as_code(text);
}

std::shared_ptr<TlsContext> TlsContext::create(const TlsConfig& cfg, std::string* err) {
  SSL_CTX* ctx = SSL_CTX_new(cfg.server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) {
    *err = tls_take_error("CONTEXT_FAILED");
    return nullptr;
  }
  std::shared_ptr<TlsContext> self(new TlsContext(ctx, cfg.server));
  if (self->configure(cfg, err) != 0) return nullptr;
  return self;
}

TlsContext::~TlsContext() {
  for (auto& kv : sessions_) SSL_SESSION_free(kv.second);
  SSL_CTX_free(ctx_);
}

int TlsContext::configure(const TlsConfig& cfg, std::string* err) {
  // No renegotiation at all (a client asking for one is refused), no
  // compression, and a fresh ECDHE key per handshake.
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_ECDH_USE |
                                SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Records are written whole into our BIO (a vector): no partial writes to track.
  SSL_CTX_clear_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE);
  SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_min_proto_version(ctx_, cfg.min_version) != 1) {
    *err = tls_take_error("BAD_PROTOCOL_VERSION");
    return -EINVAL;
  }
  if (!cfg.ciphers.empty() && SSL_CTX_set_cipher_list(ctx_, cfg.ciphers.c_str()) != 1) {
    *err = tls_take_error("NO_CIPHER_MATCH");
    return -EINVAL;
  }
  if (load_identity(cfg, err) != 0) return -EINVAL;
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
  if (!cfg.ca_pem.empty() && each_cert(cfg.ca_pem, [store](X509* x) { return X509_STORE_add_cert(store, x) == 1; }) <= 0) {
    *err = tls_take_error("BAD_TRUST_ROOT");
    return -EINVAL;
  }
  int mode = SSL_VERIFY_NONE;
  if (cfg.verify || cfg.require_cert) mode = SSL_VERIFY_PEER;
  if (cfg.server && cfg.require_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx_, mode, nullptr);
  static const unsigned char kSid[] = "ioreactor";
  SSL_CTX_set_session_id_context(ctx_, kSid, sizeof kSid - 1);
  if (configure_sessions(cfg, err) != 0) return -EINVAL;
  return configure_alpn_sni(cfg, err);
}

// Server: the caller's session ticket keys, if any (else OpenSSL's random
// ones), so processes given the same keys resume each other's sessions; and
// whether a resumption earns the client a fresh ticket.
int TlsContext::configure_sessions(const TlsConfig& cfg, std::string* err) {
  if (!cfg.server) {
    // Sessions reach TlsStream's callback only; find_session() offers them.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_set_app_data(ctx_, this);
    SSL_CTX_sess_set_new_cb(ctx_, &TlsContext::on_new_session);
    return 0;
  }
  // Hands TLS 1.3 traffic secrets to the stream that leaves OpenSSL's record layer.
  TlsStream::install_keylog(ctx_);
  if (!cfg.renew_tickets) SSL_CTX_set_session_ticket_cb(ctx_, nullptr, &TlsContext::on_ticket, nullptr);
  if (cfg.ticket_keys.empty()) return 0;
  void* keys = const_cast<char*>(cfg.ticket_keys.data());
  if (cfg.ticket_keys.size() != 80 || SSL_CTX_set_tlsext_ticket_keys(ctx_, keys, 80) != 1) {
    *err = tls_take_error("BAD_TICKET_KEYS");
    return -EINVAL;
  }
  return 0;
}

int TlsContext::configure_alpn_sni(const TlsConfig& cfg, std::string* err) {
  alpn_ = cfg.alpn;
  if (cfg.server) {
    SSL_CTX_set_tlsext_servername_callback(ctx_, &TlsContext::on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx_, this);
    if (!alpn_.empty()) SSL_CTX_set_alpn_select_cb(ctx_, &TlsContext::on_alpn, this);
  } else if (!alpn_.empty() &&
             SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(alpn_.data()),
                                     static_cast<unsigned>(alpn_.size())) != 0) {
    *err = tls_take_error("BAD_ALPN");
    return -EINVAL;
  }
  return 0;
}

// Key, certificate and chain; the key must match the certificate.
int TlsContext::load_identity(const TlsConfig& cfg, std::string* err) {
  if (cfg.key_pem.empty() && cfg.cert_pem.empty()) return 0;
  PemBio kin(cfg.key_pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kin.bio, nullptr, nullptr, nullptr);
  int ok = key != nullptr && SSL_CTX_use_PrivateKey(ctx_, key) == 1;
  EVP_PKEY_free(key);
  if (!ok) {
    *err = "BAD_PRIVATE_KEY:" + tls_take_error("NO_KEY");
    return -EINVAL;
  }
  SSL_CTX* ctx = ctx_;
  int n = each_cert(cfg.cert_pem, [ctx](X509* x) { return SSL_CTX_use_certificate(ctx, x) == 1; });
  if (n != 1) {
    *err = "BAD_CERTIFICATE:" + tls_take_error(n == 0 ? "NO_CERTIFICATE" : "TOO_MANY_CERTIFICATES");
    return -EINVAL;
  }
  if (!cfg.chain_pem.empty() && each_cert(cfg.chain_pem, [ctx](X509* x) { return SSL_CTX_add1_chain_cert(ctx, x) == 1; }) <= 0) {
    *err = "BAD_CERTIFICATE:" + tls_take_error("BAD_CHAIN");
    return -EINVAL;
  }
  if (SSL_CTX_check_private_key(ctx_) != 1) {
    *err = "KEY_MISMATCH:" + tls_take_error("KEY_VALUES_MISMATCH");
    return -EINVAL;
  }
  return 0;
}

void TlsContext::add_sni(const std::string& name, std::shared_ptr<TlsContext> other) {
  sni_[lower(name)] = std::move(other);
}

SSL_SESSION* TlsContext::find_session(const std::string& key) {
  std::lock_guard<std::mutex> hold(sessions_lock_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  SSL_SESSION_up_ref(it->second);
  return it->second;
}

void TlsContext::save_session(const std::string& key, SSL_SESSION* sess) {
  // A bound, so a client visiting many servers does not grow without end;
  // dropping an arbitrary one costs that peer one full handshake.
  constexpr size_t kMaxSessions = 1024;
  std::lock_guard<std::mutex> hold(sessions_lock_);
  auto it = sessions_.find(key);
  if (it != sessions_.end()) {
    SSL_SESSION_free(it->second);
    it->second = sess;
    return;
  }
  if (sessions_.size() >= kMaxSessions) {
    SSL_SESSION_free(sessions_.begin()->second);
    sessions_.erase(sessions_.begin());
  }
  sessions_.emplace(key, sess);
}

// OpenSSL's new-session callback: returning 1 keeps the reference it
// passes. The SSL's app data is its peer key (TlsStream::reuse_sessions),
// absent when the connection does not reuse. A TLS 1.3 server may send
// several tickets: the last one wins. Sessions that cannot resume are dropped.
int TlsContext::on_new_session(SSL* ssl, SSL_SESSION* sess) {
  auto* key = static_cast<const std::string*>(SSL_get_app_data(ssl));
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (key == nullptr || key->empty() || self == nullptr || SSL_SESSION_is_resumable(sess) != 1) return 0;
  self->save_session(*key, sess);
  return 1;
}

// Server with renewal off: OpenSSL's verdict on the ticket a client offered.
// One that decrypted is used as it is: in TLS 1.3 OpenSSL would otherwise
// renew every ticket made with its own keys, a NewSessionTicket (and its
// encryption) per resumption that clients keeping their ticket never use.
// A ticket that did not decrypt means a full handshake and new tickets, as
// without this callback.
SSL_TICKET_RETURN TlsContext::on_ticket(SSL*, SSL_SESSION*, const unsigned char*, size_t, SSL_TICKET_STATUS status,
                                        void*) {
  switch (status) {
    case SSL_TICKET_SUCCESS:
    case SSL_TICKET_SUCCESS_RENEW:
      return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT:
      return SSL_TICKET_RETURN_IGNORE_RENEW;
    case SSL_TICKET_NONE:
      return SSL_TICKET_RETURN_IGNORE;
    default:
      return SSL_TICKET_RETURN_ABORT;
  }
}

int TlsContext::on_servername(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr || self->sni_.empty()) return SSL_TLSEXT_ERR_OK;
  auto it = self->sni_.find(lower(name));
  if (it == self->sni_.end()) return SSL_TLSEXT_ERR_OK;  // the default certificate
  SSL_CTX* chosen = it->second->ctx();
  SSL_set_SSL_CTX(ssl, chosen);
  // SSL_set_SSL_CTX swaps the certificate only; verification follows it too.
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(chosen), nullptr);
  return SSL_TLSEXT_ERR_OK;
}

// Server ALPN: the first of our protocols the client also offers; none in
// common means no ALPN at all (the handshake goes on, negotiatedProtocol is null).
int TlsContext::on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                        unsigned int inlen, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  unsigned char* chosen = nullptr;
  int r = SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(self->alpn_.data()),
                                static_cast<unsigned>(self->alpn_.size()), in, inlen);
  if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace ioreactor
