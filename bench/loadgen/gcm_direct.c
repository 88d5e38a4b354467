/*
 * AES-128-GCM records for tls13.c at a fraction of EVP's cost per record.
 *
 * Why: OpenSSL 3.0's EVP asks the provider for everything by name. Sealing
 * one small record the documented way (EVP_CipherInit_ex2 with the nonce,
 * the header as AAD, the update, the final, the tag through
 * EVP_CIPHER_CTX_ctrl) spent ~2,600 instructions per HTTPS request in
 * OSSL_PARAM_locate/strcmp alone (EVP_CIPHER_CTX_get_iv_length on every
 * init, the tag's parameter round), out of ~9,000 for the whole client: at
 * 1,000 HTTPS connections the client ran at 96-98% of its core, as busy as
 * the server it measured (bench/PERFORMANCE.md).
 *
 * How: the GCM mode is OpenSSL's public one (modes.h: CRYPTO_gcm128_*, with
 * the GHASH it picks for the CPU); the block cipher under it is AES-128 on
 * the AES-NI instructions, written here (one block for the mode's own
 * needs, counter blocks for the bulk). Neither is the servers' code path
 * (ioreactor's records go through Node's OpenSSL, its EVP or its assembly
 * functions; other servers through Node's TLS), so the servers' records are
 * still checked by an implementation that is not theirs. tls13.c keeps EVP
 * where this is not available and checks this against EVP once at start.
 */
#include "gcm_direct.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/modes.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define AES_TARGET __attribute__((target("aes,ssse3")))

struct gcm_direct {
  __m128i rk[11]; /* first: aligned_alloc(16) keeps it aligned */
  GCM128_CONTEXT *gcm;
};

AES_TARGET static __m128i expand(__m128i k, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  return _mm_xor_si128(k, assist);
}

/* The round constant must be an immediate: one line per round. */
#define ROUND_KEY(i, rcon) rk[i] = expand(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))

AES_TARGET static void expand_key(__m128i *rk, const uint8_t *key) {
  rk[0] = _mm_loadu_si128((const __m128i *)key);
  ROUND_KEY(1, 0x01), ROUND_KEY(2, 0x02), ROUND_KEY(3, 0x04), ROUND_KEY(4, 0x08), ROUND_KEY(5, 0x10);
  ROUND_KEY(6, 0x20), ROUND_KEY(7, 0x40), ROUND_KEY(8, 0x80), ROUND_KEY(9, 0x1b), ROUND_KEY(10, 0x36);
}

AES_TARGET static __m128i encrypt(const __m128i *rk, __m128i b) {
  b = _mm_xor_si128(b, rk[0]);
#pragma GCC unroll 9
  for (int i = 1; i < 10; i++) b = _mm_aesenc_si128(b, rk[i]);
  return _mm_aesenclast_si128(b, rk[10]);
}

/* block128_f: what the mode needs of the cipher for H, E(K, J0) and a tail. */
AES_TARGET static void block(const unsigned char in[16], unsigned char out[16], const void *key) {
  _mm_storeu_si128((__m128i *)out, encrypt(key, _mm_loadu_si128((const __m128i *)in)));
}

/* ctr128_f: CTR over whole blocks, as the mode hands them over: the
 * counter is ivec's last 32 bits, big-endian, wrapping. The block is kept
 * byte-reversed, where that counter is the low lane as a little-endian
 * word: one add and one shuffle back per block. Four blocks go through the
 * rounds together: each AESENC waits for the one before it on the same
 * block, not for the other blocks'. */
