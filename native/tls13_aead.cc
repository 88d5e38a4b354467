// A TLS 1.3 AEAD through its provider's entry points (tls13_aead.h has the
// design and why). The entry points of each suite are looked up once per
// process and kept for its life, like the fetched EVP_CIPHER that keeps
// their provider loaded; the provider's table is never handed back.
#include "tls13_aead.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <strings.h>

#include <cstring>

namespace ioreactor {

struct AeadEntryPoints {
  void* provctx = nullptr;
  OSSL_FUNC_cipher_newctx_fn* newctx = nullptr;
  OSSL_FUNC_cipher_freectx_fn* freectx = nullptr;
  OSSL_FUNC_cipher_encrypt_init_fn* einit = nullptr;
  OSSL_FUNC_cipher_decrypt_init_fn* dinit = nullptr;
  OSSL_FUNC_cipher_update_fn* update = nullptr;
  OSSL_FUNC_cipher_final_fn* final = nullptr;
  OSSL_FUNC_cipher_get_ctx_params_fn* get_params = nullptr;
  OSSL_FUNC_cipher_set_ctx_params_fn* set_params = nullptr;

  bool complete() const {
    return provctx != nullptr && newctx != nullptr && freectx != nullptr && einit != nullptr && dinit != nullptr &&
           update != nullptr && final != nullptr && get_params != nullptr && set_params != nullptr;
  }
};

namespace {

// An algorithm's names are one string, "NAME:ALIAS:OID"; OpenSSL compares
// them without case.
bool names_include(const char* names, const char* want) {
  size_t n = std::strlen(want);
  for (const char* p = names; p != nullptr && *p != '\0';) {
    const char* colon = std::strchr(p, ':');
    size_t len = colon != nullptr ? static_cast<size_t>(colon - p) : std::strlen(p);
    if (len == n && strncasecmp(p, want, n) == 0) return true;
    p = colon != nullptr ? colon + 1 : nullptr;
  }
  return false;
}

void take(const OSSL_DISPATCH* d, AeadEntryPoints* f) {
  for (; d->function_id != 0; ++d) {
    switch (d->function_id) {
      case OSSL_FUNC_CIPHER_NEWCTX: f->newctx = OSSL_FUNC_cipher_newctx(d); break;
      case OSSL_FUNC_CIPHER_FREECTX: f->freectx = OSSL_FUNC_cipher_freectx(d); break;
      case OSSL_FUNC_CIPHER_ENCRYPT_INIT: f->einit = OSSL_FUNC_cipher_encrypt_init(d); break;
      case OSSL_FUNC_CIPHER_DECRYPT_INIT: f->dinit = OSSL_FUNC_cipher_decrypt_init(d); break;
      case OSSL_FUNC_CIPHER_UPDATE: f->update = OSSL_FUNC_cipher_update(d); break;
      case OSSL_FUNC_CIPHER_FINAL: f->final = OSSL_FUNC_cipher_final(d); break;
      case OSSL_FUNC_CIPHER_GET_CTX_PARAMS: f->get_params = OSSL_FUNC_cipher_get_ctx_params(d); break;
      case OSSL_FUNC_CIPHER_SET_CTX_PARAMS: f->set_params = OSSL_FUNC_cipher_set_ctx_params(d); break;
      default: break;
    }
  }
}

// The implementation EVP_CIPHER_fetch found for the suite: the first of its
// provider's ciphers that goes by the same name.
AeadEntryPoints look_up(const Tls13Suite& s) {
  AeadEntryPoints f;
  const EVP_CIPHER* cipher = tls13_cipher(s);
  const OSSL_PROVIDER* prov = cipher != nullptr ? EVP_CIPHER_get0_provider(cipher) : nullptr;
  if (prov == nullptr) return f;
  int no_store = 0;
  const OSSL_ALGORITHM* a = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_store);
  for (; a != nullptr && a->algorithm_names != nullptr; ++a) {
    if (!names_include(a->algorithm_names, s.cipher)) continue;
    take(a->implementation, &f);
    break;
  }
  f.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
  return f;
}

// Once per process (a thread-safe static), for the three suites in order.
const AeadEntryPoints* entry_points(const Tls13Suite& s) {
  static const AeadEntryPoints table[3] = {look_up(*tls13_suite(0x1301)), look_up(*tls13_suite(0x1302)),
                                           look_up(*tls13_suite(0x1303))};
  size_t i = static_cast<size_t>(s.id) - 0x1301;
  return i < 3 && table[i].complete() ? &table[i] : nullptr;
}

}  // namespace

