// The SSL object over one BIO of ours (tls_stream.h has the design note).
// After every call that fails, the error queue is drained into error_ (or
// just cleared for WANT_READ), so nothing is left on the thread's queue.
#include "tls_stream.h"

#include "heap_trim.h"
#include "slots.h"
#include "tls13_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <new>

namespace ioreactor {

namespace {
constexpr size_t kRecordPlaintext = 16 * 1024;  // the most one TLS record carries

bool is_ip(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Client side: SNI for names (never for addresses, RFC 6066), and the name
// or address the peer's certificate must carry when verification is on.
int set_peer_name(SSL* ssl, const std::string& host) {
  if (host.empty()) return 1;
  if (is_ip(host)) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return 0;
  return SSL_set1_host(ssl, host.c_str());
}
}  // namespace

TlsStream::TlsStream(std::shared_ptr<TlsContext> ctx) : ctx_(std::move(ctx)) {}

std::unique_ptr<TlsStream> TlsStream::create(std::shared_ptr<TlsContext> ctx, const std::string& host,
                                             std::string* err) {
  bool server = ctx->server();
  std::unique_ptr<TlsStream> t(new TlsStream(std::move(ctx)));
  t->ssl_ = SSL_new(t->ctx_->ctx());
  BIO* bio = t->ssl_ != nullptr ? new_bio(t.get()) : nullptr;
  if (bio == nullptr) {
    *err = tls_take_error("OUT_OF_MEMORY");
    return nullptr;
  }
  SSL_set_bio(t->ssl_, bio, bio);  // the same BIO both ways: one reference taken
  if (server) {
    SSL_set_accept_state(t->ssl_);
    // Where the keylog callback finds this stream, and the steps that switch
    // it on and off (tls_stream_tls13.cc).
    t->handoff_.reset(new (std::nothrow) Tls13Handoff());
    SSL_set_app_data(t->ssl_, t.get());
    SSL_set_info_callback(t->ssl_, &TlsStream::on_state);
  } else {
    SSL_set_connect_state(t->ssl_);
    if (set_peer_name(t->ssl_, host) != 1) {
      *err = tls_take_error("BAD_HOSTNAME");
      return nullptr;
    }
  }
  return t;
}


// OpenSSL marks the session of an SSL freed without a close_notify sent as
// not resumable (SSL 3's rule; TLS 1.1 dropped it), and in TLS 1.3 that is
// the last ticket's session, the one saved for reuse: a connection the peer
// or a TCP reset ended would spoil it. Only a connection that failed inside
// TLS (a bad record, an alert) keeps that verdict.
TlsStream::~TlsStream() {
  if (ssl_ != nullptr && !broken_) SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_SENT_SHUTDOWN);
  SSL_free(ssl_);  // frees the BIO
  HeapTrim::note_release();  // ~14 KiB freed between other connections' memory
}

int TlsStream::reuse_sessions(const std::string& key) {
  if (key.empty() || ctx_->server()) return 0;
  session_key_ = key;
  SSL_set_app_data(ssl_, &session_key_);  // where TlsContext's callback saves
  SSL_SESSION* saved = ctx_->find_session(key);
  if (saved == nullptr) return 0;
  int ok = SSL_set_session(ssl_, saved);  // takes its own reference
  SSL_SESSION_free(saved);
  if (ok == 1) return 0;
  error_ = tls_take_error("SESSION_REFUSED");
  return -EPROTO;
}


void TlsStreamFree::operator()(TlsStream* t) const { delete t; }

int TlsStream::feed(const uint8_t* data, size_t len) {
  // What OpenSSL has read goes (it reads all it can, so this is rarely more
  // than a record header); the rest moves to the front. Our record layer
  // may still have decrypted content to deliver before in_off_.
  size_t keep = own_ && own_->plain_left != 0 ? std::min(own_->plain_at, in_off_) : in_off_;
  in_buf_.erase(in_buf_.begin(), in_buf_.begin() + static_cast<std::ptrdiff_t>(keep));
  in_off_ -= keep;
  if (own_) own_->plain_at -= std::min(own_->plain_at, keep);
  borrow(&in_buf_);
  try {
    in_buf_.insert(in_buf_.end(), data, data + len);
  } catch (const std::bad_alloc&) {
    error_ = "OUT_OF_MEMORY";
    return -ENOMEM;
  }
  return 0;
}

// Records why the call that returned `ret` failed; -EPROTO.
int TlsStream::failed(int ret, const char* fallback) {
  broken_ = true;
  int e = SSL_get_error(ssl_, ret);
  std::string reason = tls_take_error(fallback);
  if (error_.empty()) error_ = (e == SSL_ERROR_SYSCALL && reason == fallback) ? "UNEXPECTED_EOF_WHILE_READING" : reason;
  return -EPROTO;
}

TlsStream::Step TlsStream::handshake() {
  if (established_) return Step::kDone;
  if (handoff_) keylog(ssl_, true);  // the client's Finished may be in this input
  int r = SSL_do_handshake(ssl_);
  shrink_input();  // a connection waiting for the peer's next flight holds no input
  if (r == 1) {
    if (handoff_) switch_over();
    established_ = true;
    HeapTrim::note_release();  // the handshake's temporaries are free now
    return release_held() == 0 ? Step::kDone : Step::kFailed;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return Step::kAgain;
  }
  failed(r, "HANDSHAKE_FAILURE");
  return Step::kFailed;
}

// With nothing new to decrypt, SSL_read is not called: it would set up its
// 16 KiB record buffer only to free it again (SSL_MODE_RELEASE_BUFFERS) on
// finding the input empty, once per wake-up. Instead the input buffer,
// all read, is given back.
int64_t TlsStream::read(uint8_t* out, size_t room) {
  if (own_) return own_read(out, room);
  if (input_pending() == 0 && SSL_pending(ssl_) == 0) {
    shrink_input();
    return kNoData;
  }
  int n = SSL_read(ssl_, out, static_cast<int>(std::min(room, static_cast<size_t>(INT_MAX))));
  if (n > 0) {
    shrink_input();  // all read: the loop asks no more (has_input())
    return n;
  }
  int e = SSL_get_error(ssl_, n);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return kNoData;
  }
  if (e == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    return kClosed;
  }
  failed(n, "DECRYPTION_FAILED");
  return kFailed;
}

