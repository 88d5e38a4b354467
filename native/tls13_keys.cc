// HKDF-Expand-Label and the traffic key derivation (tls13_keys.h has the
// design). The HkdfLabel structure of RFC 8446 §7.1 is built on the stack:
// labels here are short constants, contexts empty.
// The direct SHA-2 functions below are deprecated in OpenSSL 3.0 (see Hash).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "tls13_keys.h"

#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <openssl/sha.h>

#include <cstring>

namespace ioreactor {

namespace {

const Tls13Suite kSuites[] = {
    {0x1301, "AES-128-GCM", "SHA256", 16, 32},
    {0x1302, "AES-256-GCM", "SHA384", 32, 48},
    {0x1303, "ChaCha20-Poly1305", "SHA256", 32, 32},
};

// Fetched once per process (a thread-safe static), not per connection or
// per record; kept for the process's life (OpenSSL's objects are shared
// between threads).
template <typename T>
T* fetched(const Tls13Suite& s, T* const (&cache)[3]) {
  size_t i = static_cast<size_t>(&s - kSuites);
  return i < 3 ? cache[i] : nullptr;
}

// The suite's hash through OpenSSL's direct functions (SHA256_*, SHA384_*),
// not EVP: EVP_DigestInit/Final in OpenSSL 3.0 go through the provider on
// every call (a context allocated, parameters looked up, freed and
// cleansed), ~4,500 instructions per HMAC on top of the hashing itself,
// where a direct context is a plain struct that can be copied. They are
// deprecated in 3.0 but kept in every 3.x, and the same assembly
// (SHA-NI, AVX2) runs under either.
struct Hash {
  bool sha384 = false;
  union {
    SHA256_CTX s256;
    SHA512_CTX s512;  // SHA-384's state too
  };
  explicit Hash(bool use_sha384) : sha384(use_sha384) { sha384 ? SHA384_Init(&s512) : SHA256_Init(&s256); }
  void update(const uint8_t* p, size_t n) { sha384 ? SHA384_Update(&s512, p, n) : SHA256_Update(&s256, p, n); }
  void final(uint8_t* out) { sha384 ? SHA384_Final(out, &s512) : SHA256_Final(out, &s256); }
  void cleanse() { OPENSSL_cleanse(sha384 ? static_cast<void*>(&s512) : static_cast<void*>(&s256), sha384 ? sizeof s512 : sizeof s256); }
};

// HMAC (RFC 2104) keyed once: the hash states after the padded key, copied
// for each message, so the expansions of one secret (a key and an IV) hash
// the two pad blocks once. `key` is a traffic secret, never longer than the
// hash's block (64 or 128 bytes).
class KeyedHmac {
 public:
  KeyedHmac(const Tls13Suite& s, const uint8_t* key) : len_(s.hash_len), inner_(len_ == 48), outer_(len_ == 48) {
    uint8_t pad[128];
    const size_t block = len_ == 48 ? 128 : 64;
    for (int round = 0; round < 2; ++round) {
      const uint8_t x = round == 0 ? 0x36 : 0x5c;  // ipad, then opad
      for (size_t i = 0; i < block; ++i) pad[i] = static_cast<uint8_t>((i < len_ ? key[i] : 0) ^ x);
      (round == 0 ? inner_ : outer_).update(pad, block);
    }
    OPENSSL_cleanse(pad, sizeof pad);
  }
  ~KeyedHmac() {
    inner_.cleanse();
    outer_.cleanse();
  }
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;

  // HMAC(key, msg) into out (hash_len bytes).
  void mac(const uint8_t* msg, size_t msg_len, uint8_t* out) const {
    uint8_t inner_hash[kTls13MaxSecret];
    Hash h = inner_;
    h.update(msg, msg_len);
    h.final(inner_hash);
    h = outer_;
    h.update(inner_hash, len_);
    h.final(out);
    h.cleanse();
    OPENSSL_cleanse(inner_hash, sizeof inner_hash);
  }

