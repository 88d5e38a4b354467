/*
 * The WebSocket protocol of the C ceiling server (c-ws.c), as little of
 * RFC 6455 as the harness's clients need and nothing more:
 *
 * - the upgrade: the request head is only searched for Sec-WebSocket-Key
 *   (method, path, Upgrade and Version are not checked); the answer's
 *   Sec-WebSocket-Accept is base64(SHA-1(key + GUID)) from the system's
 *   OpenSSL (libcrypto), which the harness binaries already link;
 * - client frames: final (FIN set), no RSV bits, masked, a known opcode,
 *   at most WSF_MAX_PAYLOAD bytes (control frames at most 125). Anything
 *   else is refused (-1) and the caller closes that connection: a real
 *   server would also take fragmented messages and check that text is
 *   UTF-8, which the load generator never needs (it sends whole frames,
 *   and text only as ASCII). The payload is unmasked in place.
 */
#include "ws-frame.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
static const char KEY_NAME[] = "sec-websocket-key:";
#define KEY_MAX 64 /* a real key is 24 characters (16 bytes in base64) */

static int known_op(int op) {
  return op == WSF_TEXT || op == WSF_BINARY || op == WSF_CLOSE || op == WSF_PING || op == WSF_PONG;
}

/* The payload length and the header's length before the mask: 0 if the
 * header is incomplete, -1 if too long. */
static int payload_len(const uint8_t *p, size_t avail, size_t *len, size_t *hdr) {
  *len = p[1] & 0x7f;
  *hdr = 2;
  if (*len == 126) {
    if (avail < 4) return 0;
    *len = (size_t)p[2] << 8 | p[3];
    *hdr = 4;
  } else if (*len == 127) {
    if (avail < 10) return 0;
    uint64_t v = 0;
    for (int i = 2; i < 10; i++) v = v << 8 | p[i];
    if (v > WSF_MAX_PAYLOAD) return -1;
    *len = (size_t)v;
    *hdr = 10;
  }
  return *len > WSF_MAX_PAYLOAD ? -1 : 1;
}

long wsf_parse(uint8_t *p, size_t avail, struct ws_frame *f) {
  if (avail < 2) return 0;
  int op = p[0] & 0x0f;
  if ((p[0] & 0xf0) != 0x80 || !(p[1] & 0x80) || !known_op(op)) return -1;
  size_t len, hdr;
  int r = payload_len(p, avail, &len, &hdr);
  if (r <= 0) return r;
  if (op >= WSF_CLOSE && len > 125) return -1;
  if (avail < hdr + 4 + len) return 0;
  const uint8_t *mask = p + hdr;
  uint8_t *data = p + hdr + 4;
  for (size_t i = 0; i < len; i++) data[i] ^= mask[i & 3];
  f->op = op;
  f->payload = data;
  f->len = len;
  return (long)(hdr + 4 + len);
}

size_t wsf_header(uint8_t *h, int op, size_t len) {
  h[0] = (uint8_t)(0x80 | op);
  if (len < 126) {
    h[1] = (uint8_t)len;
    return 2;
  }
  if (len < 65536) {
    h[1] = 126;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
  return 10;
}

/* The key's value in the head (trimmed) and its length, or NULL. */
static const char *find_key(const char *head, size_t len, size_t *klen) {
  size_t nl = sizeof KEY_NAME - 1;
  for (size_t i = 0; i + nl + 1 < len; i++) {
    if (head[i] != '\n' || strncasecmp(head + i + 1, KEY_NAME, nl) != 0) continue;
    const char *v = head + i + 1 + nl, *end = head + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    size_t n = 0;
    while (v + n < end && v[n] != '\r' && v[n] != '\n' && v[n] != ' ' && v[n] != '\t') n++;
    *klen = n;
    return n > 0 && n <= KEY_MAX ? v : NULL;
  }
  return NULL;
}

long wsf_upgrade(const char *head, size_t len, char *out, size_t cap) {
  size_t klen;
  const char *key = find_key(head, len, &klen);
  if (!key) return -1;
  unsigned char msg[KEY_MAX + sizeof GUID], digest[EVP_MAX_MD_SIZE], accept[32];
  unsigned int dlen = 0;
  memcpy(msg, key, klen);
  memcpy(msg + klen, GUID, sizeof GUID - 1);
  if (!EVP_Digest(msg, klen + sizeof GUID - 1, digest, &dlen, EVP_sha1(), NULL)) return -1;
  EVP_EncodeBlock(accept, digest, (int)dlen);
  int n = snprintf(out, cap,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n\r\n", (const char *)accept);
  return n > 0 && (size_t)n < cap ? n : -1;
}
