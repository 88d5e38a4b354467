// AES-GCM records on OpenSSL's GCM mode and AES-NI block functions
// (tls13_gcm.h has the design and when it applies). The functions are
// found once per process; the key schedule and the GCM context live
// together on the heap, so the context's pointer to the schedule stays
// valid whatever moves the object that owns them.
#include "tls13_gcm.h"

#include <dlfcn.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif
#include <openssl/aes.h>
#include <openssl/crypto.h>
#include <openssl/modes.h>
#include <openssl/provider.h>

#include <cstring>
#include <new>

namespace ioreactor {

struct GcmDirectState {
  AES_KEY ks;
  GCM128_CONTEXT* gcm = nullptr;
  ctr128_f ctr = nullptr;  // aesni_ctr32_encrypt_blocks, kept here: no once-guard per record
  ~GcmDirectState() {
    if (gcm != nullptr) CRYPTO_gcm128_release(gcm);  // cleanses its hash key
    OPENSSL_cleanse(&ks, sizeof ks);
  }
};

namespace {

using SetKeyFn = int (*)(const unsigned char* user_key, int bits, AES_KEY* key);

struct AesNi {
  SetKeyFn set_key = nullptr;
  block128_f block = nullptr;
  ctr128_f ctr = nullptr;
};

// CPUID leaf 1, ECX: bit 25 AES-NI, bit 1 PCLMULQDQ. Asked directly:
// __builtin_cpu_supports needs compiler-rt's __cpu_model, which a shared
// object built by zig/clang for musl cannot link.
bool cpu_has_aesni() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  unsigned int a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  return (c & (1u << 25)) != 0 && (c & (1u << 1)) != 0;
#else
  return false;
#endif
}

// OpenSSL's own AES-NI functions, as exported by the node binary (or any
// library already loaded); all three or none.
AesNi find_aesni() {
  AesNi f;
  if (!cpu_has_aesni()) return f;
  void* set_key = dlsym(RTLD_DEFAULT, "aesni_set_encrypt_key");
  void* block = dlsym(RTLD_DEFAULT, "aesni_encrypt");
  void* ctr = dlsym(RTLD_DEFAULT, "aesni_ctr32_encrypt_blocks");
  if (set_key == nullptr || block == nullptr || ctr == nullptr) return f;
  f.set_key = reinterpret_cast<SetKeyFn>(set_key);
  f.block = reinterpret_cast<block128_f>(block);
  f.ctr = reinterpret_cast<ctr128_f>(ctr);
  return f;
}

const AesNi* aesni() {
  static const AesNi f = find_aesni();  // thread-safe, once per process
  return f.ctr != nullptr ? &f : nullptr;
}

bool from_default_provider(const Tls13Suite& s) {
  const EVP_CIPHER* cipher = tls13_cipher(s);
  const OSSL_PROVIDER* prov = cipher != nullptr ? EVP_CIPHER_get0_provider(cipher) : nullptr;
  const char* name = prov != nullptr ? OSSL_PROVIDER_get0_name(prov) : nullptr;
  return name != nullptr && std::strcmp(name, "default") == 0;
}

}  // namespace

Tls13Gcm::Tls13Gcm() = default;
Tls13Gcm::~Tls13Gcm() = default;

bool Tls13Gcm::available(const Tls13Suite& suite) {
  bool aes_gcm = suite.id == 0x1301 || suite.id == 0x1302;  // AES-128-GCM, AES-256-GCM
  return aes_gcm && aesni() != nullptr && from_default_provider(suite);
}

bool Tls13Gcm::init(const Tls13Suite& suite, const uint8_t* key) {
  if (!available(suite)) return false;
  const AesNi* f = aesni();
  if (state_ == nullptr) state_.reset(new (std::nothrow) GcmDirectState());
  if (state_ == nullptr) return false;
  if (f->set_key(key, static_cast<int>(suite.key_len * 8), &state_->ks) != 0) {
    state_.reset();
    return false;
  }
  if (state_->gcm == nullptr) state_->gcm = CRYPTO_gcm128_new(&state_->ks, f->block);
  else CRYPTO_gcm128_init(state_->gcm, &state_->ks, f->block);  // a new key: a new hash key
  if (state_->gcm == nullptr) state_.reset();
  else state_->ctr = f->ctr;
  return state_ != nullptr;
}

bool Tls13Gcm::seal(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, uint8_t* buf, size_t len,
                    uint8_t* tag) {
  GCM128_CONTEXT* g = state_->gcm;
  CRYPTO_gcm128_setiv(g, nonce, kTls13IvLen);
  if (CRYPTO_gcm128_aad(g, aad, aad_len) != 0 || CRYPTO_gcm128_encrypt_ctr32(g, buf, buf, len, state_->ctr) != 0)
    return false;
  CRYPTO_gcm128_tag(g, tag, kTls13TagLen);
  return true;
}

// CRYPTO_gcm128_finish compares the tags in constant time (CRYPTO_memcmp).
bool Tls13Gcm::open(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, uint8_t* buf, size_t len,
                    const uint8_t* tag) {
  GCM128_CONTEXT* g = state_->gcm;
  CRYPTO_gcm128_setiv(g, nonce, kTls13IvLen);
  return CRYPTO_gcm128_aad(g, aad, aad_len) == 0 &&
         CRYPTO_gcm128_decrypt_ctr32(g, buf, buf, len, state_->ctr) == 0 &&
         CRYPTO_gcm128_finish(g, tag, kTls13TagLen) == 0;
}

}  // namespace ioreactor
