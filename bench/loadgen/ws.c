/*
 * WebSocket (--ws): the echo machinery's messages as RFC 6455 frames.
 *
 * A connection first sends the HTTP upgrade request (its key derived from
 * the connection id and generation) and must get back "HTTP/1.1 101" with
 * the right Sec-WebSocket-Accept; only then does its untimed warm-up
 * message go, so setup counts a connection ready once the handshake and
 * one echoed message have both been checked. Every message after that is
 * one masked binary frame (text with --ws-text) whose payload is the
 * connection's pattern at offset index * size, as in plain echo; each
 * reply must be one unmasked, unfragmented frame of the same type holding
 * exactly that payload, so a server that drops, corrupts, reorders or
 * forgets to unmask fails the run. The mask changes per message and is
 * never zero, so a server that ignored it would echo garbage.
 *
 * Writes go through the connection's wbuf (as the key-value mode's lines),
 * replies are buffered in its rbuf (rbuf_feed, so a message is at most
 * RBUF_CAP less a header). A ping from the server is answered with a pong;
 * a close frame fails the connection with its code. Text frames that start
 * with "bc:" belong to the broadcast mode (wsbcast.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loadgen.h"
#include "loop.h"

#define OP_TEXT 1
#define OP_BINARY 2
#define OP_CLOSE 8
#define OP_PING 9
#define OP_PONG 10
#define MAX_PAYLOAD 8000 /* under rbuf's 8192 with the largest header */

static const struct config *cfg;
static uint8_t *opened;      /* per connection: the 101 was checked */
static struct loop *cur;     /* for the taker, which rbuf_feed calls without it */
static uint8_t expect_buf[MAX_PAYLOAD];

int ws_init(const struct config *c) {
  cfg = c;
  int total = c->conns + c->idle + c->hot;
  opened = calloc((size_t)total + 1, 1);
  if (c->size > MAX_PAYLOAD) return -1;
  return ws_bc_init(total);
}

/* The payload of message `index` on c: the pattern, or for text frames the
 * pattern mapped onto letters and digits (valid UTF-8, never "bc:"). */
static void payload_of(const struct conn *c, uint64_t index, uint8_t *out) {
  static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  uint64_t off = index * cfg->size;
  size_t done = 0;
  while (done < cfg->size) {
    size_t len = cfg->size - done;
    const uint8_t *p = tx_bytes(c, off + done, &len);
    memcpy(out + done, p, len);
    done += len;
  }
  if (cfg->ws_text)
    for (size_t i = 0; i < cfg->size; i++) out[i] = (uint8_t)ALNUM[out[i] % 62];
}

