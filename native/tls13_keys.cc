// HKDF-Expand-Label and the traffic key derivation (tls13_keys.h has the
// design). The HkdfLabel structure of RFC 8446 §7.1 is built on the stack:
// labels here are short constants, contexts empty.
#include "tls13_keys.h"

#include <openssl/crypto.h>

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

// HMAC (RFC 2104) over the suite's already fetched hash. OpenSSL 3.0's
// HMAC() goes through EVP_Q_mac, which fetches the MAC and then the digest
// by name on every call (~19,000 instructions, four calls per connection);
// this is two hashes of two blocks each. `key` is a traffic secret, never
// longer than the hash's block.
bool hmac(const EVP_MD* md, const uint8_t* key, size_t key_len, const uint8_t* msg, size_t msg_len, uint8_t* out) {
  const size_t block = static_cast<size_t>(EVP_MD_get_block_size(md));
  const size_t hash_len = static_cast<size_t>(EVP_MD_get_size(md));
  uint8_t pad[128], inner[EVP_MAX_MD_SIZE];
  if (key_len > block || block > sizeof pad) return false;
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  bool ok = c != nullptr;
  for (int round = 0; ok && round < 2; ++round) {
    const uint8_t x = round == 0 ? 0x36 : 0x5c;  // ipad, then opad
    for (size_t i = 0; i < block; ++i) pad[i] = static_cast<uint8_t>((i < key_len ? key[i] : 0) ^ x);
    ok = EVP_DigestInit_ex2(c, md, nullptr) == 1 && EVP_DigestUpdate(c, pad, block) == 1 &&
         EVP_DigestUpdate(c, round == 0 ? msg : inner, round == 0 ? msg_len : hash_len) == 1 &&
         EVP_DigestFinal_ex(c, round == 0 ? inner : out, nullptr) == 1;
  }
  EVP_MD_CTX_free(c);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(inner, sizeof inner);
  return ok;
}

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

// HkdfLabel = uint16 length | opaque label<7..255> ("tls13 " + label) |
// opaque context<0..255>, then HKDF-Expand's counter byte 0x01.
bool hkdf_expand_label(const Tls13Suite& s, const uint8_t* secret, const char* label, const uint8_t* context,
                       size_t context_len, uint8_t* out, size_t out_len) {
  static const char kPrefix[] = "tls13 ";
  size_t label_len = sizeof kPrefix - 1 + std::strlen(label);
  const EVP_MD* md = tls13_digest(s);
  if (md == nullptr || out_len > s.hash_len || label_len > 255 || context_len > 255) return false;
  uint8_t info[2 + 1 + 255 + 1 + 255 + 1];
  size_t n = 0;
  info[n++] = static_cast<uint8_t>(out_len >> 8);
  info[n++] = static_cast<uint8_t>(out_len);
  info[n++] = static_cast<uint8_t>(label_len);
  std::memcpy(info + n, kPrefix, sizeof kPrefix - 1);
  std::memcpy(info + n + sizeof kPrefix - 1, label, label_len - (sizeof kPrefix - 1));
  n += label_len;
  info[n++] = static_cast<uint8_t>(context_len);
  if (context_len > 0) std::memcpy(info + n, context, context_len);
  n += context_len;
  info[n++] = 0x01;
  uint8_t block[EVP_MAX_MD_SIZE];
  bool ok = static_cast<size_t>(EVP_MD_get_size(md)) == s.hash_len && hmac(md, secret, s.hash_len, info, n, block);
  if (ok) std::memcpy(out, block, out_len);
  OPENSSL_cleanse(block, sizeof block);
  return ok;
}

bool tls13_traffic_keys(const Tls13Suite& s, const uint8_t* secret, TrafficKeys* out) {
  return hkdf_expand_label(s, secret, "key", nullptr, 0, out->key, s.key_len) &&
         hkdf_expand_label(s, secret, "iv", nullptr, 0, out->iv, kTls13IvLen);
}

bool tls13_next_secret(const Tls13Suite& s, uint8_t* secret) {
  uint8_t next[kTls13MaxSecret];
  if (!hkdf_expand_label(s, secret, "traffic upd", nullptr, 0, next, s.hash_len)) return false;
  std::memcpy(secret, next, s.hash_len);
  OPENSSL_cleanse(next, sizeof next);
  return true;
}

}  // namespace ioreactor
