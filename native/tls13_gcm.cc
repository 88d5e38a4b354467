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
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/modes.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "prefetch.h"

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

// The known answer's inputs: a 61-byte record (three blocks and a tail),
// TLS 1.3's 5-byte AAD, AES-128 with a 12-byte nonce.
constexpr size_t kKatLen = 61;
const uint8_t kKatKey[16] = {0x4c, 0x61, 0x2a, 0x91, 0x07, 0xe3, 0x5b, 0xd0, 0x18, 0x6f, 0xa4, 0x3e, 0xc2, 0x79, 0x05, 0xbb};
const uint8_t kKatNonce[kTls13IvLen] = {0x9d, 0x12, 0x40, 0xe7, 0x33, 0x8a, 0x5c, 0x01, 0xf6, 0x2b, 0x74, 0xc8};
const uint8_t kKatAad[5] = {0x17, 0x03, 0x03, 0x00, static_cast<uint8_t>(kKatLen + kTls13TagLen)};

// The known answer sealed through the found functions; false on failure.
bool kat_direct(const AesNi& f, uint8_t* buf) {
  AES_KEY ks;
  if (f.set_key(kKatKey, 128, &ks) != 0) return false;
  GCM128_CONTEXT* g = CRYPTO_gcm128_new(&ks, f.block);
  bool ok = g != nullptr;
  if (ok) {
    CRYPTO_gcm128_setiv(g, kKatNonce, sizeof kKatNonce);
    ok = CRYPTO_gcm128_aad(g, kKatAad, sizeof kKatAad) == 0 && CRYPTO_gcm128_encrypt_ctr32(g, buf, buf, kKatLen, f.ctr) == 0;
    if (ok) CRYPTO_gcm128_tag(g, buf + kKatLen, kTls13TagLen);
    CRYPTO_gcm128_release(g);
  }
  OPENSSL_cleanse(&ks, sizeof ks);
  return ok;
}

// The same sealed through EVP (whatever provider serves AES-128-GCM).
bool kat_evp(uint8_t* buf) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  bool ok = cipher != nullptr && c != nullptr && EVP_EncryptInit_ex2(c, cipher, kKatKey, kKatNonce, nullptr) == 1 &&
            EVP_EncryptUpdate(c, nullptr, &n, kKatAad, sizeof kKatAad) == 1 &&
            EVP_EncryptUpdate(c, buf, &n, buf, static_cast<int>(kKatLen)) == 1 && EVP_EncryptFinal_ex(c, buf + n, &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kTls13TagLen, buf + kKatLen) == 1;
  EVP_CIPHER_CTX_free(c);
  EVP_CIPHER_free(cipher);
  return ok;
}

// aesni_* are OpenSSL's internal entry points, not its API: a record sealed
// through them must match EVP's byte for byte (ciphertext and tag), once
// per process, or the direct path stays off. This catches a Node whose
// OpenSSL kept the names but changed what they do.
bool agrees_with_evp(const AesNi& f) {
  uint8_t direct[kKatLen + kTls13TagLen], evp[kKatLen + kTls13TagLen];
  for (size_t i = 0; i < kKatLen; ++i) direct[i] = evp[i] = static_cast<uint8_t>(i * 13 + 7);
  bool same = kat_direct(f, direct) && kat_evp(evp) && std::memcmp(direct, evp, sizeof direct) == 0;
  ERR_clear_error();
  return same;
}

// OpenSSL's own AES-NI functions, as exported by the node binary (or any
// library already loaded); all three or none. Not when OPENSSL_ia32cap is
// set: someone is masking CPU features from OpenSSL, and this path would
// not see the mask.
AesNi find_aesni() {
  AesNi f;
  if (!cpu_has_aesni() || std::getenv("OPENSSL_ia32cap") != nullptr) return f;
  void* set_key = dlsym(RTLD_DEFAULT, "aesni_set_encrypt_key");
  void* block = dlsym(RTLD_DEFAULT, "aesni_encrypt");
  void* ctr = dlsym(RTLD_DEFAULT, "aesni_ctr32_encrypt_blocks");
  if (set_key == nullptr || block == nullptr || ctr == nullptr) return f;
  f.set_key = reinterpret_cast<SetKeyFn>(set_key);
  f.block = reinterpret_cast<block128_f>(block);
  f.ctr = reinterpret_cast<ctr128_f>(ctr);
  if (!agrees_with_evp(f)) f = AesNi();
  return f;
}

const AesNi* aesni() {
  static const AesNi f = find_aesni();  // thread-safe, once per process
  return f.ctr != nullptr ? &f : nullptr;
}

}  // namespace

Tls13Gcm::Tls13Gcm() = default;
Tls13Gcm::~Tls13Gcm() = default;

bool Tls13Gcm::available(const Tls13Suite& suite) {
  bool aes_gcm = suite.id == 0x1301 || suite.id == 0x1302;  // AES-128-GCM, AES-256-GCM
  return aes_gcm && aesni() != nullptr && tls13_from_default_provider(suite, false);
}

bool Tls13Gcm::init(const Tls13Suite& suite, const uint8_t* key) {
  if (!available(suite)) {
    state_.reset();  // never left holding an earlier key
    return false;
  }
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

// OpenSSL does not publish its GCM context's size; this covers 3.0's on
// x86-64 (Yi, EKi, EK0, len, Xi and H, the 16-entry Htable, the two hash
// functions, mres/ares, block, key, Xn: 440 bytes). A record reads most of it.
constexpr size_t kGcmContextBytes = 448;

void Tls13Gcm::prefetch() const {
  const GcmDirectState* s = state_.get();
  if (s == nullptr) return;
  prefetch_lines(s, sizeof *s);
  prefetch_lines(s->gcm, kGcmContextBytes);
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
