// TlsStream's TLS 1.3 record layer of our own, for server connections
// (tls_stream.h says why; tls13_records.h seals and opens one record).
//
// The switch. OpenSSL runs the whole handshake; the keylog callback hands
// over the client and server application traffic secrets as OpenSSL derives
// them. When SSL_do_handshake returns 1 the connection moves to our record
// layer and the SSL object is freed, unless any check fails, in which case
// it simply stays on OpenSSL (can_switch lists them).
//
// The sequence numbers, from watching every byte through our BIO:
// - Write: OpenSSL installs the server application key right after writing
//   the server Finished (that is when SERVER_TRAFFIC_SECRET_0 is logged); the
//   only records it writes under that key before the handshake returns are
//   its NewSessionTickets. So the write sequence number is the number of
//   records written after the secret arrived (a RecordCounter over
//   bio_write), provided the secret arrived on a record boundary.
// - Read: without read_ahead OpenSSL reads exactly one record at a time, and
//   a server's handshake ends on the client Finished, so no record under the
//   client application key has been read: the read sequence number is 0 and
//   whatever is left in our input buffer is ours to decrypt. Checked: OpenSSL
//   holds no unread bytes (SSL_has_pending) and the reads stopped on a record
//   boundary.
// 0-RTT is never accepted (early data is off); a connection that somehow
// accepted it stays on OpenSSL.
//
// After the switch: application data both ways; alerts in (close_notify is
// the end of the stream, user_canceled is ignored, anything else fails with
// OpenSSL's reason for it); KeyUpdate in (the read key moves on; asked to,
// we answer with our own and move the write key on, RFC 8446 §4.6.3); any
// other handshake message is unexpected_message (a client sends none after
// its Finished). A failure sends its alert once; nothing is sent after it or
// after close_notify. The write key is renewed by ourselves every 2^24
// records, below AES-GCM's limit (RFC 8446 §5.5).
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "heap_trim.h"
#include "prefetch.h"
#include "tls13_session.h"
#include "tls_stream.h"

namespace ioreactor {

namespace {

constexpr uint64_t kRekeyAfter = uint64_t{1} << 24;
constexpr uint8_t kKeyUpdate = 24;  // the handshake message type (RFC 8446 §4)
constexpr uint8_t kAlertCloseNotify = 0, kAlertUserCanceled = 90;

// "LABEL <client random hex> <secret hex>": the secret into out (up to
// kTls13MaxSecret bytes); its length, or 0 when the line is not that.
size_t parse_secret(const char* line, uint8_t* out) {
  const char* hex = std::strrchr(line, ' ');
  if (hex == nullptr) return 0;
  ++hex;
  size_t digits = std::strcspn(hex, " \r\n");
  if (digits % 2 != 0 || digits / 2 > kTls13MaxSecret) return 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) return 0;
    out[i / 2] = static_cast<uint8_t>(i % 2 == 0 ? v << 4 : out[i / 2] | v);
  }
  return digits / 2;
}

bool starts_with(const char* s, const char* prefix) { return std::strncmp(s, prefix, std::strlen(prefix)) == 0; }

}  // namespace

thread_local uint64_t TlsStream::keylog_lines_ = 0;

void RecordCounter::feed(const uint8_t* p, size_t n) {
  while (n > 0) {
    if (body_left > 0) {
      size_t skip = std::min(n, body_left);
      body_left -= skip;
      p += skip;
      n -= skip;
      continue;
    }
    header[have++] = *p++;
    --n;
    if (have == kTls13Header) {
      body_left = static_cast<size_t>(header[3]) << 8 | header[4];
      have = 0;
      ++records;
    }
  }
}

// Which secrets OpenSSL logs. It hex-encodes each line with one sprintf per
// byte (~46,000 instructions a line; five lines were 8% of a resumed
// handshake), and a server logs five: the two handshake secrets, then the
// exporter secret and the server application secret together, then, on the
// client's Finished, the client application secret. We need the two
// application secrets. The callback belongs to the SSL_CTX and OpenSSL
// formats a line only when one is set, so it is set only where ours come:
// from the start of each handshake step (the client's Finished may be in
// its input) until a ClientHello has been read (the handshake secrets come
// next), again once the EncryptedExtensions are written (the server
// Finished and its secrets come next), and off after each of the two
// arrives: three lines, not five. One loop thread runs a context's
// handshakes, one step at a time, so no connection's step sees another's
// switch. A secret missed would keep that connection on OpenSSL, never
// break it (can_switch).
void TlsStream::install_keylog(SSL_CTX* ctx) { SSL_CTX_set_keylog_callback(ctx, &TlsStream::on_keylog); }

