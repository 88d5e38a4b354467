/*
 * The load generator's TLS 1.3 record layer (RFC 8446 §5), used after the
 * handshake so the client's cost per round trip is the cipher and little
 * else. OpenSSL's own record layer (SSL_read/SSL_write) spends ~10,000
 * instructions per 64 B round trip, most of it plumbing around the cipher;
 * at 1,000 echo connections that made the client as expensive as the
 * fastest server, so the harness measured itself. This applies to every
 * server alike: it is the client's half of each connection only.
 *
 * The handshake stays OpenSSL's (tls.c). When it finishes, the keylog
 * callback has handed over the application traffic secrets; the record key
 * and IV come from each by HKDF-Expand-Label (one HMAC-SHA256 each, on a
 * MAC context made once). The
 * sequence numbers are both 0: a client's handshake ends when it has
 * written its Finished, no record under the client application key was
 * written before, and a server sends nothing under its application key
 * before it has the client's Finished (its tickets need the full
 * transcript) unless it sends 0.5-RTT data; a byte of that already read by
 * OpenSSL (SSL_has_pending, read-ahead is on) keeps the connection on
 * OpenSSL. So does any other suite than TLS_AES_128_GCM_SHA256 or version,
 * and --tls-resume (OpenSSL must see the tickets to resume with them).
 *
 * The cipher is AES-128-GCM on OpenSSL's GCM mode over an AES-NI block
 * cipher of our own (gcm_direct.c: EVP's per-record parameter plumbing was a
 * third of the client's instructions), or, where that is not available or
 * does not seal a record as EVP does (checked once at start), OpenSSL's EVP
 * called the documented way (one context per direction, a record sets its
 * nonce = IV ^ sequence number). Either way the servers' records are checked
 * by an implementation that is not theirs. Reads go straight into the caller's buffer: records are opened in
 * place and their content moved down to the front; a partial record waits
 * in the slot for the next read. Writes seal one record of up to 2^14 bytes
 * and write it at once; what the socket does not take waits, and the caller
 * retries the same write (OpenSSL's contract, which conn.c keeps).
 *
 * From the server: application data; NewSessionTicket messages (counted,
 * then dropped); close_notify (the end of the stream); anything else, a
 * KeyUpdate included (no server in the harness sends one unasked), fails
 * the connection with a reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/params.h>

#include "gcm_direct.h"
#include "tls13.h"

#define HDR 5
#define TAG 16
#define IVLEN 12
#define SECRET 32 /* SHA-256 */
#define MAX_PLAIN 16384
#define MAX_BODY (MAX_PLAIN + 256)
#define T_ALERT 21
#define T_HANDSHAKE 22
#define T_DATA 23

struct dir {
  EVP_CIPHER_CTX *ctx;
  struct gcm_direct *g; /* instead of ctx when direct is on */
  uint8_t iv[IVLEN];
  uint64_t seq;
};

struct own {
  struct dir rx, tx;
  uint8_t secret[2][SECRET]; /* client, server: from the keylog */
  unsigned char have[2], on, closed;
  uint8_t *part; /* a record not yet whole (MAX_BODY + HDR bytes once made) */
  size_t part_len;
  uint8_t *unsent; /* a sealed record the socket has not taken all of */
  size_t unsent_off, unsent_len, unsent_plain;
};

static struct own *own;
static int n_slots;
static EVP_CIPHER *aes128gcm;
static int direct; /* gcm_direct.c seals and opens (direct_matches_evp) */
static int direct_matches_evp(void);
/* HMAC-SHA256 with its digest set once: each use is a copy keyed anew.
 * OpenSSL 3.0's HMAC() fetches the MAC and the digest by name on every call
 * (~19,000 instructions; four calls per connection). */
static EVP_MAC_CTX *hmac_sha256;

