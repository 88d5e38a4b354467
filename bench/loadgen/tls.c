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
 * Resumption (--tls-resume): each connection slot keeps the newest session
 * ticket the server sent it and offers it on its next connect, so after the
 * slot's first full handshake every reconnect is a resumed one. Without it
 * the client keeps no session at all: every handshake is full.
 *
 * The SSL objects live in an array beside the connections (indexed by slot),
 * so the connection struct and the plaintext path do not change.
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

static SSL_CTX *ctx;
static SSL **ssl_of;          /* per slot: the live connection's TLS state */
static SSL_SESSION **sess_of; /* per slot: the ticket to resume with */
static int slots;
static struct tls_counts counts;

/* OpenSSL hands us a new session (a ticket); keep it for the slot's next
 * connect. Returning 1 keeps our reference to it. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess) {
  struct conn *c = SSL_get_app_data(ssl);
  if (sess_of[c->id]) SSL_SESSION_free(sess_of[c->id]);
  sess_of[c->id] = sess;
  return 1;
}

/* Large runs (idle holds of 10,000) would keep ~34 KB of record buffers
 * per connection in this process; past a few thousand we let OpenSSL free
 * them while a connection is quiet. */
static long buffer_mode(int n) { return n > 4000 ? SSL_MODE_RELEASE_BUFFERS : 0; }

int tls_init(const struct config *cfg, int n) {
  ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return -1;
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  if (SSL_CTX_set_ciphersuites(ctx, TLS_SUITE) != 1) return -1;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            buffer_mode(n));
  SSL_CTX_set_read_ahead(ctx, 1); /* one recv() takes every record waiting */
  if (cfg->tls_resume) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  slots = n;
  ssl_of = calloc((size_t)n + 1, sizeof *ssl_of);
  sess_of = calloc((size_t)n + 1, sizeof *sess_of);
  return ssl_of && sess_of ? 0 : -1;
}

void tls_free(void) {
  for (int i = 0; i < slots; i++) {
    if (ssl_of[i]) SSL_free(ssl_of[i]);
    if (sess_of[i]) SSL_SESSION_free(sess_of[i]);
  }
  free(ssl_of);
  free(sess_of);
  SSL_CTX_free(ctx);
}

int tls_active(const struct conn *c) { return ssl_of && ssl_of[c->id] != NULL; }

/* The reason of the newest OpenSSL error, or of errno, for a message. */
static const char *reason(int err, int saved_errno) {
  static char buf[120];
  unsigned long e = ERR_peek_last_error();
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  else if (err == SSL_ERROR_SYSCALL && saved_errno) snprintf(buf, sizeof buf, "%s", strerror(saved_errno));
  else snprintf(buf, sizeof buf, "SSL error %d", err);
  ERR_clear_error();
  return buf;
}

void tls_close(struct conn *c) {
  SSL *ssl = ssl_of[c->id];
  if (!ssl) return;
  if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl); /* close_notify, best effort */
  SSL_free(ssl);
  ERR_clear_error();
  ssl_of[c->id] = NULL;
}

/* The first finished handshake says what was negotiated; later ones count. */
static void note_done(SSL *ssl) {
  if (SSL_session_reused(ssl)) counts.resumed++;
  else counts.full++;
  if (counts.version[0]) return;
  snprintf(counts.version, sizeof counts.version, "%s", SSL_get_version(ssl));
  snprintf(counts.cipher, sizeof counts.cipher, "%s", SSL_get_cipher_name(ssl));
}

void tls_handshake(struct loop *l, struct conn *c) {
  SSL *ssl = ssl_of[c->id];
  int r = SSL_do_handshake(ssl);
  if (r == 1) {
    note_done(ssl);
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
  SSL *ssl = SSL_new(ctx);
  if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
    if (ssl) SSL_free(ssl);
    conn_fail_why(l, c, "TLS: SSL_new failed");
    return;
  }
  SSL_set_app_data(ssl, c);
  SSL_set_connect_state(ssl);
  if (sess_of[c->id]) {
    /* a fresh copy each time: OpenSSL will not offer a TLS 1.3 ticket
     * object twice, and servers that do not renew tickets on resumption
     * (Node) would then alternate full and resumed handshakes */
    unsigned char der[4096], *w = der;
    const unsigned char *r = der;
    int len = i2d_SSL_SESSION(sess_of[c->id], NULL);
    SSL_SESSION *copy = NULL;
    if (len > 0 && len <= (int)sizeof der && i2d_SSL_SESSION(sess_of[c->id], &w) == len)
      copy = d2i_SSL_SESSION(NULL, &r, len);
    if (copy) {
      SSL_set_session(ssl, copy);
      SSL_SESSION_free(copy);
    }
  }
  ssl_of[c->id] = ssl;
  tls_handshake(l, c);
}

/* Reads every record waiting: like read(), >0 bytes, 0 at the end of the
 * stream (close_notify or a TCP close), -1 with errno EAGAIN (nothing yet)
 * or EPROTO (a TLS error; noted here with OpenSSL's reason). */
ssize_t tls_read(struct loop *l, struct conn *c, uint8_t *buf, size_t cap) {
  SSL *ssl = ssl_of[c->id];
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
