// AES-GCM for small TLS 1.3 records straight on OpenSSL's GCM mode and its
// AES-NI block functions, without the provider layer in between (used by
// Tls13Aead, tls13_aead.h, for records under kGcmDirectMax bytes).
//
// Why: a provider's cipher takes its tag as a context parameter looked up by
// name. Sealing reads it (get_ctx_params: eight OSSL_PARAM_locate/strcmp over
// our one-entry array), opening sets it (set_ctx_params: five more), and the
// provider's update and final wrap the mode in two more layers. For the
// ~130-byte records of an HTTPS hello that was ~1,300 instructions per request
// of ~11,400 (bench/PERFORMANCE.md, "HTTPS hello"), more than the AES-GCM
// arithmetic itself. OpenSSL 3.0's default provider runs a small AES-GCM
// record on x86-64 with AES-NI as exactly these calls: CRYPTO_gcm128_setiv,
// _aad, _encrypt_ctr32/_decrypt_ctr32 with aesni_ctr32_encrypt_blocks, and
// _tag/_finish (cipher_aes_gcm_hw_aesni.inc), keyed by aesni_set_encrypt_key
// with aesni_encrypt as the block function. So the bytes, the constant-time
// AES-NI rounds and the GHASH implementation (picked inside
// CRYPTO_gcm128_init from the CPU) are OpenSSL's own; only the parameter
// plumbing goes. Larger records keep the provider, whose stitched
// AES-NI/GHASH loop (from 288 bytes) this path does not reach; the bound
// is the round 256 below it, where the parameter lookups are already a
// small share of a record.
//
// When: the CPU has AES-NI and PCLMULQDQ, the suite's cipher came from the
// "default" provider (a FIPS or other provider is never bypassed), and the
// node binary exports the three aesni_* functions (Node's official builds
// link OpenSSL statically and export its symbols; a Node on a shared
// libcrypto does not, and then available() is false and every record goes
// through the provider), and OPENSSL_ia32cap is not set (a mask this path
// would not honour). They are looked up once per process with dlsym, and
// kept only if a known-answer record sealed through them matches EVP's
// byte for byte: they are OpenSSL's internal entry points, not its API.
#ifndef IOREACTOR_TLS13_GCM_H
#define IOREACTOR_TLS13_GCM_H

#include <cstddef>
#include <cstdint>
#include <memory>

#include "tls13_keys.h"

namespace ioreactor {

// Records whose inner plaintext is shorter than this take the direct path.
constexpr size_t kGcmDirectMax = 256;

struct GcmDirectState;  // tls13_gcm.cc: the key schedule and the GCM context

class Tls13Gcm {
 public:
  Tls13Gcm();
  ~Tls13Gcm();
  Tls13Gcm(const Tls13Gcm&) = delete;
  Tls13Gcm& operator=(const Tls13Gcm&) = delete;

  // Whether this process can drive the suite directly (above).
  static bool available(const Tls13Suite& suite);
  // Keys (or re-keys) it; false when unavailable or out of memory.
  bool init(const Tls13Suite& suite, const uint8_t* key);
  bool keyed() const { return state_ != nullptr; }
  // Asks for the key schedule and the GCM context ahead of a record (prefetch.h).
  void prefetch() const;
  // As Tls13Aead::seal / open (in place, 12-byte nonce, 16-byte tag).
  bool seal(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, uint8_t* buf, size_t len, uint8_t* tag);
  bool open(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, uint8_t* buf, size_t len, const uint8_t* tag);

 private:
  std::unique_ptr<GcmDirectState> state_;  // on the heap: the GCM context keeps a pointer to the key schedule
};

}  // namespace ioreactor

#endif  // IOREACTOR_TLS13_GCM_H