void TlsStream::keylog(const SSL* ssl, bool on) {
  SSL_CTX_set_keylog_callback(SSL_get_SSL_CTX(ssl), on ? &TlsStream::on_keylog : nullptr);
}

void TlsStream::on_state(const SSL* ssl, int where, int ret) {
  (void)ret;
  if ((where & SSL_CB_ACCEPT_LOOP) != SSL_CB_ACCEPT_LOOP) return;
  OSSL_HANDSHAKE_STATE state = SSL_get_state(ssl);  // the step just done
  if (state == TLS_ST_SR_CLNT_HELLO) keylog(ssl, false);
  if (state == TLS_ST_SW_ENCRYPTED_EXTENSIONS) keylog(ssl, true);
}

void TlsStream::on_keylog(const SSL* ssl, const char* line) {
  if (SSL_is_server(ssl) != 1) return;
  keylog_lines_++;
  auto* self = static_cast<TlsStream*>(SSL_get_app_data(ssl));
  if (self != nullptr && self->handoff_) self->note_secret(line);
  if (starts_with(line, "CLIENT_TRAFFIC_SECRET_0 ") || starts_with(line, "SERVER_TRAFFIC_SECRET_0 ")) keylog(ssl, false);
}

void TlsStream::note_secret(const char* line) {
  Tls13Handoff& h = *handoff_;
  bool client = starts_with(line, "CLIENT_TRAFFIC_SECRET_0 ");
  bool server = starts_with(line, "SERVER_TRAFFIC_SECRET_0 ");
  if (!client && !server) return;
  size_t len = parse_secret(line, client ? h.client_secret : h.server_secret);
  (client ? h.client_len : h.server_len) = len;
  if (len == 0) h.ambiguous = true;
  if (!server) return;
  // Records written from here on are under the server application key.
  if (!h.tx.at_boundary()) h.ambiguous = true;
  h.tx_mark = h.tx.records;
}

// Everything that must hold for the sequence numbers and keys to be known;
// any doubt keeps the connection on OpenSSL.
bool TlsStream::can_switch(const Tls13Suite** suite, uint64_t* write_seq) const {
  const Tls13Handoff& h = *handoff_;
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  *suite = c != nullptr ? tls13_suite(SSL_CIPHER_get_protocol_id(c)) : nullptr;
  if (*suite == nullptr || SSL_version(ssl_) != TLS1_3_VERSION || h.ambiguous) return false;
  if (h.client_len != (*suite)->hash_len || h.server_len != (*suite)->hash_len) return false;
  if (tls13_cipher(**suite) == nullptr || !tls13_from_default_provider(**suite, true)) return false;
  if (SSL_get_early_data_status(ssl_) == SSL_EARLY_DATA_ACCEPTED || SSL_get_shutdown(ssl_) != 0) return false;
  if (SSL_has_pending(ssl_) != 0 || !h.rx.at_boundary() || !h.tx.at_boundary()) return false;
  if (SSL_get_key_update_type(ssl_) != SSL_KEY_UPDATE_NONE) return false;
  *write_seq = h.tx.records - h.tx_mark;
  // Only session tickets are written under the application key here.
  return *write_seq <= SSL_get_num_tickets(ssl_);
}

void TlsStream::switch_over() {
  const Tls13Suite* suite = nullptr;
  uint64_t write_seq = 0;
  bool ok = can_switch(&suite, &write_seq);
  std::unique_ptr<Tls13Handoff> h(std::move(handoff_));  // counting ends here either way
  std::unique_ptr<Tls13Session> o(ok ? new (std::nothrow) Tls13Session() : nullptr);
  if (!o || !o->rx.init(*suite, h->client_secret, false) || !o->tx.init(*suite, h->server_secret, true)) return;
  o->tx.start_at(write_seq);
  // The getters still read the SSL (own_ is not set yet): their answers are kept.
  o->verify_result = verify_result();
  o->alpn = alpn();
  o->peer_der = peer_certificate_der();
  o->session_reused = session_reused();
  // As ~TlsStream does: the session stays resumable.
  SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_SENT_SHUTDOWN);
  SSL_free(ssl_);
  ssl_ = nullptr;
  own_ = std::move(o);
  HeapTrim::note_release();
}

void TlsStream::set_sequence_for_test(uint64_t read_seq, uint64_t write_seq) {
  if (!own_) return;
  own_->rx.start_at(read_seq);
  own_->tx.start_at(write_seq);
}

