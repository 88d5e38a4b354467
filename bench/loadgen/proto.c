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

/* A Content-Length value between p and end (the line's CR): optional
 * spaces or tabs around one to nine digits; -2 for anything else, which no
 * expected length equals (strtol would skip a CRLF and read the next line). */
static long length_value(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  long v = 0;
  int digits = 0;
  for (; p < end && *p >= '0' && *p <= '9' && digits < 9; p++, digits++) v = v * 10 + (*p - '0');
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  return digits > 0 && p == end ? v : -2;
}

/* The header block at the front of b, walked line by line (one memchr per
 * line, not a substring search per byte: at ~100k responses a second the
 * load generator's own parsing must stay small beside the server's work).
 * Returns the block's length with *cl its Content-Length (-1 if none), 0 if
 * the empty line has not arrived, -1 if a line does not end in CRLF. */
static long head_of(const char *b, size_t len, long *cl) {
  static const char name[] = "content-length:";
  size_t line = 0;
  *cl = -1;
  for (;;) {
    const char *nl = memchr(b + line, '\n', len - line);
    if (!nl) return 0;
    size_t next = (size_t)(nl - b) + 1;
    if (next - line < 2 || nl[-1] != '\r') return -1;
    if (next - line == 2) return (long)next; /* the empty line */
    if (line > 0 && (b[line] | 0x20) == 'c' && next - line > sizeof name &&
        strncasecmp(b + line, name, sizeof name - 1) == 0)
      *cl = length_value(b + line + sizeof name - 1, nl - 1);
    line = next;
  }
}

/* One complete response at the front of b: its length, 0 if partial,
 * -1 if malformed (why says how). */
static long one_response(const char *b, size_t len, char *why, size_t why_len) {
  long cl, got = head_of(b, len, &cl);
  if (got <= 0) {
    if (got < 0) snprintf(why, why_len, "HTTP header line not ended by CRLF");
    else if (len >= RBUF_CAP) snprintf(why, why_len, "HTTP header over %d bytes", RBUF_CAP);
    return got < 0 || len >= RBUF_CAP ? -1 : 0;
  }
  size_t head = (size_t)got;
  if (strncmp(b, "HTTP/1.1 200", 12) != 0) {
    snprintf(why, why_len, "HTTP status line '%.20s'", b);
    return -1;
  }
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

/* The complete responses at the front of b: how many (-1 if one is
 * malformed); *used is the bytes they took. */
static long take_responses(const char *b, size_t len, size_t *used, char *why, size_t why_len) {
  long one, complete = 0;
  *used = 0;
  while ((one = one_response(b + *used, len - *used, why, why_len)) > 0) {
    *used += (size_t)one;
    complete++;
  }
  return one < 0 ? -1 : complete;
}

/* The complete HTTP responses at the front of rbuf, taken off it. */
static long http_take(struct conn *c, long done, char *why, size_t why_len) {
  (void)done;
  size_t used;
  long complete = take_responses(c->rbuf, c->rlen, &used, why, why_len);
  memmove(c->rbuf, c->rbuf + used, c->rlen - used);
  c->rlen -= used;
  return complete;
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
  long complete = 0;
  if (c->rlen == 0) { /* the usual read: whole responses, checked where they are */
    size_t used;
    complete = take_responses((const char *)buf, n, &used, why, why_len);
    if (complete < 0) return -1;
    buf += used;
    n -= used;
  }
  if (n == 0) return complete;
  long more = rbuf_feed(c, buf, n, http_take, why, why_len);
  return more < 0 ? -1 : complete + more;
}
