/*
 * The WebSocket opening handshake's key and its accept value (RFC 6455
 * section 4): the client sends 16 bytes in base64 as Sec-WebSocket-Key; the
 * server must answer with base64(SHA-1(key + a fixed GUID)). We check that
 * answer on every connection, so a server that skips or botches the
 * handshake fails the run.
 *
 * SHA-1 is written here (FIPS 180-4) rather than linked from a crypto
 * library: the load generator builds with a bare `cc` and no -l flags, and
 * one 20-byte digest per connection at setup costs nothing worth saving.
 * SHA-1's weakness does not matter here: the value only proves the server
 * read the key.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "loadgen.h"

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint32_t rol(uint32_t x, int n) { return x << n | x >> (32 - n); }

/* One 64-byte block into the five-word state. */
static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
    else { f = b ^ c ^ d; k = 0xca62c1d6; }
    uint32_t t = rol(a, 5) + f + e + k + w[i];
    e = d; d = c; c = rol(b, 30); b = a; a = t;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

/* SHA-1 of a short message (under 120 bytes: at most two blocks). */
static void sha1_short(const uint8_t *msg, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  uint8_t buf[128] = {0};
  memcpy(buf, msg, len);
  buf[len] = 0x80;
  size_t total = len + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) buf[total - 1 - i] = (uint8_t)(bits >> (8 * i));
  for (size_t off = 0; off < total; off += 64) sha1_block(h, buf + off);
  for (int i = 0; i < 20; i++) out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/* Standard base64 with padding; out needs 4 * ceil(len / 3) + 1 bytes. */
static void base64(const uint8_t *in, size_t len, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                 (i + 2 < len ? in[i + 2] : 0);
    out[o++] = B64[v >> 18 & 63];
    out[o++] = B64[v >> 12 & 63];
    out[o++] = i + 1 < len ? B64[v >> 6 & 63] : '=';
    out[o++] = i + 2 < len ? B64[v & 63] : '=';
  }
  out[o] = 0;
}

void ws_key(uint32_t id, uint32_t generation, char key[WS_KEY_LEN + 1]) {
  uint8_t raw[16];
  uint64_t x = 0x243f6a8885a308d3ull ^ ((uint64_t)id << 20) ^ generation;
  for (int i = 0; i < 16; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    raw[i] = (uint8_t)(x >> 32);
  }
  base64(raw, sizeof raw, key);
}

void ws_accept(const char *key, char accept[WS_ACCEPT_LEN + 1]) {
  uint8_t msg[WS_KEY_LEN + sizeof GUID], digest[20];
  memcpy(msg, key, WS_KEY_LEN);
  memcpy(msg + WS_KEY_LEN, GUID, sizeof GUID - 1);
  sha1_short(msg, WS_KEY_LEN + sizeof GUID - 1, digest);
  base64(digest, sizeof digest, accept);
}
