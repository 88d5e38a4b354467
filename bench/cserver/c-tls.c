/*
 * c-tls: the TLS ceiling. A single-threaded C epoll echo server that does
 * nothing but what OpenSSL needs, so that its handshakes per second (and
 * its CPU per handshake) bound what any server on the same OpenSSL can do.
 *
 * Usage: c-tls CERT.pem KEY.pem (the harness's certificate,
 * bench/lib/tls-cert.js). Listens on 127.0.0.1 port 0, prints the port,
 * exits when stdin reaches end of file, like c-echo.
 *
 * The loop is c-echo's, on the same plumbing (cs-net.c: level-triggered
 * epoll, accept4 until EAGAIN, exit at stdin's end). A connection gets its
 * SSL object at its first event (the ClientHello); every event drives it
 * one step further: the handshake while it is not finished, then a write a
 * short socket left pending, then SSL_read / SSL_write of what it read.
 * OpenSSL's WANT_READ / WANT_WRITE pick the event waited for next
 * (EPOLLIN or EPOLLOUT, never both). A peer's close_notify is answered with
 * ours; every other end of a connection frees its SSL object and its fd.
 *
 * What it offers is what the load generator asks for and what ioreactor's
 * server does (native/tls_context.cc), nothing more: TLS 1.3 only,
 * TLS_AES_128_GCM_SHA256, X25519; stateless tickets (no session cache),
 * two after a full handshake and none after a resumed one (a ticket that
 * decrypts is used, not renewed: what ioreactor's bench server and Node
 * `tls` send); SSL_MODE_RELEASE_BUFFERS as ioreactor sets it. read_ahead
 * lets one recv take every record waiting, as ioreactor's own record layer
 * does; the read loop stops once OpenSSL holds no unread bytes, so a
 * drained socket costs no extra recv returning EAGAIN.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cs-net.h"

struct conn {
  SSL *ssl;
  char *pend;      /* a write SSL_write must be given again, whole */
  int plen;
  uint32_t events; /* what epoll waits for on this fd */
};

static struct conn *conns;
static int max_fd;
static int ep;
static SSL_CTX *ctx;
static char buf[65536];

static void drop(int fd) {
  struct conn *c = &conns[fd];
  SSL_free(c->ssl);
  free(c->pend);
  memset(c, 0, sizeof *c);
  close(fd);
  ERR_clear_error(); /* one connection's failure must not colour the next */
}

static int wait_for(int fd, uint32_t ev) {
  if (conns[fd].events != ev) cs_set_events(ep, fd, ev, EPOLL_CTL_MOD);
  conns[fd].events = ev;
  return 0;
}

/* After an SSL call returned rc <= 0: wait for what it wants (0), or end
 * the connection (-1), answering a close_notify with ours first. */
static int settle(int fd, int rc) {
  switch (SSL_get_error(conns[fd].ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      return wait_for(fd, EPOLLIN);
    case SSL_ERROR_WANT_WRITE:
      return wait_for(fd, EPOLLOUT);
    case SSL_ERROR_ZERO_RETURN:
      SSL_shutdown(conns[fd].ssl);
      /* fall through */
    default:
      drop(fd);
      return -1;
  }
}

/* Gives SSL_write a pending write again: 1 when it went out, else settle's. */
static int flush(int fd) {
  struct conn *c = &conns[fd];
  int w = SSL_write(c->ssl, c->pend, c->plen);
  if (w <= 0) return settle(fd, w);
  free(c->pend);
  c->pend = NULL;
  return 1;
}

/* Echoes every record OpenSSL can give us now. A write the socket could
 * not take is kept (SSL_write wants the same bytes again) and reading
 * stops until it went out. */
static void echo(int fd) {
  struct conn *c = &conns[fd];
  for (;;) {
    int n = SSL_read(c->ssl, buf, sizeof buf);
    if (n <= 0) { settle(fd, n); return; }
    int w = SSL_write(c->ssl, buf, n);
    if (w <= 0) {
      c->pend = malloc((size_t)n);
      if (c->pend == NULL) { drop(fd); return; } /* out of memory: this connection only */
      memcpy(c->pend, buf, (size_t)n);
      c->plen = n;
      settle(fd, w);
      return;
    }
    if (!SSL_has_pending(c->ssl)) { wait_for(fd, EPOLLIN); return; }
  }
}

static void on_ready(int fd) {
  struct conn *c = &conns[fd];
  if (!SSL_is_init_finished(c->ssl)) {
    int rc = SSL_do_handshake(c->ssl);
    if (rc != 1) { settle(fd, rc); return; }
    /* the client's first record may have come with its Finished (then
     * OpenSSL holds it); if not, the socket's readiness will say */
    if (!SSL_has_pending(c->ssl)) { wait_for(fd, EPOLLIN); return; }
  }
  if (c->pend && flush(fd) <= 0) return;
  echo(fd);
}

/* A connection cs_accept_all added (waiting for EPOLLIN): its SSL object,
 * server side, on the fd; the fd closed if OpenSSL cannot make one. */
static int start_tls(int fd) {
  SSL *ssl = SSL_new(ctx);
  if (!ssl || SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return -1;
  }
  SSL_set_accept_state(ssl);
  conns[fd] = (struct conn){.ssl = ssl, .events = EPOLLIN};
  return 0;
}

/* A ticket that decrypts is used as it is: no fresh ticket on resumption
 * (as ioreactor's bench server and Node `tls`); one that does not means a
 * full handshake and new tickets. */
static SSL_TICKET_RETURN on_ticket(SSL *s, SSL_SESSION *ss, const unsigned char *kn, size_t knl,
                                   SSL_TICKET_STATUS status, void *arg) {
  (void)s, (void)ss, (void)kn, (void)knl, (void)arg;
  switch (status) {
    case SSL_TICKET_SUCCESS:
    case SSL_TICKET_SUCCESS_RENEW:
      return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT:
      return SSL_TICKET_RETURN_IGNORE_RENEW;
    case SSL_TICKET_NONE:
      return SSL_TICKET_RETURN_IGNORE;
    default:
      return SSL_TICKET_RETURN_ABORT;
  }
}

static SSL_CTX *make_ctx(const char *cert, const char *key) {
  SSL_CTX *x = SSL_CTX_new(TLS_server_method());
  if (!x || SSL_CTX_set_min_proto_version(x, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(x, "TLS_AES_128_GCM_SHA256") != 1 ||
      SSL_CTX_set1_groups_list(x, "X25519") != 1 ||
      SSL_CTX_use_certificate_chain_file(x, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(x, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(x) != 1 ||
      SSL_CTX_set_num_tickets(x, 2) != 1 ||
      SSL_CTX_set_session_ticket_cb(x, NULL, on_ticket, NULL) != 1) {
    ERR_print_errors_fp(stderr);
    exit(1);
  }
  SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(x, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(x, 1);
  return x;
}

/* Every event of a connection; its SSL object is made at its first. The
 * flags do not matter: OpenSSL's answers say what to wait for next. */
static void on_event(int fd, uint32_t events) {
  (void)events;
  if (conns[fd].ssl || start_tls(fd) == 0) on_ready(fd);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: c-tls CERT.pem KEY.pem\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  ctx = make_ctx(argv[1], argv[2]);
  max_fd = cs_raise_nofile();
  conns = cs_alloc((size_t)max_fd, sizeof *conns);
  cs_serve("c-tls", &ep, max_fd, on_event);
}
