/*
 * c-ws: the WebSocket ceiling. What a server that does nothing but the
 * WebSocket scenarios' job could at best cost: single-threaded,
 * level-triggered epoll, accept4 until EAGAIN, one read per readiness into
 * a static buffer, the same rule as bench/servers/ws-node.js and
 * ioreactor-ws.js: a binary message, or a text one not starting "bc:", is
 * echoed to its sender; a text message starting "bc:" is framed once and
 * written to every open connection (its sender's included), one write each.
 *
 * The replies to one read go out in one write. Per connection the server
 * keeps only what it must: an incomplete frame (or request head) between
 * reads, and a short write's remainder, to which later messages are
 * appended so the stream stays in order; while a remainder is kept the
 * connection waits for EPOLLOUT and is not read (as c-echo.c), and one
 * that owes more than PEND_MAX is shut down. A write error during a
 * broadcast shuts the socket down rather than freeing it, so the list
 * being walked never changes under the walk; epoll then reports it and
 * it is freed. The protocol (handshake, frames, what is refused: a bad
 * frame closes its connection) is in ws-frame.c. Listens on 127.0.0.1
 * port 0, prints the port, exits when stdin reaches end of file.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cs-net.h"
#include "ws-frame.h"

#define HEAD_MAX 8192           /* an upgrade request's head */
#define PEND_MAX (4u << 20)     /* owed to one connection before it is cut */

struct conn {
  uint8_t *in;    /* an incomplete frame or request head */
  size_t ilen;
  struct cs_pend pend; /* unwritten remainder */
  int slot;       /* index in open_fds + 1; 0 before the upgrade */
  int dead;       /* shut down after a write error: free at its next event */
};

static struct conn *conns;
static int *open_fds, n_open;
static int max_fd, ep;
static uint8_t buf[65536];
static uint8_t out[65536];
static size_t out_len;
static uint8_t bc_buf[WSF_MAX_PAYLOAD + WSF_MAX_HEADER];

static void set_events(int fd, uint32_t ev, int op) {
  cs_set_events(ep, fd, ev, op);
}

static void drop(int fd) {
  struct conn *c = &conns[fd];
  if (c->slot) { /* the last open one takes its place */
    int last = open_fds[--n_open];
    open_fds[c->slot - 1] = last;
    conns[last].slot = c->slot;
  }
  free(c->in);
  free(c->pend.p);
  memset(c, 0, sizeof *c);
  close(fd);
}

static int cut(int fd) {
  conns[fd].dead = 1;
  shutdown(fd, SHUT_RDWR);
  return -1;
}

/* Appends to what fd owes; the first byte owed makes it wait for EPOLLOUT. */
static int keep(int fd, const uint8_t *p, size_t n) {
  struct conn *c = &conns[fd];
  size_t left = c->pend.len - c->pend.off;
  if (left + n > PEND_MAX) return cut(fd);
  if (c->pend.off) memmove(c->pend.p, c->pend.p + c->pend.off, left);
  char *q = realloc(c->pend.p, left + n);
  if (!q) return cut(fd);
  if (!c->pend.p) set_events(fd, EPOLLOUT, EPOLL_CTL_MOD);
  memcpy(q + left, p, n);
  c->pend = (struct cs_pend){q, left + n, 0};
  return 0;
}

/* Writes p, or keeps it behind what fd already owes. -1: fd is cut. */
static int send_all(int fd, const uint8_t *p, size_t n) {
  struct conn *c = &conns[fd];
  if (c->dead) return -1;
  if (c->pend.p) return keep(fd, p, n);
  ssize_t w = write(fd, p, n);
  if (w < 0 && errno != EAGAIN) return cut(fd);
  size_t done = w > 0 ? (size_t)w : 0;
  return done == n ? 0 : keep(fd, p + done, n - done);
}

static int flush_out(int fd) {
  int rc = out_len ? send_all(fd, out, out_len) : 0;
  out_len = 0;
  return rc;
}

/* A reply frame into out (written at the end of the read, or sooner if full). */
static int reply(int fd, int op, const uint8_t *p, size_t len) {
  if (out_len + WSF_MAX_HEADER + len > sizeof out && flush_out(fd) < 0) return -1;
  out_len += wsf_header(out + out_len, op, len);
  memcpy(out + out_len, p, len);
  out_len += len;
  return 0;
}

