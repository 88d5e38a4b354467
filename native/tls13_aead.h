// One TLS 1.3 AEAD key (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305) driven
// through its provider's own entry points instead of EVP_CIPHER_CTX, for the
// record layer of our own (tls13_records.h): a record sets its nonce, feeds
// its header as AAD, encrypts or decrypts in place, and gets or checks its
// tag.
//
// Why not EVP_CIPHER_CTX: in OpenSSL 3.0 (what Node 20 ships) each nonce set
// through EVP_CipherInit_ex2 first asks the provider for the IV length by
// name (EVP_CIPHER_CTX_get_iv_length: a get_ctx_params round, eight
// OSSL_PARAM_locate/strcmp), and EVP_CIPHER_CTX_ctrl turns a tag get or set
// into another params round through a translation table; ~1,500
// instructions per echoed round trip, as much as the AES-GCM arithmetic
// (bench/PERFORMANCE.md). The provider's init takes the nonce and its
// length as arguments, and its tag parameter is one lookup in a one-entry
// array. These functions are the ones EVP itself calls (the provider
// interface is public: provider-cipher(7), OSSL_PROVIDER_query_operation(3));
// they are found once per process, by name, in the provider the suite's
// EVP_CIPHER was fetched from, so the implementation (and a FIPS provider,
// if one is configured) is the same as EVP's. What EVP adds around them
// (the legacy path, checks of which operation a shared context is in)
// does not apply to a context only this class drives. If the provider
// lacks an entry point, init() fails and the connection stays on OpenSSL.
//
// Small AES-GCM records skip even the provider where the process allows it
// (tls13_gcm.h: the same OpenSSL code without the tag's parameter lookups);
// the provider context is then keyed only when a record of kGcmDirectMax
// bytes or more comes, from the key kept here.
#ifndef IOREACTOR_TLS13_AEAD_H
#define IOREACTOR_TLS13_AEAD_H

#include <cstddef>
#include <cstdint>

#include "tls13_gcm.h"
#include "tls13_keys.h"

namespace ioreactor {

struct AeadEntryPoints;  // tls13_aead.cc

class Tls13Aead {
 public:
  Tls13Aead() = default;
  ~Tls13Aead();
  Tls13Aead(const Tls13Aead&) = delete;
  Tls13Aead& operator=(const Tls13Aead&) = delete;

  // Keys this object (made on first use, re-keyed in place after) for
  // sealing or opening. false when the suite's provider cannot be driven.
  bool init(const Tls13Suite& suite, const uint8_t* key, bool encrypt);
  // Encrypts buf[0, len) in place under nonce (kTls13IvLen bytes) with
  // aad, and writes the kTls13TagLen-byte tag at tag.
  bool seal(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, uint8_t* buf, size_t len, uint8_t* tag);
  // Decrypts in place; false when the tag does not verify.
  bool open(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, uint8_t* buf, size_t len, const uint8_t* tag);
  // Asks for what a small record's seal or open reads (prefetch.h); the
  // provider's context is not asked for (large records, rare on this path).
  void prefetch() const { direct_.prefetch(); }

 private:
  bool key_provider();
  bool start(const uint8_t* nonce, const uint8_t* aad, size_t aad_len);
  bool tag_param(bool get, uint8_t* tag);

  const AeadEntryPoints* fns_ = nullptr;
  const Tls13Suite* suite_ = nullptr;
  void* ctx_ = nullptr;
  bool encrypt_ = false;
  bool provider_keyed_ = false;  // ctx_ holds key_
  Tls13Gcm direct_;
  uint8_t key_[kTls13MaxKey] = {};
};

}  // namespace ioreactor

#endif  // IOREACTOR_TLS13_AEAD_H
