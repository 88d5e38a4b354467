/*
 * AES-128-GCM for the load generator's record layer (tls13.c) without EVP's
 * per-record plumbing: OpenSSL's public GCM mode (modes.h: its GHASH) over
 * an AES-NI block cipher of the load generator's own. NULL from
 * gcm_direct_new where the CPU has no AES-NI (or not x86-64); tls13.c then
 * keeps EVP.
 */
#ifndef LOADGEN_GCM_DIRECT_H
#define LOADGEN_GCM_DIRECT_H

#include <stddef.h>
#include <stdint.h>

struct gcm_direct;

struct gcm_direct *gcm_direct_new(void);
void gcm_direct_free(struct gcm_direct *g);
/* A new key (16 bytes); nonces are 12 bytes, tags 16. */
void gcm_direct_key(struct gcm_direct *g, const uint8_t *key);
/* Encrypts p[0, len) in place and writes the tag; 0, or -1. */
int gcm_direct_seal(struct gcm_direct *g, const uint8_t *nonce, const uint8_t *aad, size_t aad_len, uint8_t *p,
                    size_t len, uint8_t *tag);
/* Decrypts p[0, len) in place; 0 when the tag matched, else -1. */
int gcm_direct_open(struct gcm_direct *g, const uint8_t *nonce, const uint8_t *aad, size_t aad_len, uint8_t *p,
                    size_t len, const uint8_t *tag);

#endif
