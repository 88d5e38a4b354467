// A TLS configuration (an SSL_CTX) built once from PEM text and shared by
// every connection that uses it. It compiles against Node's own OpenSSL
// headers (include/node/openssl) in the addon, so the addon links no libssl:
// the SSL_* symbols resolve from the node binary at load time. The ctest
// build, which runs without Node, links the system's OpenSSL 3 instead (the
// same 3.0 API).
//
// SNI: a server context may hold other contexts by host name; the
// servername callback switches a connection to the one its ClientHello asks
// for (unknown names keep the default). Building fails with a typed reason
// (the OpenSSL reason string, e.g. KEY_VALUES_MISMATCH) instead of a context
// that would fail every handshake later.
//
// Client session reuse: a client context keeps the last resumable session
// per peer (a key the caller makes of the server's address and name). TLS 1.3
// tickets arrive after the handshake, in NewSessionTicket messages SSL_read
// processes, so they are taken from OpenSSL's new-session callback (client
// cache mode, no internal store) rather than read off the SSL when the
// handshake completes: a session read then is not resumable yet.
#ifndef IOREACTOR_TLS_CONTEXT_H
#define IOREACTOR_TLS_CONTEXT_H

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#if !defined(OPENSSL_VERSION_MAJOR) || OPENSSL_VERSION_MAJOR < 3
#error "ioreactor TLS needs OpenSSL 3 headers (Node's include/node/openssl); this Node does not ship them"
#endif

namespace ioreactor {

struct TlsConfig {
  bool server = false;
  std::string key_pem;    // private key (PEM); empty: none
  std::string cert_pem;   // leaf certificate (PEM)
  std::string chain_pem;  // extra chain certificates (PEM, concatenated)
  std::string ca_pem;     // trust roots (PEM, concatenated); empty: none
  bool verify = false;        // verify the peer's certificate chain
  bool require_cert = false;  // server: a client certificate is required
  std::string alpn;           // protocols in ALPN wire format (length-prefixed)
  int min_version = TLS1_2_VERSION;
  std::string ciphers;  // TLS 1.2 cipher list; empty: OpenSSL's default
  // Server: session ticket keys (80 bytes: name, HMAC and AES keys), shared
  // by processes that should resume each other's sessions; empty: random.
  std::string ticket_keys;
  // Server, TLS 1.3: a resumed handshake sends a fresh ticket (OpenSSL's way
  // with its own keys). Off: the client keeps the ticket it resumed with.
  bool renew_tickets = true;
};

// The reason of the first error on OpenSSL's per-thread queue as a code
// ("CERTIFICATE_VERIFY_FAILED"), or `fallback` when the queue is empty. The
// queue is cleared either way, so a failure never leaks into the next call.
std::string tls_take_error(const char* fallback);
// OpenSSL's reason code for an SSL_R_* reason (or SSL_AD_REASON_OFFSET plus
// an alert received), as tls_take_error() would report it.
std::string tls_reason_code(int reason);

class TlsContext {
 public:
  // nullptr with *err set to a reason code on failure.
  static std::shared_ptr<TlsContext> create(const TlsConfig& cfg, std::string* err);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }
  bool server() const { return server_; }
  // SNI: connections asking for `name` (case-insensitive) use `other`.
  void add_sni(const std::string& name, std::shared_ptr<TlsContext> other);
  // Client: the session saved for `key` (a reference the caller frees), or nullptr.
  SSL_SESSION* find_session(const std::string& key);
  // Client: keeps `sess` (its reference is taken) as the one to offer for `key`.
  void save_session(const std::string& key, SSL_SESSION* sess);

 private:
  TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  // Each returns 0, or -EINVAL with *err saying what is wrong.
  int configure(const TlsConfig& cfg, std::string* err);
  int load_identity(const TlsConfig& cfg, std::string* err);
  int configure_alpn_sni(const TlsConfig& cfg, std::string* err);
  int configure_sessions(const TlsConfig& cfg, std::string* err);
  static int on_new_session(SSL* ssl, SSL_SESSION* sess);
  static SSL_TICKET_RETURN on_ticket(SSL* ssl, SSL_SESSION* sess, const unsigned char* name, size_t name_len,
                                     SSL_TICKET_STATUS status, void* arg);
  static int on_servername(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                     const unsigned char* in, unsigned int inlen, void* arg);

  SSL_CTX* ctx_;
  bool server_;
  std::string alpn_;
  std::map<std::string, std::shared_ptr<TlsContext>> sni_;
  // Client sessions by peer; a context may serve loops on several threads.
  std::mutex sessions_lock_;
  std::map<std::string, SSL_SESSION*> sessions_;
};

}  // namespace ioreactor

#endif  // IOREACTOR_TLS_CONTEXT_H