int tls13_init(int slots) {
  n_slots = slots;
  own = calloc((size_t)slots + 1, sizeof *own);
  aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  hmac_sha256 = mac ? EVP_MAC_CTX_new(mac) : NULL;
  EVP_MAC_free(mac); /* the context keeps its own reference */
  OSSL_PARAM digest[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0), OSSL_PARAM_construct_end()};
  if (!hmac_sha256 || EVP_MAC_CTX_set_params(hmac_sha256, digest) != 1) return -1;
  if (!own || !aes128gcm) return -1;
  direct = direct_matches_evp();
  return 0;
}

void tls13_free(void) {
  for (int i = 0; own && i <= n_slots; i++) {
    EVP_CIPHER_CTX_free(own[i].rx.ctx);
    EVP_CIPHER_CTX_free(own[i].tx.ctx);
    gcm_direct_free(own[i].rx.g);
    gcm_direct_free(own[i].tx.g);
    free(own[i].part);
    free(own[i].unsent);
  }
  free(own);
  own = NULL;
  EVP_CIPHER_free(aes128gcm);
  EVP_MAC_CTX_free(hmac_sha256);
}

int tls13_on(int slot) { return own[slot].on; }

int tls13_direct(void) { return direct; }

static int slot_of(const SSL *ssl) { return (int)(intptr_t)SSL_get_app_data(ssl) - 1; }

/* "CLIENT_TRAFFIC_SECRET_0 <client random> <secret>", hex. */
void tls13_keylog(const SSL *ssl, const char *line) {
  int slot = slot_of(ssl), which;
  if (slot < 0 || slot > n_slots) return;
  if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0) which = 0;
  else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0) which = 1;
  else return;
  const char *hex = strrchr(line, ' ') + 1;
  own[slot].have[which] = 0;
  if (strlen(hex) != 2 * SECRET) return;
  for (int i = 0; i < SECRET; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return;
    own[slot].secret[which][i] = (uint8_t)v;
  }
  own[slot].have[which] = 1;
}

/* HKDF-Expand-Label(secret, label, "", len) for len <= 32: one HMAC. */
static int expand_label(const uint8_t *secret, const char *label, uint8_t *out, size_t len) {
  uint8_t info[64], block[EVP_MAX_MD_SIZE];
  size_t l = strlen(label), n = 0, block_len = 0;
  info[n++] = 0;
  info[n++] = (uint8_t)len;
  info[n++] = (uint8_t)(6 + l);
  memcpy(info + n, "tls13 ", 6);
  memcpy(info + n + 6, label, l);
  n += 6 + l;
  info[n++] = 0; /* empty context */
  info[n++] = 1;
  EVP_MAC_CTX *c = EVP_MAC_CTX_dup(hmac_sha256); /* read-only: ramp's two threads share it */
  int ok = c && EVP_MAC_init(c, secret, SECRET, NULL) == 1 && EVP_MAC_update(c, info, n) == 1 &&
           EVP_MAC_final(c, block, &block_len, sizeof block) == 1 && block_len == SECRET;
  EVP_MAC_CTX_free(c);
  if (ok) memcpy(out, block, len);
  return ok ? 0 : -1;
}

/* A direction's cipher keyed: gcm_direct when it is on, else EVP. */
static int use_key(struct dir *d, const uint8_t *key, int enc) {
  if (direct) {
    if (!d->g && !(d->g = gcm_direct_new())) return -1;
    gcm_direct_key(d->g, key);
    return 0;
  }
  if (!d->ctx && !(d->ctx = EVP_CIPHER_CTX_new())) return -1;
  return EVP_CipherInit_ex2(d->ctx, aes128gcm, key, NULL, enc, NULL) == 1 ? 0 : -1;
}

static int key_dir(struct dir *d, const uint8_t *secret, int enc) {
  uint8_t key[16];
  if (expand_label(secret, "key", key, sizeof key) < 0 || expand_label(secret, "iv", d->iv, IVLEN) < 0)
    return -1;
  d->seq = 0;
  return use_key(d, key, enc);
}