// Under SSL_MODE_RELEASE_BUFFERS OpenSSL allocates its record buffer for
// every write and frees it after, sized by the send fragment limit: ~16.7 KiB
// by default, a size glibc serves slowly (no thread cache). A write that
// makes one small record (an echo, a short reply) lowers the limit to the
// smallest OpenSSL allows, so the buffer comes from the thread cache; larger
// writes raise it again. The records are the same either way.
void TlsStream::size_record_buffer(size_t len) {
  if (ssl_ == nullptr) return;
  bool small = len <= kSmallRecord;
  if (small == small_records_) return;
  long limit = static_cast<long>(small ? kSmallRecord : kRecordPlaintext);
  SSL_set_max_send_fragment(ssl_, limit);
  // Lowering the limit lowered the split size too (OpenSSL cuts writes
  // into records of that size); it must come back up with the limit.
  SSL_set_split_send_fragment(ssl_, limit);
  small_records_ = small;
}

int TlsStream::encrypt(const uint8_t* data, size_t len) {
  if (own_) return own_encrypt(data, len);
  size_record_buffer(len);
  while (len > 0) {
    int chunk = static_cast<int>(std::min(len, static_cast<size_t>(INT_MAX / 2)));
    int n = SSL_write(ssl_, data, chunk);
    if (n <= 0) return failed(n, "ENCRYPTION_FAILED");
    data += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

// Plaintext waits in plain_ until flush() (the end of the JS tick), so
// several writes in one tick become as few records as their total size
// needs; whole records are encrypted at once (nothing gains from waiting).
// Before the handshake everything waits for it.
int TlsStream::writev(const struct iovec* iov, int count) {
  for (int i = 0; i < count; ++i) {
    if (take(static_cast<const uint8_t*>(iov[i].iov_base), iov[i].iov_len) != 0) return -EPROTO;
  }
  return 0;
}

// (A buffer is borrowed only right before bytes go into it, so a stream
// whose writes all go elsewhere never holds one.)
int TlsStream::take(const uint8_t* p, size_t len) {
  if (!established_) {
    borrow(&plain_);
    plain_.insert(plain_.end(), p, p + len);
    return 0;
  }
  if (own_ && own_take_small(p, len)) return 0;
  if (!plain_.empty()) {  // complete the waiting record first
    size_t fill = std::min(len, kRecordPlaintext - plain_.size());
    plain_.insert(plain_.end(), p, p + fill);
    p += fill;
    len -= fill;
    if (plain_.size() < kRecordPlaintext) return 0;
    if (encrypt(plain_.data(), plain_.size()) != 0) return -EPROTO;
    plain_.clear();
  }
  size_t whole = len - len % kRecordPlaintext;  // big writes go straight through
  if (whole > 0 && encrypt(p, whole) != 0) return -EPROTO;
  if (whole == len) return 0;
  borrow(&plain_);
  plain_.insert(plain_.end(), p + whole, p + len);
  return 0;
}

int TlsStream::flush() {
  if (!established_) return 0;
  if (own_ && own_flush_small() != 0) {
    release(&plain_);  // a failed stream keeps no pooled buffer until its slot goes
    return -EPROTO;
  }
  int r = plain_.empty() ? 0 : encrypt(plain_.data(), plain_.size());
  // An idle connection keeps no plaintext buffer (see consume_output), even
  // an empty one: a write that completed a record leaves it emptied.
  release(&plain_);
  return r;
}

// The handshake finished: plaintext written before it goes out now, then a
// close_notify asked for meanwhile.
int TlsStream::release_held() {
  if (flush() != 0) return -EPROTO;
  if (close_held_) return close_notify();
  return 0;
}

int TlsStream::close_notify() {
  if (!established_) {
    close_held_ = true;
    return 0;
  }
  close_held_ = false;
  if (flush() != 0) return -EPROTO;  // what was written goes before close_notify
  if (own_) return own_close_notify();
  int r = SSL_shutdown(ssl_);
  if (r >= 0) return 0;
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return 0;
  }
  return failed(r, "SHUTDOWN_FAILED");
}

size_t TlsStream::output(const uint8_t** data) const {
  *data = out_buf_.data();
  return out_buf_.size();
}

// An idle connection keeps none of its output buffer: ten thousand idle
// connections would otherwise each hold their last record. In a loop the
// buffer goes back to its pool, so the next write anywhere reuses it.
void TlsStream::consume_output() { release(&out_buf_); }

// A buffer emptied goes back to the loop's pool (or is freed): either way
// this stream keeps none of it.
void TlsStream::release(std::vector<uint8_t>* v) {
  if (pool_ != nullptr) return pool_->give_back(v);
  std::vector<uint8_t>().swap(*v);
}

size_t TlsStream::buffer_capacity() const { return out_buf_.capacity() + plain_.capacity() + in_buf_.capacity(); }

// Once OpenSSL has read all that was fed, the input buffer goes whatever its
// size: OpenSSL takes a partial record into its own buffer, so this is
// empty after every read, and an idle connection then holds none of it
// (in a loop it goes back to the pool for the next read).
void TlsStream::shrink_input() {
  if (input_pending() != 0 || (own_ && own_->plain_left != 0)) return;
  in_off_ = 0;
  release(&in_buf_);
}

// ---- the BIO: reads in_buf_, appends what OpenSSL writes to out_buf_ ----

BIO* TlsStream::new_bio(TlsStream* owner) {
  // One method table per process, made on first use (thread-safe static).
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ioreactor tls");
    if (m != nullptr) {
      BIO_meth_set_read(m, &TlsStream::bio_read);
      BIO_meth_set_write(m, &TlsStream::bio_write);
      BIO_meth_set_ctrl(m, &TlsStream::bio_ctrl);
    }
    return m;
  }();
  if (method == nullptr) return nullptr;
  BIO* b = BIO_new(method);
  if (b == nullptr) return nullptr;
  BIO_set_data(b, owner);
  BIO_set_init(b, 1);
  return b;
}