// ---- reading ----

int64_t TlsStream::own_read(uint8_t* out, size_t room) {
  Tls13Session& o = *own_;
  size_t done = 0;
  while (done < room && !o.ended()) {
    if (o.plain_left == 0) {
      if (own_open_next() <= 0) break;
      continue;
    }
    size_t n = std::min(room - done, o.plain_left);
    std::memcpy(out + done, in_buf_.data() + o.plain_at, n);
    o.plain_at += n;
    o.plain_left -= n;
    done += n;
  }
  shrink_input();
  // Content goes first; a close or failure after it is reported next time.
  if (done > 0) return static_cast<int64_t>(done);
  if (o.failed) return kFailed;
  return o.got_close ? kClosed : kNoData;
}

// Opens the record at the front of the avail bytes at rec, in place: 1 with
// *size the bytes it took and *content the length of its application data
// (at rec + 5; 0 for an alert or a KeyUpdate, handled here), 0 when it has
// not all arrived, -1 when the connection failed.
int TlsStream::own_open(uint8_t* rec, size_t avail, size_t* size, size_t* content) {
  *content = 0;
  if (avail < kTls13Header) return 0;
  size_t body = 0;
  RecordError e = tls13_check_header(rec, &body);  // refused before its body arrives
  if (e) return own_fail(e.alert, e.reason, true), -1;
  if (avail < kTls13Header + body) return 0;
  *size = kTls13Header + body;
  uint8_t type = 0;
  size_t len = 0;
  e = own_->rx.open(rec, body, &type, &len);
  if (e) return own_fail(e.alert, e.reason, true), -1;
  if (type == kTypeAlert) return own_alert(rec + kTls13Header, len);
  if (type == kTypeHandshake) return own_handshake(rec + kTls13Header, len);
  *content = len;  // zero-length application data is allowed (RFC 8446 §5.1)
  return 1;
}

// Opens the next whole record in the input buffer; its content is delivered
// from there by own_read. As own_open.
int TlsStream::own_open_next() {
  uint8_t* rec = in_buf_.data() + in_off_;
  size_t size = 0, content = 0;
  int r = own_open(rec, input_pending(), &size, &content);
  if (r <= 0) return r;
  in_off_ += size;
  own_->plain_at = static_cast<size_t>(rec + kTls13Header - in_buf_.data());
  own_->plain_left = content;
  return 1;
}

// Following own_ and the cipher's pointers costs a miss each, paid here
// instead of after the system call; the lines they lead to are only asked for.
void TlsStream::prefetch(bool opening) const {
  prefetch_lines(this, sizeof *this);
  const Tls13Session* o = own_.get();
  if (o == nullptr) return;
  prefetch_lines(o, sizeof *o);
  (opening ? o->rx : o->tx).prefetch();
}

bool TlsStream::can_open_in_place() const {
  return own_ && input_pending() == 0 && own_->plain_left == 0 && !own_->ended();
}

// Each record's content is moved down over the headers and tags before it,
// so what the caller hands on is one run of bytes, as own_read makes.
size_t TlsStream::open_in_place(uint8_t* buf, size_t len, size_t* used) {
  size_t at = 0, out = 0;
  while (!own_->ended()) {
    size_t size = 0, content = 0;
    if (own_open(buf + at, len - at, &size, &content) <= 0) break;
    std::memmove(buf + out, buf + at + kTls13Header, content);
    out += content;
    at += size;
  }
  *used = own_->ended() ? len : at;
  return out;
}

// One alert per record, two bytes; in TLS 1.3 the description decides.
int TlsStream::own_alert(const uint8_t* p, size_t len) {
  if (len != 2) return own_fail(TLS1_AD_DECODE_ERROR, SSL_R_INVALID_ALERT, true), -1;
  if (p[1] == kAlertCloseNotify) {
    own_->got_close = true;
    return 1;
  }
  if (p[1] == kAlertUserCanceled) return 1;
  return own_fail(0, SSL_AD_REASON_OFFSET + p[1], false), -1;
}