void ws_frame(struct conn *c, int op, const uint8_t *payload, size_t len, uint32_t mask) {
  wbuf_room(c, len + 14);
  uint8_t *h = (uint8_t *)c->wbuf + c->wlen;
  size_t n = 0;
  h[n++] = (uint8_t)(0x80 | op);
  if (len < 126) {
    h[n++] = (uint8_t)(0x80 | len);
  } else if (len < 65536) {
    h[n++] = 0x80 | 126;
    h[n++] = (uint8_t)(len >> 8);
    h[n++] = (uint8_t)len;
  } else {
    h[n++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  uint8_t m[4] = {(uint8_t)(mask >> 24), (uint8_t)(mask >> 16), (uint8_t)(mask >> 8), (uint8_t)mask};
  memcpy(h + n, m, 4);
  n += 4;
  for (size_t i = 0; i < len; i++) h[n + i] = payload[i] ^ m[i & 3];
  c->wlen += n + len;
}

uint32_t ws_mask(uint32_t id, uint64_t index) {
  return ((uint32_t)index * 0x9e3779b1u ^ id * 0x85ebca6bu) | 0x01010101u;
}

/* Message `index` as a masked frame in c->wbuf. Binary frames are masked
 * straight from the pattern (no copy of the payload first): at 1,000
 * connections the load generator's own CPU can set the pace, and every
 * server gets the same bytes either way. */
void ws_encode(struct conn *c, uint64_t index) {
  if (cfg->ws_text || cfg->size >= 126) {
    payload_of(c, index, expect_buf);
    ws_frame(c, cfg->ws_text ? OP_TEXT : OP_BINARY, expect_buf, cfg->size, ws_mask(c->id, index));
    return;
  }
  wbuf_room(c, cfg->size + 6);
  uint8_t *h = (uint8_t *)c->wbuf + c->wlen;
  uint32_t mask = ws_mask(c->id, index);
  uint8_t m[4] = {(uint8_t)(mask >> 24), (uint8_t)(mask >> 16), (uint8_t)(mask >> 8), (uint8_t)mask};
  h[0] = 0x80 | OP_BINARY;
  h[1] = (uint8_t)(0x80 | cfg->size);
  memcpy(h + 2, m, 4);
  uint8_t *out = h + 6;
  uint64_t off = index * cfg->size;
  size_t done = 0;
  while (done < cfg->size) {
    size_t len = cfg->size - done;
    const uint8_t *p = tx_bytes(c, off + done, &len);
    for (size_t i = 0; i < len; i++) out[done + i] = p[i] ^ m[(done + i) & 3];
    done += len;
  }
  c->wlen += 6 + cfg->size;
}

/* Is p (size bytes) the payload of message `index`? Compared with the
 * pattern in place (binary frames only). */
static int payload_is(const struct conn *c, uint64_t index, const uint8_t *p) {
  uint64_t off = index * cfg->size;
  size_t done = 0;
  while (done < cfg->size) {
    size_t len = cfg->size - done;
    const uint8_t *want = tx_bytes(c, off + done, &len);
    if (memcmp(p + done, want, len) != 0) return 0;
    done += len;
  }
  return 1;
}

void ws_begin(struct loop *l, struct conn *c) {
  char key[WS_KEY_LEN + 1];
  ws_key(c->id, c->generation, key);
  opened[c->id] = 0;
  wbuf_room(c, 512);
  int n = snprintf(c->wbuf + c->wlen, 512,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   cfg->ws_path, cfg->host, l->cfg->port, key);
  c->wlen += (size_t)(n < 512 ? n : 511);
}

/* A header's value in a response head (name with its colon), or NULL. */
static const char *header_value(const char *head, size_t len, const char *name) {
  size_t nl = strlen(name);
  for (size_t i = 0; i + nl + 2 <= len; i++) {
    if (head[i] != '\n' || strncasecmp(head + i + 1, name, nl) != 0) continue;
    const char *v = head + i + 1 + nl;
    while (*v == ' ' || *v == '\t') v++;
    return v;
  }
  return NULL;
}

/* The 101 at the front of rbuf: 1 checked and taken off (the warm-up
 * message is sent), 0 not complete yet, -1 wrong. */
static int handshake(struct conn *c, char *why, size_t why_len) {
  const char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - c->rbuf) + 4;
  if (strncmp(c->rbuf, "HTTP/1.1 101", 12) != 0) {
    snprintf(why, why_len, "upgrade answered '%.30s'", c->rbuf);
    return -1;
  }
  char key[WS_KEY_LEN + 1], accept[WS_ACCEPT_LEN + 1];
  ws_key(c->id, c->generation, key);
  ws_accept(key, accept);
  const char *got = header_value(c->rbuf, head, "sec-websocket-accept:");
  if (!got || strncmp(got, accept, WS_ACCEPT_LEN) != 0 || (got[WS_ACCEPT_LEN] != '\r' && got[WS_ACCEPT_LEN] != ' ')) {
    int shown = got ? (int)strcspn(got, "\r\n") : 6;
    snprintf(why, why_len, "Sec-WebSocket-Accept '%.*s', want %s", shown > 40 ? 40 : shown, got ? got : "(none)", accept);
    return -1;
  }
  memmove(c->rbuf, c->rbuf + head, c->rlen - head);
  c->rlen -= head;
  opened[c->id] = 1;
  conn_send(cur, c, now_ns()); /* the warm-up message, untimed */
  return 1;
}

struct frame {
  int op;
  const uint8_t *payload;
  size_t len;
};

/* The frame at p: its whole length, 0 if incomplete, -1 if not one a
 * server may send (masked, RSV bits, fragmented, too long). */
static long frame_at(const uint8_t *p, size_t avail, struct frame *f, char *why, size_t why_len) {
  if (avail < 2) return 0;
  size_t hdr = 2, len = p[1] & 0x7f;
  if ((p[0] & 0xf0) != 0x80 || (p[1] & 0x80)) {
    snprintf(why, why_len, "server frame %02x %02x: %s", p[0], p[1],
             (p[1] & 0x80) ? "masked" : (p[0] & 0x80) ? "RSV bits set" : "fragmented");
    return -1;
  }
  if (len == 126) {
    if (avail < 4) return 0;
    len = (size_t)p[2] << 8 | p[3];
    hdr = 4;
  } else if (len == 127) {
    if (avail < 10) return 0;
    len = 0;
    for (int i = 2; i < 10; i++) len = len << 8 | p[i];
    hdr = 10;
  }
  if (len > MAX_PAYLOAD) {
    snprintf(why, why_len, "server frame of %zu bytes (at most %d expected)", len, MAX_PAYLOAD);
    return -1;
  }
  if (avail < hdr + len) return 0;
  f->op = p[0] & 0x0f;
  f->payload = p + hdr;
  f->len = len;
  return (long)(hdr + len);
}

/* An echoed message: is it the one expected at this place in the stream? */
static int echo_ok(struct conn *c, const struct frame *f, long at, char *why, size_t why_len) {
  uint64_t index = c->done + (uint64_t)at;
  if (at >= c->ts_len) {
    snprintf(why, why_len, "WebSocket message %llu not expected", (unsigned long long)index);
    return -1;
  }
  payload_of(c, index, expect_buf);
  if (f->len != cfg->size || memcmp(f->payload, expect_buf, f->len) != 0) {
    snprintf(why, why_len, "echoed WebSocket message %llu differs (%zu bytes, want %zu)",
             (unsigned long long)index, f->len, cfg->size);
    return -1;
  }
  return 1;
}

/* One frame: 1 an echoed message, 0 something else handled, -1 wrong. */
static int frame_use(struct conn *c, const struct frame *f, long at, char *why, size_t why_len) {
  int data_op = cfg->ws_text ? OP_TEXT : OP_BINARY;
  if (f->op == OP_TEXT && f->len >= 3 && memcmp(f->payload, "bc:", 3) == 0 && cfg->mode == MODE_BROADCAST)
    return ws_bc_arrival(cur, c, f->payload, f->len, why, why_len);
  if (f->op == data_op) return echo_ok(c, f, at, why, why_len);
  if (f->op == OP_PING) {
    ws_frame(c, OP_PONG, f->payload, f->len, ws_mask(c->id, ~0ull));
    return 0;
  }
  if (f->op == OP_PONG) return 0;
  if (f->op == OP_CLOSE && f->len >= 2)
    snprintf(why, why_len, "server closed the WebSocket (%d %.*s)", f->payload[0] << 8 | f->payload[1],
             (int)(f->len > 40 ? 38 : f->len - 2), (const char *)f->payload + 2);
  else snprintf(why, why_len, "unexpected WebSocket opcode %d", f->op);
  return -1;
}

/* The complete frames at the front of rbuf, checked and taken off. */
static long ws_take(struct conn *c, long already, char *why, size_t why_len) {
  if (!opened[c->id]) {
    int h = handshake(c, why, why_len);
    if (h <= 0) return h;
  }
  size_t off = 0;
  long done = 0;
  struct frame f;
  long len;
  while ((len = frame_at((const uint8_t *)c->rbuf + off, c->rlen - off, &f, why, why_len)) > 0) {
    int k = frame_use(c, &f, already + done, why, why_len);
    if (k < 0) return -1;
    done += k;
    off += (size_t)len;
  }
  if (len < 0) return -1;
  memmove(c->rbuf, c->rbuf + off, c->rlen - off);
  c->rlen -= off;
  return done;
}

/* The read as it nearly always is in an echo run: nothing buffered before
 * it, and exactly the one binary reply expected next, whole (a 2-byte
 * header: the server's frame of a message under 126 bytes). Checked in
 * place, with no copy into rbuf: 1 when it was that reply and correct, 0
 * for anything else, which rbuf_feed and ws_take then check in full (so a
 * wrong reply fails there, with the reason). */
static int whole_reply(const struct conn *c, const uint8_t *buf, size_t n) {
  return c->rlen == 0 && !cfg->ws_text && cfg->size < 126 && n == cfg->size + 2 && opened[c->id] &&
         c->ts_len > 0 && buf[0] == (0x80 | OP_BINARY) && buf[1] == cfg->size && payload_is(c, c->done, buf + 2);
}

long ws_consume(struct loop *l, struct conn *c, const uint8_t *buf, size_t n, char *why, size_t why_len) {
  if (cfg->mode != MODE_BROADCAST && whole_reply(c, buf, n)) return 1;
  cur = l;
  long k = rbuf_feed(c, buf, n, ws_take, why, why_len);
  if (k >= 0 && cfg->mode == MODE_BROADCAST) ws_bc_next(l);
  return k;
}

int ws_opened(uint32_t id) { return opened[id]; }