AES_TARGET static void ctr32(const unsigned char *in, unsigned char *out, size_t blocks, const void *key,
                             const unsigned char ivec[16]) {
  const __m128i *rk = key;
  const __m128i rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m128i one = _mm_set_epi32(0, 0, 0, 1);
  __m128i c = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)ivec), rev);
  for (; blocks >= 4; blocks -= 4, in += 64, out += 64) {
    __m128i b[4];
    for (int j = 0; j < 4; j++, c = _mm_add_epi32(c, one)) b[j] = _mm_xor_si128(_mm_shuffle_epi8(c, rev), rk[0]);
#pragma GCC unroll 9
    for (int i = 1; i < 10; i++) {
      b[0] = _mm_aesenc_si128(b[0], rk[i]), b[1] = _mm_aesenc_si128(b[1], rk[i]);
      b[2] = _mm_aesenc_si128(b[2], rk[i]), b[3] = _mm_aesenc_si128(b[3], rk[i]);
    }
    for (int j = 0; j < 4; j++) {
      __m128i x = _mm_loadu_si128((const __m128i *)(in + 16 * j));
      _mm_storeu_si128((__m128i *)(out + 16 * j), _mm_xor_si128(_mm_aesenclast_si128(b[j], rk[10]), x));
    }
  }
  for (; blocks > 0; blocks--, c = _mm_add_epi32(c, one), in += 16, out += 16) {
    __m128i ks = encrypt(rk, _mm_shuffle_epi8(c, rev));
    _mm_storeu_si128((__m128i *)out, _mm_xor_si128(ks, _mm_loadu_si128((const __m128i *)in)));
  }
}

struct gcm_direct *gcm_direct_new(void) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("aes") || !__builtin_cpu_supports("ssse3")) return NULL;
  struct gcm_direct *g = aligned_alloc(16, sizeof *g);
  if (!g) return NULL;
  memset(g, 0, sizeof *g);
  g->gcm = CRYPTO_gcm128_new(g->rk, block);
  if (!g->gcm) return free(g), NULL;
  return g;
}

void gcm_direct_free(struct gcm_direct *g) {
  if (!g) return;
  CRYPTO_gcm128_release(g->gcm);
  free(g);
}

/* The mode derives H from the key schedule, so the schedule comes first. */
void gcm_direct_key(struct gcm_direct *g, const uint8_t *key) {
  expand_key(g->rk, key);
  CRYPTO_gcm128_init(g->gcm, g->rk, block);
}

int gcm_direct_seal(struct gcm_direct *g, const uint8_t *nonce, const uint8_t *aad, size_t aad_len, uint8_t *p,
                    size_t len, uint8_t *tag) {
  CRYPTO_gcm128_setiv(g->gcm, nonce, 12);
  if (CRYPTO_gcm128_aad(g->gcm, aad, aad_len) != 0 || CRYPTO_gcm128_encrypt_ctr32(g->gcm, p, p, len, ctr32) != 0)
    return -1;
  CRYPTO_gcm128_tag(g->gcm, tag, 16);
  return 0;
}

int gcm_direct_open(struct gcm_direct *g, const uint8_t *nonce, const uint8_t *aad, size_t aad_len, uint8_t *p,
                    size_t len, const uint8_t *tag) {
  CRYPTO_gcm128_setiv(g->gcm, nonce, 12);
  if (CRYPTO_gcm128_aad(g->gcm, aad, aad_len) != 0 || CRYPTO_gcm128_decrypt_ctr32(g->gcm, p, p, len, ctr32) != 0)
    return -1;
  return CRYPTO_gcm128_finish(g->gcm, tag, 16) == 0 ? 0 : -1;
}

#else /* no AES-NI here: tls13.c keeps EVP */

struct gcm_direct *gcm_direct_new(void) { return NULL; }
void gcm_direct_free(struct gcm_direct *g) { (void)g; }
void gcm_direct_key(struct gcm_direct *g, const uint8_t *key) { (void)g, (void)key; }
int gcm_direct_seal(struct gcm_direct *g, const uint8_t *nonce, const uint8_t *aad, size_t aad_len, uint8_t *p,
                    size_t len, uint8_t *tag) {
  (void)g, (void)nonce, (void)aad, (void)aad_len, (void)p, (void)len, (void)tag;
  return -1;
}
int gcm_direct_open(struct gcm_direct *g, const uint8_t *nonce, const uint8_t *aad, size_t aad_len, uint8_t *p,
                    size_t len, const uint8_t *tag) {
  (void)g, (void)nonce, (void)aad, (void)aad_len, (void)p, (void)len, (void)tag;
  return -1;
}

#endif