// A KeyUpdate alone in its record (a message before a key change must end
// its record, RFC 8446 §5.1; a KeyUpdate split over records, legal but never
// seen, is refused too). Nothing else comes from a client after its Finished.
int TlsStream::own_handshake(const uint8_t* p, size_t len) {
  if (len == 0 || p[0] != kKeyUpdate) return own_fail(SSL3_AD_UNEXPECTED_MESSAGE, SSL_R_UNEXPECTED_MESSAGE, true), -1;
  if (len != 5 || p[1] != 0 || p[2] != 0 || p[3] != 1)
    return own_fail(TLS1_AD_DECODE_ERROR, SSL_R_BAD_LENGTH, true), -1;
  if (p[4] > 1) return own_fail(SSL_AD_ILLEGAL_PARAMETER, SSL_R_BAD_KEY_UPDATE, true), -1;
  if (!own_->rx.update()) return own_fail(SSL_AD_INTERNAL_ERROR, ERR_R_INTERNAL_ERROR, true), -1;
  if (p[4] == 1 && !own_->sent_close && own_key_update(false) != 0) return -1;
  return 1;
}

// ---- writing ----

int TlsStream::own_encrypt(const uint8_t* data, size_t len) {
  if (own_->sent_close || own_->failed) {
    if (error_.empty()) error_ = tls_reason_code(SSL_R_PROTOCOL_IS_SHUTDOWN);
    return -EPROTO;
  }
  size_t records = (len + kTls13MaxPlain - 1) / kTls13MaxPlain;
  borrow(&out_buf_);
  try {  // one allocation for a large write's records (seal() copes if this fails)
    out_buf_.reserve(out_buf_.size() + len + records * (kTls13Header + 1 + kTls13TagLen));
  } catch (const std::bad_alloc&) {
  }
  while (len > 0) {
    size_t n = std::min(len, kTls13MaxPlain);
    if (own_seal(kTypeApplicationData, data, n) != 0) return -EPROTO;
    data += n;
    len -= n;
  }
  return 0;
}

// A tick's small writes wait in the session (a few hundred bytes it always
// has) rather than in plain_: a heap buffer per write, held until the end of
// the tick, was the echo round trip's costliest allocation (the batch's
// buffers are all live at once, more than glibc's per-size cache holds).
// Only while plain_ is empty; a write that does not fit moves what waits
// here into plain_ first, so the order stays.
bool TlsStream::own_take_small(const uint8_t* p, size_t len) {
  Tls13Session& o = *own_;
  if (plain_.empty() && len <= sizeof o.small - o.small_len) {
    if (len > 0) std::memcpy(o.small + o.small_len, p, len);
    o.small_len += len;
    return true;
  }
  borrow(&plain_);
  plain_.insert(plain_.end(), o.small, o.small + o.small_len);
  o.small_len = 0;
  return false;
}

int TlsStream::own_flush_small() {
  size_t n = own_->small_len;
  own_->small_len = 0;
  return n > 0 ? own_encrypt(own_->small, n) : 0;
}

int TlsStream::own_seal(uint8_t type, const uint8_t* data, size_t len) {
  if (own_->tx.seq() >= kRekeyAfter && own_key_update(false) != 0) return -EPROTO;
  RecordError e = own_->tx.seal(type, data, len, &out_buf_);
  return e ? own_fail(e.alert, e.reason, true) : 0;
}

// Our KeyUpdate goes under the current key; the key moves on after it.
int TlsStream::own_key_update(bool request) {
  const uint8_t msg[5] = {kKeyUpdate, 0, 0, 1, static_cast<uint8_t>(request ? 1 : 0)};
  RecordError e = own_->tx.seal(kTypeHandshake, msg, sizeof msg, &out_buf_);
  if (e) return own_fail(e.alert, e.reason, true);
  if (!own_->tx.update()) return own_fail(SSL_AD_INTERNAL_ERROR, ERR_R_INTERNAL_ERROR, false);
  return 0;
}

int TlsStream::own_close_notify() {
  if (own_->sent_close) return 0;
  const uint8_t alert[2] = {SSL3_AL_WARNING, kAlertCloseNotify};
  RecordError e = own_->tx.seal(kTypeAlert, alert, sizeof alert, &out_buf_);
  own_->sent_close = true;
  return e ? own_fail(e.alert, e.reason, false) : 0;
}

// The connection has failed: the reason is kept (OpenSSL's code for it), the
// alert sent once if asked, and nothing is sent or read after. -EPROTO.
int TlsStream::own_fail(uint8_t alert, int reason, bool send_alert) {
  Tls13Session& o = *own_;
  broken_ = true;
  o.failed = true;
  o.plain_left = 0;
  if (error_.empty()) error_ = tls_reason_code(reason);
  if (send_alert && !o.sent_close) {
    const uint8_t msg[2] = {SSL3_AL_FATAL, alert};
    o.sent_close = true;
    (void)o.tx.seal(kTypeAlert, msg, sizeof msg, &out_buf_);
  }
  return -EPROTO;
}

}  // namespace ioreactor
