// One TLS connection's state: an SSL object over one BIO of ours that reads
// ciphertext from a buffer the loop fills and appends what OpenSSL writes to
// another.
//
// Why BIOs over memory rather than a BIO on the socket: the engine then never
// touches an fd, so the loop keeps doing all socket I/O with the machinery
// plaintext streams already have (read into the slab, send at once, only the
// remainder copied into the WriteBuffer, writable interest while it is
// non-empty), and the engine is driven byte-for-byte by tests and a fuzz
// target with no socket at all. The price is one memcpy of ciphertext each
// way, small next to the cipher itself. Why one BIO of ours rather than
// OpenSSL's memory BIOs: each BIO costs ~190 bytes and a memory BIO ~100 more
// for its BUF_MEM, for every idle connection (bench/PERFORMANCE.md counts
// them); ours is two vectors in this object, and the output side needs no
// memset on reset. A consequence: OpenSSL never reports WANT_WRITE (the
// output always takes a whole record); socket back-pressure is the
// WriteBuffer's job. WANT_READ means "feed more ciphertext".
//
// A write made before the handshake is done must wait for reads (the peer's
// handshake messages): its plaintext is held here and encrypted the moment
// the handshake completes. Writes are coalesced: plaintext waits here until
// flush(), which the loop's user calls once at the end of each JS tick, so
// the small writes of one tick (and the pieces of a writev) become records
// of up to 16 KiB, never one record per write; a whole record's worth is
// encrypted at once.
//
// A TLS 1.3 server connection leaves OpenSSL once its handshake is done: the
// traffic secrets come from the keylog callback, the SSL object is freed
// (about 10 KB of an idle connection's memory) and our own record layer
// (tls13_records.h) carries the connection from then on; tls_stream_tls13.cc
// explains how the sequence numbers are known. Clients, TLS 1.2 and other
// suites stay on OpenSSL, and so does any connection where something does
// not add up. The API below is the same either way.
#ifndef IOREACTOR_TLS_STREAM_H
#define IOREACTOR_TLS_STREAM_H

#include <openssl/ssl.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "buffer_pool.h"
#include "tls_context.h"

namespace ioreactor {

struct Tls13Suite;
struct Tls13Handoff;
struct Tls13Session;

class TlsStream {
 public:
  enum class Step { kAgain, kDone, kFailed };
  // read(): what came out besides plaintext bytes (> 0), in the errno
  // convention (poller.h): 0 is the end of the stream, as for read(2).
  static constexpr int64_t kNoData = -EAGAIN;  // nothing decrypted yet
  static constexpr int64_t kClosed = 0;        // the peer's close_notify
  static constexpr int64_t kFailed = -EPROTO;  // a protocol error (error_code() says which)

  // nullptr with *err set on failure. `host` (client): SNI name and the name
  // the certificate must match when the context verifies.
  static std::unique_ptr<TlsStream> create(std::shared_ptr<TlsContext> ctx, const std::string& host, std::string* err);
  ~TlsStream();
  // Client: names the peer for session reuse (before the first handshake
  // step): a session saved under `key` is offered, and the ones this
  // connection receives are saved under it. Empty: no reuse. 0 or -EPROTO.
  int reuse_sessions(const std::string& key);
  // Where the engine borrows its buffers from and gives them back to once
  // empty (buffer_pool.h); without one (nullptr) each is allocated and
  // freed. The pool must outlive this stream.
  void set_pool(BufferPool* pool) { pool_ = pool; }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Ciphertext received from the peer. 0 or -ENOMEM.
  int feed(const uint8_t* data, size_t len);
  // The read path without a copy, for a connection on our record layer with
  // nothing fed and not read yet (can_open_in_place()): the whole records at
  // the front of the len bytes of ciphertext at buf are opened where they
  // lie and their content moved together to buf's start. Returns the
  // content's length; *used is the ciphertext taken, and the rest (a record
  // not all there yet) is the caller's to feed(). After a close or a failure
  // nothing more is taken (*used is len) and has_input() says so, so read()
  // reports it next, after the content.
  bool can_open_in_place() const;
  size_t open_in_place(uint8_t* buf, size_t len, size_t* used);
  // Advances the handshake; kDone once (and on every later call).
  Step handshake();
  bool established() const { return established_; }
  // Decrypts into out: bytes (> 0), kNoData, kClosed or kFailed.
  int64_t read(uint8_t* out, size_t room);
  // Something is left for read(): ciphertext not decrypted, or plaintext of
  // a record that did not fit.
  bool has_input() const;
  // Takes plaintext: whole records are encrypted now, the rest waits for
  // flush() (everything waits before the handshake). 0, or -EPROTO with error_code() set.
  int writev(const struct iovec* iov, int count);
  // Encrypts what writev left waiting (nothing before the handshake). 0 or -EPROTO.
  int flush();
  // Queues close_notify (after any held plaintext). 0 or -EPROTO.
  int close_notify();
  // Ciphertext waiting to be sent, and dropping it once taken.
  size_t output(const uint8_t** data) const;
  bool has_output() const { return !out_buf_.empty(); }
  size_t output_size() const { return out_buf_.size(); }
  void consume_output();
  // Plaintext held until the handshake completes (what waits for flush() after it is not counted).
  size_t held() const { return established_ ? 0 : plain_.size(); }
  // Asks the CPU for what the next record opened (opening) or sealed will
  // read: this object, and on our record layer the session and that
  // direction's cipher state (prefetch.h). For the loop to call before a
  // system call, so the lines arrive while the kernel works.
  void prefetch(bool opening) const;
  // Bytes of capacity the engine's own buffers hold (output, plaintext, input).
  size_t buffer_capacity() const;