int tls13_take_over(int slot, SSL *ssl) {
  struct own *o = &own[slot];
  const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
  o->on = o->closed = 0;
  o->part_len = o->unsent_len = 0;
  if (!o->have[0] || !o->have[1] || SSL_version(ssl) != TLS1_3_VERSION || !c ||
      SSL_CIPHER_get_protocol_id(c) != 0x1301 || SSL_has_pending(ssl))
    return 0;
  o->have[0] = o->have[1] = 0; /* each connection brings its own */
  if (key_dir(&o->tx, o->secret[0], 1) < 0 || key_dir(&o->rx, o->secret[1], 0) < 0) return 0;
  o->on = 1;
  return 1;
}

static void nonce(struct dir *d, uint8_t *n) {
  memcpy(n, d->iv, IVLEN);
  for (int i = 0; i < 8; i++) n[IVLEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
  d->seq++;
}

/* One record of `type` carrying p[0, len) into rec; its length. */
static size_t seal(struct dir *d, uint8_t type, const uint8_t *p, size_t len, uint8_t *rec) {
  uint8_t n[IVLEN];
  int a = 0, b = 0, f = 0;
  size_t body = len + 1 + TAG;
  rec[0] = T_DATA, rec[1] = rec[2] = 3, rec[3] = (uint8_t)(body >> 8), rec[4] = (uint8_t)body;
  memcpy(rec + HDR, p, len);
  rec[HDR + len] = type;
  nonce(d, n);
  uint8_t *c = rec + HDR;
  if (d->g) return gcm_direct_seal(d->g, n, rec, HDR, c, len + 1, c + len + 1) == 0 ? HDR + body : 0;
  if (EVP_CipherInit_ex2(d->ctx, NULL, NULL, n, 1, NULL) != 1 || EVP_CipherUpdate(d->ctx, NULL, &a, rec, HDR) != 1 ||
      EVP_CipherUpdate(d->ctx, c, &b, c, (int)len + 1) != 1 || EVP_CipherFinal_ex(d->ctx, c + b, &f) != 1 ||
      EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_GET_TAG, TAG, c + len + 1) != 1)
    return 0;
  return HDR + body;
}

/* Opens the record at rec (body of body_len) in place: content at rec + 5,
 * its length in *len; the inner content type, or -1 (bad tag or padding). */
static int open_record(struct dir *d, uint8_t *rec, size_t body_len, size_t *len) {
  uint8_t n[IVLEN];
  int a = 0, b = 0, f = 0;
  if (body_len < TAG + 1) return -1;
  size_t clen = body_len - TAG;
  uint8_t *c = rec + HDR;
  nonce(d, n);
  if (d->g ? gcm_direct_open(d->g, n, rec, HDR, c, clen, c + clen) != 0
           : EVP_CipherInit_ex2(d->ctx, NULL, NULL, n, 0, NULL) != 1 || EVP_CipherUpdate(d->ctx, NULL, &a, rec, HDR) != 1 ||
                 EVP_CipherUpdate(d->ctx, c, &b, c, (int)clen) != 1 ||
                 EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, TAG, c + clen) != 1 ||
                 EVP_CipherFinal_ex(d->ctx, c + b, &f) != 1)
    return -1;
  while (clen > 0 && c[clen - 1] == 0) clen--; /* padding */
  if (clen == 0) return -1;
  *len = clen - 1;
  return c[clen - 1];
}

static void free_dir(struct dir *d) {
  EVP_CIPHER_CTX_free(d->ctx);
  gcm_direct_free(d->g);
  memset(d, 0, sizeof *d);
}

/* Whether gcm_direct.c seals records of every length class (empty, under a
 * block, whole blocks, a tail) byte for byte as EVP does, opens EVP's, and
 * refuses one with a changed byte. LOADGEN_TLS_EVP=1 keeps EVP (to compare);
 * LOADGEN_TLS_SELFTEST_FLIP=1 changes a byte of our own sealed record, so a
 * test can see a failed check keep EVP. */