// Nothing fed is "retry later" (WANT_READ), never the end of the stream:
// the loop reports a TCP close itself.
int TlsStream::bio_read(BIO* b, char* data, int len) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  size_t n = std::min(self->input_pending(), static_cast<size_t>(std::max(len, 0)));
  if (n == 0) {
    BIO_set_retry_read(b);
    return -1;
  }
  std::memcpy(data, self->in_buf_.data() + self->in_off_, n);
  if (self->handoff_) self->handoff_->rx.feed(self->in_buf_.data() + self->in_off_, n);
  self->in_off_ += n;
  return static_cast<int>(n);
}

int TlsStream::bio_write(BIO* b, const char* data, int len) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  if (self->handoff_) self->handoff_->tx.feed(p, static_cast<size_t>(len));
  self->borrow(&self->out_buf_);
  try {
    self->out_buf_.insert(self->out_buf_.end(), p, p + len);
  } catch (const std::bad_alloc&) {
    return -1;
  }
  return len;
}

long TlsStream::bio_ctrl(BIO* b, int cmd, long, void*) {
  // Flush and the pending counts are all OpenSSL asks; the rest is "not supported".
  auto* self = static_cast<TlsStream*>(BIO_get_data(b));
  if (cmd == BIO_CTRL_FLUSH) return 1;
  if (cmd == BIO_CTRL_PENDING) return static_cast<long>(std::min<size_t>(self->input_pending(), LONG_MAX));
  return 0;
}

