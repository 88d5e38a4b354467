/*
 * c-echo --kv: the key-value protocol of bench/servers/kv-store.js in C, the
 * ceiling for the `kv` scenarios. Same lines, same replies:
 *   SET key value  ->  STORED
 *   GET key        ->  VALUE value | NOT_FOUND
 *   anything else  ->  ERROR
 *
 * One map for the whole server (as the JS servers share one Map): open
 * addressing with linear probing over a power-of-two table that doubles at
 * half full, each entry one heap block holding "key\0value". Keys are never
 * removed (the protocol has no DELETE), so no tombstones are needed.
 *
 * A line split across reads is kept per connection (its unfinished tail) and
 * finished by the next read; every complete line in a read is answered into
 * one output buffer, written once, as the JS servers do.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs-net.h"
#include "kv.h"

struct entry {
  char *kv;     /* "key\0value\0" */
  size_t klen;
  uint64_t hash;
};

static struct entry *table;
static size_t cap, used;

struct tail {
  char *p;
  size_t n;
};
static struct tail *tails; /* per fd: an unfinished line */

static uint64_t hash_of(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a: short keys, no adversary */
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
  return h;
}

/* The slot holding key, or the empty slot where it would go. */
static struct entry *find(const char *k, size_t klen, uint64_t h) {
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
    struct entry *e = &table[i];
    if (!e->kv) return e;
    if (e->hash == h && e->klen == klen && memcmp(e->kv, k, klen) == 0) return e;
  }
}

static void grow(void) {
  struct entry *old = table;
  size_t old_cap = cap;
  cap = cap ? cap * 2 : 1024;
  table = cs_alloc(cap, sizeof *table);
  for (size_t i = 0; i < old_cap; i++) {
    if (!old[i].kv) continue;
    *find(old[i].kv, old[i].klen, old[i].hash) = old[i];
  }
  free(old);
}

static void set(const char *k, size_t klen, const char *v, size_t vlen) {
  if ((used + 1) * 2 > cap) grow();
  uint64_t h = hash_of(k, klen);
  struct entry *e = find(k, klen, h);
  if (!e->kv) used++;
  free(e->kv);
  e->kv = cs_alloc(1, klen + vlen + 2);
  memcpy(e->kv, k, klen);
  e->kv[klen] = 0;
  memcpy(e->kv + klen + 1, v, vlen);
  e->kv[klen + 1 + vlen] = 0;
  e->klen = klen;
  e->hash = h;
}

static const char *get(const char *k, size_t klen) {
  if (!cap) return NULL;
  struct entry *e = find(k, klen, hash_of(k, klen));
  return e->kv ? e->kv + klen + 1 : NULL;
}

static size_t put(struct kv_out *o, const char *p, size_t n) {
  if (o->len + n > o->cap) {
    o->cap = (o->len + n) * 2;
    o->buf = realloc(o->buf, o->cap);
  }
  memcpy(o->buf + o->len, p, n);
  o->len += n;
  return n;
}

/* Answers one line (without its CRLF). */
static void answer(struct kv_out *o, const char *line, size_t n) {
  const char *sp = memchr(line, ' ', n);
  size_t verb = sp ? (size_t)(sp - line) : n;
  if (verb == 3 && memcmp(line, "GET", 3) == 0 && sp) {
    const char *v = get(sp + 1, n - verb - 1);
    if (!v) { put(o, "NOT_FOUND\r\n", 11); return; }
    put(o, "VALUE ", 6);
    put(o, v, strlen(v));
    put(o, "\r\n", 2);
    return;
  }
  const char *sp2 = sp ? memchr(sp + 1, ' ', n - verb - 1) : NULL;
  if (verb == 3 && memcmp(line, "SET", 3) == 0 && sp2) {
    set(sp + 1, (size_t)(sp2 - sp - 1), sp2 + 1, n - (size_t)(sp2 + 1 - line));
    put(o, "STORED\r\n", 8);
    return;
  }
  put(o, "ERROR\r\n", 7);
}

void kv_init(int max_fd) {
  tails = cs_alloc((size_t)max_fd, sizeof *tails);
}

void kv_drop(int fd) {
  free(tails[fd].p);
  tails[fd].p = NULL;
  tails[fd].n = 0;
}

/* Finishes the kept tail with the start of this read, if it has a line end. */
static size_t finish_tail(int fd, const char *p, size_t n, struct kv_out *o) {
  struct tail *t = &tails[fd];
  const char *nl = memchr(p, '\n', n);
  size_t take = nl ? (size_t)(nl - p) + 1 : n;
  t->p = realloc(t->p, t->n + take);
  memcpy(t->p + t->n, p, take);
  t->n += take;
  if (!nl) return n;
  if (t->n >= 2 && t->p[t->n - 2] == '\r') answer(o, t->p, t->n - 2);
  else put(o, "ERROR\r\n", 7);
  kv_drop(fd);
  return take;
}

void kv_feed(int fd, const char *p, size_t n, struct kv_out *o) {
  size_t i = tails[fd].n ? finish_tail(fd, p, n, o) : 0;
  while (i < n) {
    const char *nl = memchr(p + i, '\n', n - i);
    if (!nl) break;
    size_t end = (size_t)(nl - p);
    if (end > i && p[end - 1] == '\r') answer(o, p + i, end - 1 - i);
    else put(o, "ERROR\r\n", 7);
    i = end + 1;
  }
  if (i < n) {
    tails[fd].p = cs_alloc(1, n - i);
    memcpy(tails[fd].p, p + i, n - i);
    tails[fd].n = n - i;
  }
}