static int direct_matches_evp(void) {
  const char *force = getenv("LOADGEN_TLS_EVP");
  if (force && *force && strcmp(force, "0") != 0) return 0;
  const char *spoil = getenv("LOADGEN_TLS_SELFTEST_FLIP");
  const int flip = spoil && *spoil && strcmp(spoil, "0") != 0;
  /* up to a whole record: past GCM's 3 KiB GHASH chunk and at 2^14 */
  static const size_t lens[] = {0, 1, 15, 16, 17, 31, 64, 113, 250, 3100, 16384};
  static uint8_t p[16384], a[HDR + 16384 + 1 + TAG], b[sizeof a];
  uint8_t key[16];
  struct dir evp = {0}, dg = {0}, rx = {0};
  int ok = 1;
  for (size_t i = 0; i < sizeof p; i++) p[i] = (uint8_t)(i * 37 + 11);
  for (size_t i = 0; i < sizeof key; i++) key[i] = (uint8_t)(i * 5 + 3);
  for (int i = 0; i < IVLEN; i++) evp.iv[i] = dg.iv[i] = rx.iv[i] = (uint8_t)(200 - i);
  direct = 0;
  ok = use_key(&evp, key, 1) == 0;
  direct = 1;
  ok = ok && use_key(&dg, key, 1) == 0 && use_key(&rx, key, 0) == 0;
  for (size_t i = 0; ok && i < sizeof lens / sizeof lens[0]; i++) {
    size_t n = seal(&evp, T_DATA, p, lens[i], a), m = seal(&dg, T_DATA, p, lens[i], b), len = 0;
    if (flip) b[HDR + lens[i] / 2] ^= 1; /* tests: a check that must fail */
    ok = n != 0 && n == m && memcmp(a, b, n) == 0;
    ok = ok && open_record(&rx, a, n - HDR, &len) == T_DATA && len == lens[i] && memcmp(a + HDR, p, len) == 0;
    rx.seq--; /* b was sealed at a's sequence number: only the changed byte may differ */
    b[HDR + lens[i] / 2] ^= 1; /* a changed byte: the tag must not match */
    ok = ok && open_record(&rx, b, m - HDR, &len) == -1; /* seq is a's + 1 again for the next round */
  }
  free_dir(&evp), free_dir(&dg), free_dir(&rx);
  return ok;
}

/* Handshake messages after the handshake: tickets are counted; the rest
 * (a KeyUpdate) is more than this layer does. 0, or -1 with why. */
static int handshake_messages(const uint8_t *p, size_t len, uint64_t *tickets, char *why, size_t why_len) {
  while (len > 0) {
    size_t m = len >= 4 ? (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3] : len;
    if (len < 4 || m > len - 4) return snprintf(why, why_len, "a handshake message split over records"), -1;
    if (p[0] != 4) return snprintf(why, why_len, "handshake message %u after the handshake", p[0]), -1;
    ++*tickets;
    p += 4 + m;
    len -= 4 + m;
  }
  return 0;
}

/* One whole record at rec: its content moved to out; the bytes it added
 * there, or -1 with why. */
static ssize_t take_record(struct own *o, uint8_t *rec, size_t body, uint8_t *out, uint64_t *tickets,
                           char *why, size_t why_len) {
  size_t len = 0;
  int type = open_record(&o->rx, rec, body, &len);
  uint8_t *p = rec + HDR;
  if (type == T_DATA) return memmove(out, p, len), (ssize_t)len;
  if (type == T_HANDSHAKE) return handshake_messages(p, len, tickets, why, why_len);
  if (type == T_ALERT && len == 2 && p[1] == 0) return o->closed = 1, 0; /* close_notify */
  if (type == T_ALERT && len == 2) snprintf(why, why_len, "alert %u from the server", p[1]);
  else snprintf(why, why_len, type < 0 ? "a record that does not decrypt" : "record type %d", type);
  return -1;
}

/* What is left of the read (less than a record) waits in the slot. */
static int keep_part(struct own *o, const uint8_t *p, size_t len) {
  if (len == 0) return o->part_len = 0, 0;
  if (!o->part && !(o->part = malloc(HDR + MAX_BODY))) return -1;
  memcpy(o->part, p, len);
  o->part_len = len;
  return 0;
}

