// One direction of a TLS 1.3 record layer (RFC 8446 §5): seal and open
// application-key records with OpenSSL's AEAD (tls13_aead.h: the provider's
// implementation, without EVP's per-call parameter lookups), nothing of the
// cipher written here. TlsStream uses two of these for a server connection once
// OpenSSL's handshake is over and the SSL object is freed (tls_stream.h).
//
// Per record: nonce = IV XOR the 64-bit sequence number (big-endian, left
// padded to the IV's 12 bytes); AAD = the 5-byte record header; the inner
// plaintext is content | content type | zero padding, sealed in place in the
// output as one piece. The cipher context is built once per key and reused:
// a record sets only its nonce, so the hot path makes no allocation.
//
// Checks on input, each with the alert RFC 8446 asks for and OpenSSL's
// reason code (the same codes the OpenSSL path reports): an outer type other
// than application_data, a legacy version other than 0x0303, a ciphertext
// over 2^14 + 256 bytes, a bad tag, an inner plaintext over 2^14 bytes, an
// inner plaintext of zeros only, an unknown inner type. A sequence number
// never wraps: the record that would need 2^64 - 1 fails instead.
#ifndef IOREACTOR_TLS13_RECORDS_H
#define IOREACTOR_TLS13_RECORDS_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tls13_aead.h"
#include "tls13_keys.h"

namespace ioreactor {

constexpr size_t kTls13Header = 5;
constexpr size_t kTls13MaxPlain = 16 * 1024;  // 2^14
constexpr size_t kTls13MaxCipher = kTls13MaxPlain + 256;
// Content types (RFC 8446 §5.1).
constexpr uint8_t kTypeChangeCipherSpec = 20, kTypeAlert = 21, kTypeHandshake = 22, kTypeApplicationData = 23;

// Why a record failed: the alert to send and OpenSSL's reason (SSL_R_*).
struct RecordError {
  uint8_t alert = 0;  // 0: no error
  int reason = 0;
  explicit operator bool() const { return alert != 0; }
};

// The header of a record (5 bytes at p) checked; its body length in *len.
RecordError tls13_check_header(const uint8_t* p, size_t* len);

class RecordCipher {
 public:
  RecordCipher() = default;
  ~RecordCipher();
  RecordCipher(const RecordCipher&) = delete;
  RecordCipher& operator=(const RecordCipher&) = delete;

  // Keys this direction from a traffic secret (hash_len bytes), seq 0.
  bool init(const Tls13Suite& suite, const uint8_t* secret, bool encrypt);
  // KeyUpdate: the next secret and its keys, seq 0 (RFC 8446 §4.6.3).
  bool update();
  // Appends one record (header, ciphertext, tag) carrying `len` <= 2^14
  // bytes of content `type` to out.
  RecordError seal(uint8_t type, const uint8_t* data, size_t len, std::vector<uint8_t>* out);
  // Decrypts the record at rec (header checked, body of body_len) in place:
  // the content starts at rec + 5, its length in *len, its type in *type.
  RecordError open(uint8_t* rec, size_t body_len, uint8_t* type, size_t* len);
  uint64_t seq() const { return seq_; }
  // Asks for the cipher's state ahead of a record (prefetch.h).
  void prefetch() const { aead_.prefetch(); }
  // Continues a key's sequence after records someone else sealed with it
  // (OpenSSL's session tickets); tests use it for the wrap guard.
  void start_at(uint64_t seq) { seq_ = seq; }

 private:
  bool key(const uint8_t* secret);
  bool next_nonce(uint8_t* nonce);

  Tls13Aead aead_;
  bool keyed_ = false;
  const Tls13Suite* suite_ = nullptr;
  uint8_t secret_[kTls13MaxSecret] = {};
  uint8_t iv_[kTls13IvLen] = {};
  uint64_t seq_ = 0;
  bool encrypt_ = false;
};

}  // namespace ioreactor

#endif  // IOREACTOR_TLS13_RECORDS_H