bool TlsStream::has_input() const {
  if (input_pending() != 0) return true;
  // An ended connection has its close or failure still to report.
  if (own_) return own_->plain_left != 0 || own_->ended();
  return SSL_pending(ssl_) != 0;
}

long TlsStream::verify_result() const { return own_ ? own_->verify_result : SSL_get_verify_result(ssl_); }

std::string TlsStream::alpn() const {
  if (own_) return own_->alpn;
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), len);
}

std::string TlsStream::peer_certificate_der() const {
  if (own_) return own_->peer_der;
  X509* x = SSL_get1_peer_certificate(ssl_);
  if (x == nullptr) return std::string();
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  X509_free(x);
  std::string out;
  if (len > 0) out.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ERR_clear_error();
  return out;
}

std::string TlsStream::version() const { return own_ ? "TLSv1.3" : SSL_get_version(ssl_); }

bool TlsStream::session_reused() const { return own_ ? own_->session_reused : SSL_session_reused(ssl_) == 1; }

// The version as a small number (TLS 1.x is x + 1, 0 unknown), from the
// name OpenSSL gives it.
int32_t TlsStream::settled_flags(bool* more) const {
  static const char* const kNames[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
  const std::string name = version();
  int32_t index = 0;
  for (int32_t i = 0; i < 4; ++i) {
    if (name == kNames[i]) index = i + 1;
  }
  bool has_cert = own_ ? !own_->peer_der.empty() : SSL_get0_peer_certificate(ssl_) != nullptr;
  *more = has_cert || !alpn().empty();
  return (session_reused() ? 1 : 0) | (index << 8);
}

}  // namespace ioreactor
