/*
 * TLS for the load generator (--tls): OpenSSL (the system's libssl, not the
 * one inside Node, so the client's crypto is independent of the servers')
 * driven over the same non-blocking sockets and level-triggered epoll loop
 * as plaintext. conn.c calls in at four points only: when a TCP connect
 * completes (tls_begin), for every event while the handshake runs
 * (tls_handshake), and for each read and write (tls_read, tls_write, which
 * behave like read() and write(): EAGAIN when OpenSSL wants the socket).
 *
 * Every connection offers TLS 1.3 with one suite, TLS_AES_128_GCM_SHA256,
 * so whatever the server prefers, every server in a scenario is measured
 * on the same cipher. The certificate is not verified (it is the harness's
 * own throwaway); OpenSSL still checks the server's handshake signature.
 *
 * Each connection slot keeps one SSL object for the whole run: a close
 * sends close_notify and SSL_clear()s it, the next connect on the slot
 * reuses it. The client's cost per handshake is then the handshake and
 * little else, so it stays well below the servers' (a resumed handshake
 * costs the client about as much as it costs a server).
 *
 * Resumption (--tls-resume): SSL_clear keeps the object's session, which
 * OpenSSL replaces with the newest ticket whenever the server sends one,
 * so each reconnect offers the slot's latest ticket, or again the one it
 * resumed with when the server sent none (Node does not renew tickets on
 * resumption). The client session cache stays off: with it, OpenSSL marks
 * a TLS 1.3 session not resumable once used, which is why this file used
 * to copy the session through DER (i2d/d2i) on every connect; decoding the
 * peer certificate in that copy cost more than the handshake's crypto.
 * Without --tls-resume the session is dropped at close: every handshake
 * is full. Tickets received are counted (a message callback), so the
 * report says how many each server sends per handshake.
 *
 * After the handshake a connection moves to the record layer of tls13.c
 * (not with --tls-resume), which costs the client well under half of
 * SSL_read/SSL_write per round trip; tls13_take_over says when it may.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "loop.h"
#include "tls.h"
#include "tls13.h"
#include "tls_pubkey.h"

static SSL_CTX *ctx;
static SSL **ssl_of;         /* per slot: its TLS state, kept between connections */
static unsigned char *live;  /* per slot: a connection is using ssl_of[slot] */
static int slots, resume;
static struct tls_counts counts;

/* Counts the NewSessionTicket messages servers send (received handshake
 * messages only; record headers and our own messages pass by). */
static void on_message(int write_p, int version, int type, const void *buf, size_t len, SSL *ssl,
                       void *arg) {
  (void)version, (void)ssl, (void)arg;
  if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0 &&
      ((const unsigned char *)buf)[0] == SSL3_MT_NEWSESSION_TICKET)
    __atomic_fetch_add(&counts.tickets, 1, __ATOMIC_RELAXED); /* both of ramp's threads */
}

/* Large runs (idle holds of 10,000) would keep ~34 KB of record buffers
 * per connection in this process; past a few thousand we let OpenSSL free
 * them while a connection is quiet. */
static long buffer_mode(int n) { return n > 4000 ? SSL_MODE_RELEASE_BUFFERS : 0; }

int tls_init(const struct config *cfg, int n) {
  if (tls_pubkey_fast() != 0) ERR_clear_error(); /* slower certificate parsing, nothing else */
  ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return -1;
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  if (SSL_CTX_set_ciphersuites(ctx, TLS_SUITE) != 1) return -1;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            buffer_mode(n));
  SSL_CTX_set_read_ahead(ctx, 1); /* one recv() takes every record waiting */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* see the note at the top */
  SSL_CTX_set_msg_callback(ctx, on_message);
  resume = cfg->tls_resume;
  slots = n;
  /* after the handshake our own record layer (tls13.c); resuming needs
   * OpenSSL to see the tickets, so --tls-resume stays on OpenSSL's */
  if (!resume) SSL_CTX_set_keylog_callback(ctx, tls13_keylog);
  if (!resume && tls13_init(n) < 0) return -1;
  ssl_of = calloc((size_t)n + 1, sizeof *ssl_of);
  live = calloc((size_t)n + 1, 1);
  return ssl_of && live ? 0 : -1;
}

void tls_free(void) {
  for (int i = 0; i < slots; i++)
    if (ssl_of[i]) SSL_free(ssl_of[i]);
  free(ssl_of);
  free(live);
  if (!resume) tls13_free();
  SSL_CTX_free(ctx);
}

int tls_active(const struct conn *c) { return live && live[c->id]; }

/* The reason of the newest OpenSSL error, or of errno, for a message. */
static const char *reason(int err, int saved_errno) {
  static _Thread_local char buf[120]; /* ramp's burst has a thread (hot.c) */
  unsigned long e = ERR_peek_last_error();
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  else if (err == SSL_ERROR_SYSCALL && saved_errno) snprintf(buf, sizeof buf, "%s", strerror(saved_errno));
  else snprintf(buf, sizeof buf, "SSL error %d", err);
  ERR_clear_error();
  return buf;
}

/* Ends the slot's connection and readies its SSL object for the next one.
 * SSL_clear keeps the session only after a close_notify went out (a
 * connection that failed is not resumed); without --tls-resume it is
 * dropped first. */
void tls_close(struct conn *c) {
  SSL *ssl = ssl_of[c->id];
  if (!live[c->id]) return;
  live[c->id] = 0;
  if (!resume && tls13_on(c->id)) {
    tls13_close(c->id, c->fd); /* close_notify under our keys */
    SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  } else if (SSL_is_init_finished(ssl)) {
    SSL_shutdown(ssl); /* close_notify, best effort */
  }
  if (!resume) SSL_set_session(ssl, NULL);
  if (SSL_clear(ssl) != 1) {
    SSL_free(ssl);
    ssl_of[c->id] = NULL;
  }
  ERR_clear_error();
}