/* Framed once, one write per open connection (the sender's own replies go first). */
static int broadcast(int fd, const uint8_t *p, size_t len) {
  if (flush_out(fd) < 0) return -1;
  size_t n = wsf_header(bc_buf, WSF_TEXT, len);
  memcpy(bc_buf + n, p, len);
  n += len;
  for (int i = 0; i < n_open; i++) send_all(open_fds[i], bc_buf, n);
  return conns[fd].dead ? -1 : 0;
}

/* One client frame. -1: close the connection (after a close frame's answer). */
static int on_frame(int fd, const struct ws_frame *f) {
  if (f->op == WSF_TEXT && f->len >= 3 && memcmp(f->payload, "bc:", 3) == 0)
    return broadcast(fd, f->payload, f->len);
  if (f->op == WSF_TEXT || f->op == WSF_BINARY) return reply(fd, f->op, f->payload, f->len);
  if (f->op == WSF_PING) return reply(fd, WSF_PONG, f->payload, f->len);
  if (f->op == WSF_CLOSE) {
    reply(fd, WSF_CLOSE, f->payload, f->len < 2 ? 0 : 2);
    flush_out(fd);
    return -1;
  }
  return 0; /* a pong */
}

/* The request head at p: its length once answered, 0 if incomplete, -1 bad. */
static long upgrade(int fd, const uint8_t *p, size_t n) {
  const uint8_t *end = memmem(p, n, "\r\n\r\n", 4);
  if (!end) return n > HEAD_MAX ? -1 : 0;
  char resp[256];
  long len = wsf_upgrade((const char *)p, (size_t)(end - p) + 4, resp, sizeof resp);
  if (len < 0 || send_all(fd, (const uint8_t *)resp, (size_t)len) < 0) return -1;
  open_fds[n_open++] = fd;
  conns[fd].slot = n_open;
  return end - p + 4;
}

/* Everything complete in p: the bytes used (the rest is kept), or -1. */
static long consume(int fd, uint8_t *p, size_t n) {
  long off = 0;
  if (!conns[fd].slot && (off = upgrade(fd, p, n)) <= 0) return off;
  out_len = 0;
  while ((size_t)off < n) {
    struct ws_frame f;
    long k = wsf_parse(p + off, n - (size_t)off, &f);
    if (k == 0) break;
    if (k < 0 || on_frame(fd, &f) < 0) return out_len = 0, -1;
    off += k;
  }
  return flush_out(fd) < 0 ? -1 : off;
}

static void on_readable(int fd) {
  struct conn *c = &conns[fd];
  size_t have = c->ilen;
  if (have) memcpy(buf, c->in, have); /* the kept partial frame goes first */
  ssize_t n = read(fd, buf + have, sizeof buf - have);
  if (n == 0 || (n < 0 && errno != EAGAIN)) { drop(fd); return; }
  if (n < 0) return;
  size_t total = have + (size_t)n;
  long used = consume(fd, buf, total);
  if (used < 0 || (used == 0 && total == sizeof buf)) { drop(fd); return; }
  free(c->in);
  c->in = NULL;
  c->ilen = total - (size_t)used;
  if (!c->ilen) return;
  c->in = malloc(c->ilen);
  if (!c->in) { drop(fd); return; }
  memcpy(c->in, buf + used, c->ilen);
}

static void on_writable(int fd) {
  int rc = cs_write_pend(fd, &conns[fd].pend);
  if (rc < 0) drop(fd);
  else if (rc > 0) set_events(fd, EPOLLIN, EPOLL_CTL_MOD);
}

static void on_event(int fd, uint32_t events) {
  if (conns[fd].dead) drop(fd);
  else if (events & EPOLLOUT) on_writable(fd);
  else on_readable(fd);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  max_fd = cs_raise_nofile();
  conns = cs_alloc((size_t)max_fd, sizeof *conns);
  open_fds = cs_alloc((size_t)max_fd, sizeof *open_fds);
  cs_serve("c-ws", &ep, max_fd, on_event);
}
