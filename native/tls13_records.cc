// Sealing and opening TLS 1.3 records (tls13_records.h has the design).
// Every EVP call's result is checked; a failure inside OpenSSL on our own
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
  ERR_clear_error();  // whatever EVP left: the reason says it
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
  EVP_CIPHER_CTX_free(ctx_);
  OPENSSL_cleanse(secret_, sizeof secret_);
  OPENSSL_cleanse(iv_, sizeof iv_);
}

bool RecordCipher::init(const Tls13Suite& suite, const uint8_t* secret, bool encrypt) {
  suite_ = &suite;
  encrypt_ = encrypt;
  std::memcpy(secret_, secret, suite.hash_len);
  return key(secret_);
}

bool RecordCipher::update() { return suite_ != nullptr && tls13_next_secret(*suite_, secret_) && key(secret_); }

// The cipher context is made once and re-keyed in place on a KeyUpdate.
bool RecordCipher::key(const uint8_t* secret) {
  TrafficKeys k;
  const EVP_CIPHER* cipher = tls13_cipher(*suite_);
  bool ok = cipher != nullptr && tls13_traffic_keys(*suite_, secret, &k);
  if (ok && ctx_ == nullptr) ok = (ctx_ = EVP_CIPHER_CTX_new()) != nullptr;
  ok = ok && EVP_CipherInit_ex2(ctx_, cipher, k.key, nullptr, encrypt_ ? 1 : 0, nullptr) == 1;
  if (ok) std::memcpy(iv_, k.iv, kTls13IvLen);
  seq_ = 0;
  OPENSSL_cleanse(&k, sizeof k);
  ERR_clear_error();
  return ok;
}

// RFC 8446 §5.3. The last sequence number is never used: the record that
// would need it fails (the peer should have sent a KeyUpdate long before).
bool RecordCipher::next_nonce(uint8_t* nonce) {
  if (seq_ == UINT64_MAX) return false;
  std::memcpy(nonce, iv_, kTls13IvLen);
  for (int i = 0; i < 8; ++i) nonce[kTls13IvLen - 1 - i] ^= static_cast<uint8_t>(seq_ >> (8 * i));
  ++seq_;
  return true;
}

// Sets this record's nonce and feeds the header as AAD.
bool RecordCipher::start(const uint8_t* nonce, const uint8_t* header) {
  int n = 0;
  return EVP_CipherInit_ex2(ctx_, nullptr, nullptr, nonce, -1, nullptr) == 1 &&
         EVP_CipherUpdate(ctx_, nullptr, &n, header, static_cast<int>(kTls13Header)) == 1;
}

RecordError RecordCipher::seal(uint8_t type, const uint8_t* data, size_t len, std::vector<uint8_t>* out) {
  uint8_t nonce[kTls13IvLen];
  if (ctx_ == nullptr || len > kTls13MaxPlain) return error(kAlertInternal, ERR_R_INTERNAL_ERROR);
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
  int n1 = 0, n2 = 0, n3 = 0;
  bool ok = start(nonce, h) && EVP_CipherUpdate(ctx_, c, &n1, data, static_cast<int>(len)) == 1 &&
            EVP_CipherUpdate(ctx_, c + n1, &n2, &type, 1) == 1 &&
            EVP_CipherFinal_ex(ctx_, c + n1 + n2, &n3) == 1 &&
            static_cast<size_t>(n1 + n2 + n3) == len + 1 &&
            EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, kTls13TagLen, c + len + 1) == 1;
  if (ok) return RecordError();
  out->resize(at);
  return error(kAlertInternal, ERR_R_INTERNAL_ERROR);
}

RecordError RecordCipher::open(uint8_t* rec, size_t body_len, uint8_t* type, size_t* len) {
  uint8_t nonce[kTls13IvLen];
  if (ctx_ == nullptr) return error(kAlertInternal, ERR_R_INTERNAL_ERROR);
  // Shorter than a tag and a type byte: no tag can verify.
  if (body_len < kTls13TagLen + 1) return error(kAlertBadMac, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
  if (!next_nonce(nonce)) return error(kAlertInternal, SSL_R_INVALID_SEQUENCE_NUMBER);
  uint8_t* c = rec + kTls13Header;
  size_t clen = body_len - kTls13TagLen;
  int n1 = 0, n2 = 0;
  bool ok = start(nonce, rec) && EVP_CipherUpdate(ctx_, c, &n1, c, static_cast<int>(clen)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, kTls13TagLen, c + clen) == 1 &&
            EVP_CipherFinal_ex(ctx_, c + n1, &n2) == 1 && static_cast<size_t>(n1 + n2) == clen;
  if (!ok) return error(kAlertBadMac, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
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