  const std::string& error_code() const { return error_; }
  // Records a failure found outside OpenSSL (a TCP close without close_notify).
  void fail_with(const char* code) {
    if (error_.empty()) error_ = code;
  }
  long verify_result() const;
  std::string alpn() const;
  std::string peer_certificate_der() const;
  std::string version() const;
  bool session_reused() const;
  // What a completed handshake settled, as its record carries it to JS
  // (loop_tls.cc; lib/tls/session.ts reads it): bit 0 the session was
  // resumed, bits 8-11 the version (TLS 1.x is x + 1, 0 unknown). `more`:
  // there is an ALPN protocol or a peer certificate too, which JS then asks
  // for (tlsSettled); most servers have neither, so most handshakes need
  // no call at all.
  int32_t settled_flags(bool* more) const;
  // "own" once the connection runs on our TLS 1.3 record layer, else "openssl".
  const char* record_layer() const { return own_ ? "own" : "openssl"; }
  // Server contexts: the keylog callback that hands the traffic secrets over.
  static void install_keylog(SSL_CTX* ctx);
  // Tests: how many secrets OpenSSL has logged to server connections (this thread).
  static uint64_t keylog_lines_for_test() { return keylog_lines_; }
  // The SSL object, nullptr once our record layer runs (tests drive OpenSSL
  // directly through it: key updates, ticket counts, groups).
  SSL* ssl() const { return ssl_; }
  // Tests: the sequence numbers the record layer continues from (no-op on OpenSSL).
  void set_sequence_for_test(uint64_t read_seq, uint64_t write_seq);

 private:
  explicit TlsStream(std::shared_ptr<TlsContext> ctx);
  int failed(int ret, const char* fallback);
  static constexpr size_t kSmallRecord = 512;  // OpenSSL's smallest send fragment limit
  void size_record_buffer(size_t len);
  int encrypt(const uint8_t* data, size_t len);
  int release_held();
  int take(const uint8_t* p, size_t len);
  void shrink_input();
  void borrow(std::vector<uint8_t>* v) {
    if (pool_ != nullptr && v->capacity() == 0) pool_->lend(v);
  }
  void release(std::vector<uint8_t>* v);
  size_t input_pending() const { return in_buf_.size() - in_off_; }
  static int bio_read(BIO* b, char* data, int len);
  static int bio_write(BIO* b, const char* data, int len);
  static long bio_ctrl(BIO* b, int cmd, long num, void* ptr);
  static BIO* new_bio(TlsStream* owner);
  // Our TLS 1.3 record layer (tls_stream_tls13.cc).
  static void on_keylog(const SSL* ssl, const char* line);
  static void keylog(const SSL* ssl, bool on);
  static void on_state(const SSL* ssl, int where, int ret);
  static thread_local uint64_t keylog_lines_;
  void note_secret(const char* line);
  bool can_switch(const Tls13Suite** suite, uint64_t* write_seq) const;
  void switch_over();
  int64_t own_read(uint8_t* out, size_t room);
  int own_open(uint8_t* rec, size_t avail, size_t* size, size_t* content);
  int own_open_next();
  int own_alert(const uint8_t* p, size_t len);
  int own_handshake(const uint8_t* p, size_t len);
  int own_encrypt(const uint8_t* data, size_t len);
  bool own_take_small(const uint8_t* p, size_t len);
  int own_flush_small();
  int own_seal(uint8_t type, const uint8_t* data, size_t len);
  int own_key_update(bool request);
  int own_close_notify();
  int own_fail(uint8_t alert, int reason, bool send_alert);

  std::shared_ptr<TlsContext> ctx_;
  BufferPool* pool_ = nullptr;
  SSL* ssl_ = nullptr;  // owns the one BIO (reads in_buf_, appends to out_buf_); null once own_ runs
  std::unique_ptr<Tls13Handoff> handoff_;  // TLS 1.3 server, during the handshake
  std::unique_ptr<Tls13Session> own_;  // after the switch to our record layer
  std::vector<uint8_t> in_buf_;  // ciphertext fed, from in_off_ on not read yet
  size_t in_off_ = 0;
  std::vector<uint8_t> out_buf_;
  std::vector<uint8_t> plain_;  // plaintext not encrypted yet
  std::string error_;
  std::string session_key_;
  bool established_ = false;
  bool broken_ = false;  // OpenSSL itself failed (not a TCP close): the session is not reused
  bool close_held_ = false;  // close_notify asked for before the handshake finished
  bool small_records_ = false;  // the send fragment limit is kSmallRecord (size_record_buffer)
};

}  // namespace ioreactor

#endif  // IOREACTOR_TLS_STREAM_H