/* The first finished handshake says what was negotiated; later ones count. */
static void note_done(SSL *ssl) {
  /* atomic: ramp's burst handshakes on a thread of its own (hot.c); the
   * version is named by the first handshake, before that thread exists
   * unless the burst is all there is */
  __atomic_fetch_add(SSL_session_reused(ssl) ? &counts.resumed : &counts.full, 1, __ATOMIC_RELAXED);
  if (counts.version[0]) return;
  snprintf(counts.version, sizeof counts.version, "%s", SSL_get_version(ssl));
  snprintf(counts.cipher, sizeof counts.cipher, "%s", SSL_get_cipher_name(ssl));
}

void tls_handshake(struct loop *l, struct conn *c) {
  SSL *ssl = ssl_of[c->id];
  int r = SSL_do_handshake(ssl);
  if (r == 1) {
    note_done(ssl);
    if (!resume) tls13_take_over(c->id, ssl);
    on_connected(l, c);
    return;
  }
  int saved = errno, err = SSL_get_error(ssl, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    int out = err == SSL_ERROR_WANT_WRITE;
    if (out != c->out_armed) set_interest(l, c, out, EPOLL_CTL_MOD);
    return;
  }
  /* a reset mid-handshake under a connect flood is a refused connect */
  if (err == SSL_ERROR_SYSCALL && (saved == ECONNRESET || saved == EPIPE)) {
    ERR_clear_error();
    retry_later(l, c);
    return;
  }
  char why[160];
  snprintf(why, sizeof why, "TLS handshake: %s", reason(err, saved));
  conn_fail_why(l, c, why);
}

void tls_begin(struct loop *l, struct conn *c) {
  SSL *ssl = ssl_of[c->id] ? ssl_of[c->id] : SSL_new(ctx);
  ssl_of[c->id] = ssl;
  if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
    conn_fail_why(l, c, "TLS: SSL_new failed");
    return;
  }
  SSL_set_connect_state(ssl);
  SSL_set_app_data(ssl, (void *)(intptr_t)(c->id + 1)); /* for tls13_keylog */
  live[c->id] = 1;
  tls_handshake(l, c);
}

/* tls_read on our record layer: tickets counted, a TLS error noted. */
static ssize_t own_read(struct loop *l, struct conn *c, uint8_t *buf, size_t cap) {
  char why[120];
  uint64_t tickets = 0;
  ssize_t n = tls13_read(c->id, c->fd, buf, cap, &tickets, why, sizeof why);
  if (tickets) __atomic_fetch_add(&counts.tickets, tickets, __ATOMIC_RELAXED);
  if (n < 0 && errno == EPROTO) note_error(l->st, "conn %u: TLS read: %s", c->id, why);
  return n;
}

/* Reads every record waiting: like read(), >0 bytes, 0 at the end of the
 * stream (close_notify or a TCP close), -1 with errno EAGAIN (nothing yet)
 * or EPROTO (a TLS error; noted here with OpenSSL's reason). */
ssize_t tls_read(struct loop *l, struct conn *c, uint8_t *buf, size_t cap) {
  SSL *ssl = ssl_of[c->id];
  if (!resume && tls13_on(c->id)) return own_read(l, c, buf, cap);
  size_t total = 0;
  while (total < cap) {
    size_t n = 0;
    if (SSL_read_ex(ssl, buf + total, cap - total, &n)) {
      total += n;
      if (!SSL_has_pending(ssl)) break; /* the rest, if any, is still in the socket */
      continue;
    }
    int saved = errno, err = SSL_get_error(ssl, 0);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE || total > 0) break;
    if (err == SSL_ERROR_ZERO_RETURN) return 0;
    if (err == SSL_ERROR_SYSCALL && saved == 0 && ERR_peek_error() == 0) return 0;
    note_error(l->st, "conn %u: TLS read: %s", c->id, reason(err, saved));
    errno = EPROTO;
    return -1;
  }
  ERR_clear_error();
  if (total == 0) errno = EAGAIN;
  return total > 0 ? (ssize_t)total : -1;
}

/* Encrypts and writes; like write(): bytes taken, or -1 with errno EAGAIN
 * (retried later with the same bytes, as OpenSSL requires) or EPROTO. */
ssize_t tls_write(struct loop *l, struct conn *c, const uint8_t *p, size_t len) {
  SSL *ssl = ssl_of[c->id];
  if (!resume && tls13_on(c->id)) {
    char why[120];
    ssize_t n = tls13_write(c->id, c->fd, p, len, why, sizeof why);
    if (n < 0 && errno == EPROTO) note_error(l->st, "conn %u: TLS write: %s", c->id, why);
    return n;
  }
  size_t n = 0;
  if (SSL_write_ex(ssl, p, len, &n)) return (ssize_t)n;
  int saved = errno, err = SSL_get_error(ssl, 0);
  if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
    ERR_clear_error();
    errno = EAGAIN;
    return -1;
  }
  if (err == SSL_ERROR_SYSCALL && saved) {
    ERR_clear_error();
    errno = saved;
    return -1;
  }
  note_error(l->st, "conn %u: TLS write: %s", c->id, reason(err, saved));
  errno = EPROTO;
  return -1;
}

const struct tls_counts *tls_counts(void) { return &counts; }

const char *tls_record_cipher(void) { return resume ? "openssl" : tls13_direct() ? "aesni" : "evp"; }
