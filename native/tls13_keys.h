// TLS 1.3 traffic keys (RFC 8446 §7.1, §7.3) from a traffic secret, for the
// record layer of our own (tls13_records.h) that takes a server connection
// over once OpenSSL has finished its handshake.
//
// Only HKDF-Expand-Label is needed here: OpenSSL's handshake computes the
// traffic secrets (we receive them through the keylog callback); we derive
// the record key and IV from each, and the next secret of a KeyUpdate
// ("traffic upd"). Every output we need is at most one hash long, so
// HKDF-Expand is a single HMAC (RFC 5869 §2.3: T(1) = HMAC(PRK, info | 0x01)),
// computed over OpenSSL's SHA-256 and SHA-384 (tls13_keys.cc says why not
// its HMAC() or EVP digests); no cipher or hash function is written here.
//
// The suites: the three TLS 1.3 AEADs OpenSSL negotiates by default. A
// connection on any other suite stays on OpenSSL's record layer.
#ifndef IOREACTOR_TLS13_KEYS_H
#define IOREACTOR_TLS13_KEYS_H

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>

namespace ioreactor {

struct Tls13Suite {
  uint16_t id;         // the cipher suite's protocol number (0x1301...)
  const char* cipher;  // OpenSSL's name of the AEAD
  const char* digest;  // the suite's hash, for HKDF
  size_t key_len;
  size_t hash_len;  // the length of its traffic secrets
};

constexpr size_t kTls13IvLen = 12;       // every TLS 1.3 AEAD's nonce (RFC 8446 §5.3)
constexpr size_t kTls13MaxSecret = 48;   // SHA-384
constexpr size_t kTls13MaxKey = 32;      // AES-256, ChaCha20
constexpr size_t kTls13TagLen = 16;      // every one of the three suites' tag

// The suite with protocol number `id`, or nullptr when we do not handle it.
const Tls13Suite* tls13_suite(uint16_t id);
// The suite's AEAD and hash, fetched once per process; nullptr if unavailable.
const EVP_CIPHER* tls13_cipher(const Tls13Suite& s);
const EVP_MD* tls13_digest(const Tls13Suite& s);
// Whether the suite's hash (`digest`) or AEAD (`!digest`) was fetched from
// OpenSSL's "default" provider. The traffic keys here are derived on the
// direct SHA-2 functions, which a FIPS or other configured provider never
// sees, so our record layer takes a connection over only when the hash is
// the default provider's (TlsStream::can_switch).
bool tls13_from_default_provider(const Tls13Suite& s, bool digest);

// HKDF-Expand-Label(secret, label, context, out_len) for out_len up to the
// hash length (all TLS 1.3 needs for traffic keys). false on failure.
bool hkdf_expand_label(const Tls13Suite& s, const uint8_t* secret, const char* label, const uint8_t* context,
                       size_t context_len, uint8_t* out, size_t out_len);

// The record key and IV of a traffic secret (RFC 8446 §7.3).
struct TrafficKeys {
  uint8_t key[kTls13MaxKey];
  uint8_t iv[kTls13IvLen];
};
bool tls13_traffic_keys(const Tls13Suite& s, const uint8_t* secret, TrafficKeys* out);
// application_traffic_secret_N+1 from N, in place (RFC 8446 §7.2).
bool tls13_next_secret(const Tls13Suite& s, uint8_t* secret);

}  // namespace ioreactor

#endif  // IOREACTOR_TLS13_KEYS_H