  // HKDF-Expand-Label(key, label, context, out_len): HkdfLabel = uint16
  // length | opaque label<7..255> ("tls13 " + label) | opaque
  // context<0..255>, then HKDF-Expand's counter byte 0x01.
  bool expand_label(const char* label, const uint8_t* context, size_t context_len, uint8_t* out, size_t out_len) const {
    static const char kPrefix[] = "tls13 ";
    const size_t prefix_len = sizeof kPrefix - 1;
    const size_t label_len = prefix_len + std::strlen(label);
    if (out_len > len_ || label_len > 255 || context_len > 255) return false;
    uint8_t info[2 + 1 + 255 + 1 + 255 + 1];
    size_t n = 0;
    info[n++] = static_cast<uint8_t>(out_len >> 8);
    info[n++] = static_cast<uint8_t>(out_len);
    info[n++] = static_cast<uint8_t>(label_len);
    std::memcpy(info + n, kPrefix, prefix_len);
    std::memcpy(info + n + prefix_len, label, label_len - prefix_len);
    n += label_len;
    info[n++] = static_cast<uint8_t>(context_len);
    if (context_len > 0) std::memcpy(info + n, context, context_len);
    n += context_len;
    info[n++] = 0x01;
    uint8_t block[kTls13MaxSecret];
    mac(info, n, block);
    std::memcpy(out, block, out_len);
    OPENSSL_cleanse(block, sizeof block);
    return true;
  }

 private:
  size_t len_;
  Hash inner_, outer_;
};

}  // namespace

const Tls13Suite* tls13_suite(uint16_t id) {
  for (const Tls13Suite& s : kSuites) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

const EVP_CIPHER* tls13_cipher(const Tls13Suite& s) {
  static EVP_CIPHER* const cache[3] = {EVP_CIPHER_fetch(nullptr, kSuites[0].cipher, nullptr),
                                       EVP_CIPHER_fetch(nullptr, kSuites[1].cipher, nullptr),
                                       EVP_CIPHER_fetch(nullptr, kSuites[2].cipher, nullptr)};
  return fetched<EVP_CIPHER>(s, cache);
}

const EVP_MD* tls13_digest(const Tls13Suite& s) {
  static EVP_MD* const cache[3] = {EVP_MD_fetch(nullptr, kSuites[0].digest, nullptr),
                                   EVP_MD_fetch(nullptr, kSuites[1].digest, nullptr),
                                   EVP_MD_fetch(nullptr, kSuites[2].digest, nullptr)};
  return fetched<EVP_MD>(s, cache);
}

bool tls13_from_default_provider(const Tls13Suite& s, bool digest) {
  const OSSL_PROVIDER* prov = nullptr;
  if (digest && tls13_digest(s) != nullptr) prov = EVP_MD_get0_provider(tls13_digest(s));
  if (!digest && tls13_cipher(s) != nullptr) prov = EVP_CIPHER_get0_provider(tls13_cipher(s));
  const char* name = prov != nullptr ? OSSL_PROVIDER_get0_name(prov) : nullptr;
  return name != nullptr && std::strcmp(name, "default") == 0;
}

bool hkdf_expand_label(const Tls13Suite& s, const uint8_t* secret, const char* label, const uint8_t* context,
                       size_t context_len, uint8_t* out, size_t out_len) {
  return KeyedHmac(s, secret).expand_label(label, context, context_len, out, out_len);
}

bool tls13_traffic_keys(const Tls13Suite& s, const uint8_t* secret, TrafficKeys* out) {
  KeyedHmac k(s, secret);
  return k.expand_label("key", nullptr, 0, out->key, s.key_len) && k.expand_label("iv", nullptr, 0, out->iv, kTls13IvLen);
}

bool tls13_next_secret(const Tls13Suite& s, uint8_t* secret) {
  uint8_t next[kTls13MaxSecret];
  if (!hkdf_expand_label(s, secret, "traffic upd", nullptr, 0, next, s.hash_len)) return false;
  std::memcpy(secret, next, s.hash_len);
  OPENSSL_cleanse(next, sizeof next);
  return true;
}

}  // namespace ioreactor