Tls13Aead::~Tls13Aead() {
  if (ctx_ != nullptr) fns_->freectx(ctx_);  // the provider cleanses the key
  OPENSSL_cleanse(key_, sizeof key_);
}

bool Tls13Aead::init(const Tls13Suite& suite, const uint8_t* key, bool encrypt) {
  const AeadEntryPoints* f = entry_points(suite);
  if (f == nullptr) return false;
  if (ctx_ != nullptr && f != fns_) {
    fns_->freectx(ctx_);
    ctx_ = nullptr;
  }
  fns_ = f;
  suite_ = &suite;
  encrypt_ = encrypt;
  provider_keyed_ = false;
  std::memcpy(key_, key, suite.key_len);
  if (direct_.init(suite, key)) return true;  // the provider is keyed on the first large record
  return key_provider();
}

bool Tls13Aead::key_provider() {
  if (ctx_ == nullptr) ctx_ = fns_->newctx(fns_->provctx);
  if (ctx_ == nullptr) return false;
  provider_keyed_ = (encrypt_ ? fns_->einit : fns_->dinit)(ctx_, key_, suite_->key_len, nullptr, 0, nullptr) == 1;
  return provider_keyed_;
}

// A new nonce on the same key, then the AAD (an update with no output).
bool Tls13Aead::start(const uint8_t* nonce, const uint8_t* aad, size_t aad_len) {
  size_t n = 0;
  if (ctx_ == nullptr) return false;
  return (encrypt_ ? fns_->einit : fns_->dinit)(ctx_, nullptr, 0, nonce, kTls13IvLen, nullptr) == 1 &&
         fns_->update(ctx_, nullptr, &n, aad_len, aad, aad_len) == 1;
}

// The tag is a context parameter: read after sealing, set before the final
// step of opening.
bool Tls13Aead::tag_param(bool get, uint8_t* tag) {
  OSSL_PARAM p[2] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kTls13TagLen),
                     OSSL_PARAM_construct_end()};
  return (get ? fns_->get_params(ctx_, p) : fns_->set_params(ctx_, p)) == 1;
}

bool Tls13Aead::seal(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, uint8_t* buf, size_t len,
                     uint8_t* tag) {
  if (len < kGcmDirectMax && direct_.keyed()) return direct_.seal(nonce, aad, aad_len, buf, len, tag);
  size_t n1 = 0, n2 = 0;
  return (provider_keyed_ || key_provider()) && start(nonce, aad, aad_len) && fns_->update(ctx_, buf, &n1, len, buf, len) == 1 &&
         fns_->final(ctx_, buf + n1, &n2, len - n1) == 1 && n1 + n2 == len && tag_param(true, tag);
}

bool Tls13Aead::open(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, uint8_t* buf, size_t len,
                     const uint8_t* tag) {
  if (len < kGcmDirectMax && direct_.keyed()) return direct_.open(nonce, aad, aad_len, buf, len, tag);
  size_t n1 = 0, n2 = 0;
  uint8_t t[kTls13TagLen];
  std::memcpy(t, tag, kTls13TagLen);  // the parameter is not const; the record stays as it came
  return (provider_keyed_ || key_provider()) && start(nonce, aad, aad_len) && fns_->update(ctx_, buf, &n1, len, buf, len) == 1 && tag_param(false, t) &&
         fns_->final(ctx_, buf + n1, &n2, len - n1) == 1 && n1 + n2 == len;
}

}  // namespace ioreactor
