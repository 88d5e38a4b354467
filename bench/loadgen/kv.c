/*
 * The key-value mode: each message is one request line, "SET key value" or
 * "GET key" ending in CRLF, and each reply is one line: "STORED",
 * "VALUE value" or "NOT_FOUND".
 *
 * Every connection works on 16 keys of its own, named with a per-run nonce
 * (the servers live across rounds and keep their maps) and the connection
 * id, so what each GET must return is known when it is sent: the
 * connection's last SET of that key, or nothing. That expectation goes into
 * a ring beside the send times; replies come back in order and are checked
 * against it, so a server that loses, reorders or mixes up requests or keys
 * fails the run. One message in four is a SET.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define LINE_MAX 96
enum { EXPECT_STORED = 0, EXPECT_NOT_FOUND = 1 }; /* else VALUE of that counter */

static unsigned nonce;
static char key_head[16]; /* "k<nonce hex>.", written once */
static size_t key_head_len;

static size_t put_num(char *out, uint32_t v, uint32_t base);

void kv_init(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  nonce = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec;
  key_head[0] = 'k';
  key_head_len = 1 + put_num(key_head + 1, nonce, 16);
  key_head[key_head_len++] = '.';
}

void wbuf_room(struct conn *c, size_t more) {
  if (c->wlen + more <= c->wcap) return;
  c->wcap = (c->wlen + more) * 2;
  c->wbuf = realloc(c->wbuf, c->wcap);
}

/* Digits of v (base 10 or 16) at out; returns how many. The lines are
 * written by hand: snprintf was ~75% of the generator's instructions per
 * request pipelined (its format parsing and FILE machinery for a dozen
 * bytes), so the generator, not the server, set the pace of kv-pipeline. */
static size_t put_num(char *out, uint32_t v, uint32_t base) {
  char tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v != 0);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

static size_t put_str(char *out, const char *s, size_t len) {
  memcpy(out, s, len);
  return len;
}

/* "k<nonce hex>.<connection>.<key>" */
static size_t put_key(char *out, const struct conn *c, unsigned key) {
  size_t n = put_str(out, key_head, key_head_len);
  n += put_num(out + n, c->id, 10);
  out[n++] = '.';
  return n + put_num(out + n, key, 10);
}

/* "v<connection>-<counter>": a SET's value, and what a GET then returns. */
static size_t put_value(char *out, const struct conn *c, uint32_t v) {
  size_t n = put_str(out, "v", 1);
  n += put_num(out + n, c->id, 10);
  out[n++] = '-';
  return n + put_num(out + n, v, 10);
}

void kv_encode(struct conn *c, int slot) {
  uint64_t m = c->msgs;
  unsigned key = (unsigned)((m * 5) % 16);
  wbuf_room(c, LINE_MAX);
  char *out = c->wbuf + c->wlen;
  size_t n;
  if (m % 4 == 0) {
    uint32_t v = (uint32_t)m + 2;
    n = put_str(out, "SET ", 4);
    n += put_key(out + n, c, key);
    out[n++] = ' ';
    n += put_value(out + n, c, v);
    c->kv[key] = v;
    c->expect[slot] = EXPECT_STORED;
  } else {
    n = put_str(out, "GET ", 4);
    n += put_key(out + n, c, key);
    c->expect[slot] = c->kv[key] ? c->kv[key] : EXPECT_NOT_FOUND;
  }
  n += put_str(out + n, "\r\n", 2);
  c->wlen += n;
}

/* Is line (without CRLF) the reply expected? */
static int reply_ok(const struct conn *c, uint32_t want, const char *line, size_t len) {
  char buf[LINE_MAX];
  size_t n;
  if (want == EXPECT_STORED) n = put_str(buf, "STORED", 6);
  else if (want == EXPECT_NOT_FOUND) n = put_str(buf, "NOT_FOUND", 9);
  else n = put_str(buf, "VALUE ", 6) + put_value(buf + 6, c, want);
  return n == len && memcmp(buf, line, len) == 0;
}

/* Checks the complete lines at the front of rbuf; returns how many, or -1. */
static long kv_lines(struct conn *c, int cap, long already, char *why, size_t why_len) {
  long done = 0;
  size_t off = 0;
  char *nl;
  while ((nl = memchr(c->rbuf + off, '\n', c->rlen - off)) != NULL) {
    size_t len = (size_t)(nl - (c->rbuf + off));
    const char *line = c->rbuf + off;
    if (len == 0 || line[len - 1] != '\r' || already + done >= c->ts_len) {
      snprintf(why, why_len, "KV reply '%.30s' not expected", line);
      return -1;
    }
    uint32_t want = c->expect[(c->ts_head + already + done) % cap];
    if (!reply_ok(c, want, line, len - 1)) {
      snprintf(why, why_len, "KV reply '%.40s' differs (want %u)", line, want);
      return -1;
    }
    done++;
    off += len + 1;
  }
  memmove(c->rbuf, c->rbuf + off, c->rlen - off);
  c->rlen -= off;
  return done;
}

static int kv_cap; /* the rings' length (--inflight) */

static long kv_take(struct conn *c, long already, char *why, size_t why_len) {
  return kv_lines(c, kv_cap, already, why, why_len);
}

long kv_consume(struct conn *c, int cap, const uint8_t *buf, size_t n,
                char *why, size_t why_len) {
  kv_cap = cap;
  return rbuf_feed(c, buf, n, kv_take, why, why_len);
}
