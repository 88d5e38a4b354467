/*
 * c-echo: the ceiling. A plain single-threaded C epoll server that echoes
 * (or, with --http, answers every HTTP/1.1 request with "hello world\n";
 * with --kv, speaks the key-value protocol of the kv scenarios: kv.c).
 *
 * It is what a reactor could at best cost per operation: level-triggered
 * epoll, accept4 in a loop until EAGAIN, one read into a static buffer, one
 * write back. Only a short write's remainder is kept (per connection, heap),
 * and while it is kept the connection stops reading (EPOLLOUT instead of
 * EPOLLIN), so a slow reader cannot make us buffer without bound. HTTP
 * requests are counted by matching "\r\n\r\n" with a 4-state matcher that
 * survives split reads; no other parsing (the load generator sends only
 * GETs without bodies). Listens on 127.0.0.1 port 0 and prints the port;
 * exits when stdin reaches end of file, so it never outlives the harness.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cs-net.h"
#include "kv.h"

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
    "Connection: keep-alive\r\n\r\nhello world\n";

struct conn {
  struct cs_pend pend; /* unwritten remainder */
  int match;      /* how much of "\r\n\r\n" the stream ends with */
};

static struct conn *conns;
static int max_fd;
static int ep, http, kv;
static struct kv_out kv_out;
static char buf[65536];
static char out[65536];

static void set_events(int fd, uint32_t ev, int op) {
  cs_set_events(ep, fd, ev, op);
}

static void drop(int fd) {
  free(conns[fd].pend.p);
  if (kv) kv_drop(fd);
  memset(&conns[fd], 0, sizeof conns[fd]);
  close(fd);
}

/* Write data; keep what the kernel did not take. Returns -1 if fd died. */
static int send_all(int fd, const char *p, size_t n) {
  ssize_t w = write(fd, p, n);
  if (w < 0 && errno != EAGAIN) return -1;
  size_t done = w > 0 ? (size_t)w : 0;
  if (done == n) return 0;
  struct conn *c = &conns[fd];
  char *rest = malloc(n - done);
  if (rest == NULL) return -1; /* out of memory: this connection only */
  c->pend = (struct cs_pend){rest, n - done, 0};
  memcpy(c->pend.p, p + done, n - done);
  set_events(fd, EPOLLOUT, EPOLL_CTL_MOD);
  return 0;
}

static size_t count_requests(struct conn *c, const char *p, size_t n) {
  static const char end[] = "\r\n\r\n";
  size_t reqs = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == end[c->match]) c->match++;
    else c->match = p[i] == '\r' ? 1 : 0;
    if (c->match == 4) { reqs++; c->match = 0; }
  }
  return reqs;
}

static int answer_http(int fd, size_t reqs) {
  size_t rl = sizeof RESPONSE - 1, total = reqs * rl;
  char *p = total <= sizeof out ? out : malloc(total);
  if (p == NULL) return -1; /* out of memory: this connection only */
  for (size_t i = 0; i < reqs; i++) memcpy(p + i * rl, RESPONSE, rl);
  int rc = total ? send_all(fd, p, total) : 0;
  if (p != out) free(p);
  return rc;
}

static void on_readable(int fd) {
  ssize_t n = read(fd, buf, sizeof buf);
  if (n == 0 || (n < 0 && errno != EAGAIN)) { drop(fd); return; }
  if (n < 0) return;
  int rc;
  if (http) {
    rc = answer_http(fd, count_requests(&conns[fd], buf, (size_t)n));
  } else if (kv) {
    kv_out.len = 0;
    kv_feed(fd, buf, (size_t)n, &kv_out);
    rc = kv_out.len ? send_all(fd, kv_out.buf, kv_out.len) : 0;
  } else {
    rc = send_all(fd, buf, (size_t)n);
  }
  if (rc < 0) drop(fd);
}

static void on_writable(int fd) {
  int rc = cs_write_pend(fd, &conns[fd].pend);
  if (rc < 0) drop(fd);
  else if (rc > 0) set_events(fd, EPOLLIN, EPOLL_CTL_MOD);
}

static void on_event(int fd, uint32_t events) {
  if (events & EPOLLOUT) on_writable(fd);
  else on_readable(fd);
}

int main(int argc, char **argv) {
  http = argc > 1 && strcmp(argv[1], "--http") == 0;
  kv = argc > 1 && strcmp(argv[1], "--kv") == 0;
  signal(SIGPIPE, SIG_IGN);
  max_fd = cs_raise_nofile();
  conns = cs_alloc((size_t)max_fd, sizeof *conns);
  if (kv) kv_init(max_fd);
  cs_serve("c-echo", &ep, max_fd, on_event);
}
