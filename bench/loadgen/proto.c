/*
 * What goes on the wire, and how replies are checked.
 *
 * Echo and churn: every connection sends one endless pseudo-random byte
 * stream, the shared pattern read from a per-connection start offset (the
 * seed mixes the connection id and, for churn, how many times the slot has
 * reconnected). The pattern's period is a prime (65521) so message
 * boundaries drift through it. The buffer holds two periods back to back,
 * so any slice up to one period long is contiguous: sending is a write()
 * straight from it and checking is a memcmp() against it. A server that
 * drops, reorders, corrupts or crosses bytes between connections fails.
 *
 * HTTP: the request is fixed (a GET, or with --body a POST whose body is
 * that many 'x' bytes, so no body holds an empty line); responses must be "HTTP/1.1 200" with a
 * Content-Length and the body "hello world\n" that every server under test
 * sends. Partial responses wait in the connection's rbuf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loadgen.h"

#define PERIOD 65521u
#define RBUF_CAP 8192
static const char REQUEST[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
static const char BODY[] = "hello world\n";

static uint8_t *tx;       /* the pattern, or the request repeated */
static size_t tx_period;  /* offsets repeat with this period */
static size_t tx_size;    /* bytes in tx */
static size_t msg_size;
static enum mode cur_mode;
static size_t body_size; /* http: 0 for GET, else the POST body's length */

static void fill_pattern(void) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  tx_period = PERIOD;
  tx_size = 2 * PERIOD;
  tx = malloc(tx_size);
  for (size_t i = 0; i < PERIOD; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    tx[i] = tx[i + PERIOD] = (uint8_t)(x >> 24);
  }
}

static void fill_request(void) {
  char head[128];
  size_t hlen = body_size == 0 ? sizeof REQUEST - 1
    : (size_t)snprintf(head, sizeof head, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n\r\n", body_size);
  size_t len = hlen + body_size;
  tx_period = len;
  tx_size = len * (65536 / len + 1);
  tx = malloc(tx_size);
  for (size_t i = 0; i < tx_size; i += len) {
    memcpy(tx + i, body_size == 0 ? REQUEST : head, hlen);
    memset(tx + i + hlen, 'x', body_size);
  }
  msg_size = len;
}

void proto_set_body(size_t bytes) { body_size = bytes; }

void proto_init(enum mode mode) {
  cur_mode = mode;
  if (mode == MODE_HTTP) fill_request();
  else fill_pattern();
}

void proto_set_size(size_t size) {
  if (cur_mode != MODE_HTTP) msg_size = size;
}

size_t msg_bytes(void) { return msg_size; }

static size_t seed_of(const struct conn *c) {
  if (cur_mode == MODE_HTTP) return 0;
  return ((uint64_t)c->id * 7919u + (uint64_t)c->generation * 104729u) % PERIOD;
}

const uint8_t *tx_bytes(const struct conn *c, uint64_t off, size_t *len) {
  size_t start = (size_t)((seed_of(c) + off) % tx_period);
  size_t room = tx_size - start;
  if (*len > room) *len = room;
  return tx + start;
}

int echo_verify(const struct conn *c, const uint8_t *buf, size_t n) {
  uint64_t off = c->recvd;
  while (n > 0) {
    size_t len = n;
    const uint8_t *want = tx_bytes(c, off, &len);
    if (memcmp(buf, want, len) != 0) return -1;
    buf += len;
    off += len;
    n -= len;
  }
  return 0;
}

/* Content-Length of a header block, or -1. */
static long content_length(const char *head, size_t len) {
  static const char name[] = "\r\ncontent-length:";
  size_t nl = sizeof name - 1;
  for (size_t i = 0; i + nl <= len; i++)
    if (strncasecmp(head + i, name, nl) == 0) return strtol(head + i + nl, NULL, 10);
  return -1;
}

/* One complete response at the front of rbuf: its length, 0 if partial,
 * -1 if malformed (why says how). */
static long one_response(const char *b, size_t len, char *why, size_t why_len) {
  const char *end = memmem(b, len, "\r\n\r\n", 4);
  if (!end) {
    if (len >= RBUF_CAP) snprintf(why, why_len, "HTTP header over %d bytes", RBUF_CAP);
    return len >= RBUF_CAP ? -1 : 0;
  }
  size_t head = (size_t)(end - b) + 4;
  if (strncmp(b, "HTTP/1.1 200", 12) != 0) {
    snprintf(why, why_len, "HTTP status line '%.20s'", b);
    return -1;
  }
  long cl = content_length(b, head);
  if (cl != (long)(sizeof BODY - 1)) {
    snprintf(why, why_len, "HTTP Content-Length %ld, want %zu", cl, sizeof BODY - 1);
    return -1;
  }
  if (len < head + (size_t)cl) return 0;
  if (memcmp(b + head, BODY, (size_t)cl) != 0) {
    snprintf(why, why_len, "HTTP body differs");
    return -1;
  }
  return (long)head + cl;
}

/* The complete HTTP responses at the front of rbuf, taken off it. */
static long http_take(struct conn *c, long done, char *why, size_t why_len) {
  (void)done;
  long used, complete = 0;
  while ((used = one_response(c->rbuf, c->rlen, why, why_len)) > 0) {
    memmove(c->rbuf, c->rbuf + used, c->rlen - (size_t)used);
    c->rlen -= (size_t)used;
    complete++;
  }
  return used < 0 ? -1 : complete;
}

long rbuf_feed(struct conn *c, const uint8_t *buf, size_t n, reply_taker take,
               char *why, size_t why_len) {
  if (!c->rbuf) c->rbuf = malloc(RBUF_CAP);
  long complete = 0;
  while (n > 0) {
    size_t room = RBUF_CAP - c->rlen;
    if (room > n) room = n;
    memcpy(c->rbuf + c->rlen, buf, room);
    c->rlen += room;
    buf += room;
    n -= room;
    long k = take(c, complete, why, why_len);
    if (k < 0) return -1;
    complete += k;
    if (c->rlen == RBUF_CAP) {
      snprintf(why, why_len, "a reply over %d bytes", RBUF_CAP);
      return -1;
    }
  }
  return complete;
}

long http_consume(struct conn *c, const uint8_t *buf, size_t n, char *why,
                  size_t why_len) {
  return rbuf_feed(c, buf, n, http_take, why, why_len);
}