ssize_t tls13_read(int slot, int fd, uint8_t *buf, size_t cap, uint64_t *tickets, char *why, size_t why_len) {
  struct own *o = &own[slot];
  size_t have = o->part_len, at = 0, out = 0;
  if (o->closed) return 0;
  if (have) memcpy(buf, o->part, have);
  o->part_len = 0;
  ssize_t n;
  do n = read(fd, buf + have, cap - have); while (n < 0 && errno == EINTR);
  if (n <= 0) {
    int saved = errno;
    keep_part(o, buf, have);
    errno = saved;
    return n; /* a TCP close mid-record is the end as well: conn.c fails it */
  }
  size_t total = have + (size_t)n;
  while (!o->closed && total - at >= HDR) {
    uint8_t *rec = buf + at;
    size_t body = (size_t)rec[3] << 8 | rec[4];
    if (rec[0] != T_DATA || rec[1] != 3 || rec[2] != 3 || body > MAX_BODY) {
      snprintf(why, why_len, "a malformed record header");
      return errno = EPROTO, -1;
    }
    if (total - at < HDR + body) break;
    ssize_t got = take_record(o, rec, body, buf + out, tickets, why, why_len);
    if (got < 0) return errno = EPROTO, -1;
    out += (size_t)got;
    at += HDR + body;
  }
  if (!o->closed && keep_part(o, buf + at, total - at) < 0) return snprintf(why, why_len, "out of memory"), errno = EPROTO, -1;
  if (out > 0) return (ssize_t)out;
  if (o->closed) return 0;
  errno = EAGAIN;
  return -1;
}

/* Writes what waits of the last record; 0 when all of it went, else -1. */
static int push_unsent(struct own *o, int fd) {
  while (o->unsent_off < o->unsent_len) {
    ssize_t w = write(fd, o->unsent + o->unsent_off, o->unsent_len - o->unsent_off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    o->unsent_off += (size_t)w;
  }
  o->unsent_len = o->unsent_off = 0;
  return 0;
}

ssize_t tls13_write(int slot, int fd, const uint8_t *p, size_t len, char *why, size_t why_len) {
  static _Thread_local uint8_t rec[HDR + MAX_PLAIN + 1 + TAG];
  struct own *o = &own[slot];
  if (o->unsent_len) return push_unsent(o, fd) < 0 ? -1 : (ssize_t)o->unsent_plain;
  if (len > MAX_PLAIN) len = MAX_PLAIN;
  size_t total = seal(&o->tx, T_DATA, p, len, rec);
  if (total == 0) return snprintf(why, why_len, "sealing a record failed"), errno = EPROTO, -1;
  ssize_t w;
  do w = write(fd, rec, total); while (w < 0 && errno == EINTR);
  if (w == (ssize_t)total) return (ssize_t)len;
  if (w < 0 && errno != EAGAIN) return -1;
  uint8_t *u = realloc(o->unsent, total);
  if (!u) return snprintf(why, why_len, "out of memory"), errno = EPROTO, -1;
  o->unsent = u;
  memcpy(o->unsent, rec, total);
  o->unsent_len = total;
  o->unsent_off = w > 0 ? (size_t)w : 0;
  o->unsent_plain = len;
  errno = EAGAIN;
  return -1;
}

void tls13_close(int slot, int fd) {
  struct own *o = &own[slot];
  uint8_t rec[HDR + 2 + 1 + TAG];
  const uint8_t alert[2] = {1, 0}; /* warning, close_notify */
  if (!o->on) return;
  o->on = 0;
  if (fd >= 0 && !o->unsent_len) {
    size_t n = seal(&o->tx, T_ALERT, alert, sizeof alert, rec);
    if (n && write(fd, rec, n) < 0) { /* best effort, as SSL_shutdown was */ }
  }
  o->part_len = o->unsent_len = o->unsent_off = 0;
}
