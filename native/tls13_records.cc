// Sealing and opening TLS 1.3 records (tls13_records.h has the design).
// Every AEAD call's result is checked; a failure inside OpenSSL on our own
// keys is an internal_error, and the error queue is left clean for the next
// caller.
#include "tls13_records.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <climits>
#include <cstring>
#include <new>

namespace ioreactor {

namespace {

constexpr uint8_t kAlertUnexpected = SSL3_AD_UNEXPECTED_MESSAGE, kAlertBadMac = SSL3_AD_BAD_RECORD_MAC;
constexpr uint8_t kAlertOverflow = TLS1_AD_RECORD_OVERFLOW, kAlertInternal = TLS1_AD_INTERNAL_ERROR;

RecordError error(uint8_t alert, int reason) {
  ERR_clear_error();  // whatever the cipher left: the reason says it
  RecordError e;
  e.alert = alert;
  e.reason = reason;
  return e;
}

}  // namespace

RecordError tls13_check_header(const uint8_t* p, size_t* len) {
  *len = static_cast<size_t>(p[3]) << 8 | p[4];
  // After the handshake every record is protected and says application_data;
  // a change_cipher_spec is allowed only before the peer's Finished.
  if (p[0] != kTypeApplicationData) return error(kAlertUnexpected, SSL_R_UNEXPECTED_RECORD);
  if (p[1] != 0x03 || p[2] != 0x03) return error(TLS1_AD_PROTOCOL_VERSION, SSL_R_WRONG_VERSION_NUMBER);
  if (*len > kTls13MaxCipher) return error(kAlertOverflow, SSL_R_ENCRYPTED_LENGTH_TOO_LONG);
  return RecordError();
}

RecordCipher::~RecordCipher() {
  OPENSSL_cleanse(secret_, sizeof secret_);
  OPENSSL_cleanse(iv_, sizeof iv_);
}

bool RecordCipher::init(const Tls13Suite& suite, const uint8_t* secret, bool encrypt) {
  suite_ = &suite;
  encrypt_ = encrypt;
  std::memcpy(secret_, secret, suite.hash_len);
  return key(secret_);
}

// A failed derivation may leave entries on OpenSSL's per-thread error queue
// (the digest calls); key() clears it on its own path, this one must too.
bool RecordCipher::update() {
  if (suite_ != nullptr && tls13_next_secret(*suite_, secret_)) return key(secret_);
  ERR_clear_error();
  return false;
}

// The AEAD context is made once and re-keyed in place on a KeyUpdate.
bool RecordCipher::key(const uint8_t* secret) {
  TrafficKeys k;
  keyed_ = tls13_traffic_keys(*suite_, secret, &k) && aead_.init(*suite_, k.key, encrypt_);
  if (keyed_) std::memcpy(iv_, k.iv, kTls13IvLen);
  seq_ = 0;
  OPENSSL_cleanse(&k, sizeof k);
  ERR_clear_error();
  return keyed_;
}

// RFC 8446 §5.3. The last sequence number is never used: the record that
// would need it fails (the peer should have sent a KeyUpdate long before).
bool RecordCipher::next_nonce(uint8_t* nonce) {
  if (seq_ == UINT64_MAX) return false;
  // The sequence number big-endian, XORed into the IV's last 8 bytes as one
  // word (a loop XORing byte by byte cost ~70 instructions a record).
  uint64_t tail, mix;
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  mix = __builtin_bswap64(seq_);
#else
  uint8_t be[8];
  for (int i = 0; i < 8; ++i) be[i] = static_cast<uint8_t>(seq_ >> (56 - 8 * i));
  std::memcpy(&mix, be, 8);
#endif
  std::memcpy(&tail, iv_ + kTls13IvLen - 8, 8);
  tail ^= mix;
  std::memcpy(nonce, iv_, kTls13IvLen - 8);
  std::memcpy(nonce + kTls13IvLen - 8, &tail, 8);
  ++seq_;
  return true;
}

// The inner plaintext (content, then its type) is laid out in the output and
// sealed there in place: one pass of the cipher over the record.
RecordError RecordCipher::seal(uint8_t type, const uint8_t* data, size_t len, std::vector<uint8_t>* out) {
  uint8_t nonce[kTls13IvLen];
  if (!keyed_ || len > kTls13MaxPlain) return error(kAlertInternal, ERR_R_INTERNAL_ERROR);
  if (!next_nonce(nonce)) return error(kAlertInternal, SSL_R_INVALID_SEQUENCE_NUMBER);
  size_t body = len + 1 + kTls13TagLen;
  size_t at = out->size();
  try {
    out->resize(at + kTls13Header + body);  // the caller keeps the capacity across records
  } catch (const std::bad_alloc&) {
    return error(kAlertInternal, ERR_R_MALLOC_FAILURE);
  }
  uint8_t* h = out->data() + at;
  h[0] = kTypeApplicationData;
  h[1] = h[2] = 0x03;
  h[3] = static_cast<uint8_t>(body >> 8);
  h[4] = static_cast<uint8_t>(body);
  uint8_t* c = h + kTls13Header;
  if (len > 0) std::memcpy(c, data, len);
  c[len] = type;
  if (aead_.seal(nonce, h, kTls13Header, c, len + 1, c + len + 1)) return RecordError();
  out->resize(at);
  return error(kAlertInternal, ERR_R_INTERNAL_ERROR);
}

RecordError RecordCipher::open(uint8_t* rec, size_t body_len, uint8_t* type, size_t* len) {
  uint8_t nonce[kTls13IvLen];
  if (!keyed_) return error(kAlertInternal, ERR_R_INTERNAL_ERROR);
  // Shorter than a tag and a type byte: no tag can verify.
  if (body_len < kTls13TagLen + 1) return error(kAlertBadMac, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
  if (!next_nonce(nonce)) return error(kAlertInternal, SSL_R_INVALID_SEQUENCE_NUMBER);
  uint8_t* c = rec + kTls13Header;
  size_t clen = body_len - kTls13TagLen;
  if (!aead_.open(nonce, rec, kTls13Header, c, clen, c + clen)) return error(kAlertBadMac, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
  if (clen > kTls13MaxPlain + 1) return error(kAlertOverflow, SSL_R_DATA_LENGTH_TOO_LONG);
  // The content type is the last non-zero byte; zeros after it are padding.
  size_t end = clen;
  while (end > 0 && c[end - 1] == 0) --end;
  if (end == 0) return error(kAlertUnexpected, SSL_R_BAD_RECORD_TYPE);
  *type = c[end - 1];
  *len = end - 1;
  if (*type != kTypeApplicationData && *type != kTypeAlert && *type != kTypeHandshake)
    return error(kAlertUnexpected, SSL_R_BAD_RECORD_TYPE);
  return RecordError();
}

}  // namespace ioreactor
