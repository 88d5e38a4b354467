/*
 * Connections: connect with retries, write from the pattern, read and
 * verify, and what happens when a message completes.
 *
 * Connects go through a FIFO queue so setup ramps up: at most connect_cap
 * connects are in progress at once, and a refused or failed connect (a full
 * accept backlog, ports in TIME_WAIT) goes back to the tail with a growing
 * backoff instead of counting as an error. Level-triggered epoll: EPOLLIN
 * always, EPOLLOUT only while a write is short. Each epoll token carries the
 * slot and the socket's generation, so an event for a socket closed and
 * reopened earlier in the same batch is dropped.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "loop.h"
#include "tls.h"

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void note_error(struct stats *st, const char *fmt, ...) {
  st->errors++;
  if (st->first_error[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->first_error, sizeof st->first_error, fmt, ap);
  va_end(ap);
}

/* Plaintext WebSocket runs edge-triggered: level-triggered epoll puts every
 * socket it reported back on its ready list and polls it again in the next
 * epoll_wait (to find it drained), one tcp_poll per message that is ~4% of
 * the load generator's CPU at 1,000 connections, where the load generator
 * and not the server can set the pace. Safe because conn_readable reads
 * until a short read (all there was) and writes go until EAGAIN. */
static int edge_triggered(const struct loop *l) { return l->cfg->ws && !l->cfg->tls; }

void set_interest(struct loop *l, struct conn *c, int out, int op) {
  struct epoll_event ev;
  ev.events = EPOLLIN | (out ? EPOLLOUT : 0) | (edge_triggered(l) ? EPOLLET : 0);
  ev.data.u64 = (uint64_t)c->generation << 32 | c->id;
  epoll_ctl(l->ep, op, c->fd, &ev);
  c->out_armed = out;
}

void conn_close(struct loop *l, struct conn *c) {
  if (l->cfg->tls) tls_close(c);
  if (c->fd >= 0) close(c->fd); /* close() also drops it from epoll */
  if (c->state == ST_CONNECTING) l->connecting--;
  if (c->state == ST_READY) l->ready[c->role]--;
  c->fd = -1;
  c->state = ST_FREE;
  c->out_armed = 0;
  c->sent = c->want = c->recvd = c->done = 0;
  c->ts_head = c->ts_len = 0;
  c->rlen = c->wlen = 0;
  c->owed = 0;
}

void conn_fail_why(struct loop *l, struct conn *c, const char *why) {
  note_error(l->st, "conn %u: %s", c->id, why);
  conn_close(l, c);
  if (l->cfg->mode == MODE_CHURN && c->role == ROLE_ACTIVE) queue_push(l, c->id, 0);
  else l->dead++;
}

void conn_fail(struct loop *l, struct conn *c, const char *what, int err) {
  char why[128];
  snprintf(why, sizeof why, "%s: %s", what, strerror(err));
  conn_fail_why(l, c, why);
}

/* The socket calls, through TLS when the run has it. */
static ssize_t conn_write(struct loop *l, struct conn *c, const void *p, size_t len) {
  return l->cfg->tls ? tls_write(l, c, p, len) : write(c->fd, p, len);
}

/* Replies timed by arrival (rxstamp.c): plaintext at a fixed rate. */
static int stamped(const struct loop *l) { return l->cfg->rate > 0 && !l->cfg->tls; }

/* A read, and in *t when what it took arrived (now, unless stamped). */
static ssize_t conn_read(struct loop *l, struct conn *c, uint8_t *buf, size_t cap, uint64_t *t) {
  if (stamped(l)) return rxstamp_read(c->fd, buf, cap, t);
  ssize_t n = l->cfg->tls ? tls_read(l, c, buf, cap) : read(c->fd, buf, cap);
  *t = now_ns(); /* after the read (and the decrypt), as every closed-loop figure so far */
  return n;
}

void retry_later(struct loop *l, struct conn *c) {
  conn_close(l, c);
  l->st->connect_retries++;
  int shift = c->retries < 6 ? c->retries : 6;
  c->retries++;
  queue_push(l, c->id, now_ns() + (5000000ull << shift)); /* 5 ms .. 320 ms */
}

static int retryable(int err) {
  return err == ECONNREFUSED || err == ETIMEDOUT || err == EAGAIN ||
         err == EADDRNOTAVAIL || err == ECONNRESET || err == EADDRINUSE;
}

static void ts_push(struct loop *l, struct conn *c, uint64_t t) {
  int cap = l->cfg->inflight > 0 ? l->cfg->inflight : 1;
  c->ts[(c->ts_head + c->ts_len) % cap] = t;
  c->ts_len++;
}

static uint64_t ts_pop(struct loop *l, struct conn *c) {
  int cap = l->cfg->inflight > 0 ? l->cfg->inflight : 1;
  uint64_t t = c->ts[c->ts_head];
  c->ts_head = (c->ts_head + 1) % cap;
  c->ts_len--;
  return t;
}

/* Line protocols: write the buffer; returns -1 if the connection failed. */
static int flush_wbuf(struct loop *l, struct conn *c) {
  size_t off = 0;
  while (off < c->wlen) {
    ssize_t n = conn_write(l, c, c->wbuf + off, c->wlen - off);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      conn_fail(l, c, "write", errno);
      return -1;
    }
    break;
  }
  memmove(c->wbuf, c->wbuf + off, c->wlen - off);
  c->wlen -= off;
  return 0;
}

/* Write what is owed; arm EPOLLOUT only while some of it is left. */
void conn_flush(struct loop *l, struct conn *c) {
  if (l->cfg->mode == MODE_KV || l->cfg->ws) {
    if (flush_wbuf(l, c) < 0) return;
    if ((c->wlen > 0) != c->out_armed) set_interest(l, c, c->wlen > 0, EPOLL_CTL_MOD);
    return;
  }
  while (c->sent < c->want) {
    size_t len = (size_t)(c->want - c->sent);
    const uint8_t *p = tx_bytes(c, c->sent, &len);
    ssize_t n = conn_write(l, c, p, len);
    if (n > 0) {
      c->sent += (uint64_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      conn_fail(l, c, "write", errno);
      return;
    }
    break;
  }
  int out = c->sent < c->want;
  if (out != c->out_armed) set_interest(l, c, out, EPOLL_CTL_MOD);
}

/* Puts one message on the connection's books, timed from t (written by
 * the next conn_flush). */
void conn_send(struct loop *l, struct conn *c, uint64_t t) {
  if (l->cfg->mode == MODE_KV) kv_encode(c, (c->ts_head + c->ts_len) % l->cfg->inflight);
  else if (l->cfg->ws) ws_encode(c, c->done + (uint64_t)c->ts_len);
  else c->want += msg_bytes();
  c->msgs++;
  ts_push(l, c, t);
}

void on_connected(struct loop *l, struct conn *c) {
  uint64_t t = now_ns();
  l->connecting--;
  c->retries = 0;
  if (l->cfg->ws) { /* the upgrade first; ws.c sends the warm-up after the 101 */
    c->state = ST_WARMING;
    ws_begin(l, c);
  } else if (c->role == ROLE_HOT || l->cfg->mode == MODE_CHURN) {
    c->state = ST_ACTIVE;
    conn_send(l, c, c->started_ns);
  } else {
    c->state = ST_WARMING;
    conn_send(l, c, t);
  }
  conn_flush(l, c);
}

/* Source addresses a loopback destination's connections are spread over. */
#define LOOPBACK_SOURCES 16

/* Binds fd to one of 127.0.0.1..16 (by connection id) when the server is on
 * loopback; the port is still chosen by connect(). Churn closes from this
 * side, so every finished connection holds its 4-tuple in TIME_WAIT, and
 * the kernel reuses one only after a second: from a single source address
 * connect() has about 14,000 ports to search (even ones first), and near
 * 15,000 connections a second that search, in this process, set the pace
 * rather than the server under test. Sixteen addresses give it sixteen
 * times the room. */
static void bind_source(const struct loop *l, int fd, uint32_t id) {
  if ((ntohl(l->addr.sin_addr.s_addr) >> 24) != 127) return;
  struct sockaddr_in src;
  memset(&src, 0, sizeof src);
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f000001u + id % LOOPBACK_SOURCES);
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  (void)bind(fd, (struct sockaddr *)&src, sizeof src); /* if refused, connect() picks */
}

/* Start a connect; it completes in conn_event or is retried. */
void conn_open(struct loop *l, struct conn *c) {
  if (c->retries == 0 && (c->role == ROLE_HOT || l->cfg->mode == MODE_CHURN))
    if (c->role != ROLE_HOT || c->started_ns == 0) c->started_ns = now_ns();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    conn_fail(l, c, "socket", errno);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (stamped(l)) rxstamp_enable(fd);
  bind_source(l, fd, c->id);
  c->fd = fd;
  c->generation++;
  c->state = ST_CONNECTING;
  l->connecting++;
  set_interest(l, c, 1, EPOLL_CTL_ADD);
  if (connect(fd, (struct sockaddr *)&l->addr, sizeof l->addr) == 0 || errno == EINPROGRESS)
    return; /* EPOLLOUT tells us how it went */
  if (retryable(errno)) retry_later(l, c);
  else conn_fail(l, c, "connect", errno);
}

static void message_done(struct loop *l, struct conn *c, uint64_t t) {
  uint64_t sent_at = ts_pop(l, c);
  c->done++;
  struct stats *st = l->st;
  if (c->state == ST_WARMING) {
    c->state = ST_READY;
    l->ready[c->role]++;
    return;
  }
  if (c->role == ROLE_HOT) {
    hist_add(&st->hot_lat, t - sent_at);
    st->hot_done++;
    if (ramp_phase() == RAMP_FLOOD) st->hot_last_ns = t;
    if (st->hot_done >= (uint64_t)l->cfg->hot) ramp_set_phase(RAMP_AFTER);
    c->state = ST_READY; /* served; it now only holds its place */
    l->ready[ROLE_HOT]++;
    return;
  }
  if (l->measuring) st->ops++;
  if (l->rate_on ? rate_in_window(l, sent_at) : l->measuring) { /* rate.c: by due time */
    if (t < sent_at) t = sent_at; /* an arrival stamp (rxstamp.c) a hair early */
    hist_add(&st->lat, t - sent_at);
    enum ramp_phase ph = l->cfg->mode == MODE_RAMP ? ramp_phase() : RAMP_AFTER;
    if (ph != RAMP_AFTER) hist_add(ph == RAMP_FLOOD ? &st->flood_lat : &st->steady_lat, t - sent_at);
  }
  if (l->cfg->mode == MODE_CHURN) {
    conn_close(l, c);
    if (!l->draining) queue_push(l, c->id, 0);
    return;
  }
  if (l->rate_on) rate_send_owed(l, c);
  else if (!l->draining) conn_send(l, c, t);
}

/* Feed n verified-or-not bytes; returns -1 if the connection was failed. */
static int conn_input(struct loop *l, struct conn *c, const uint8_t *buf, size_t n, uint64_t t) {
  if (l->cfg->mode == MODE_HTTP || l->cfg->mode == MODE_KV || l->cfg->ws) {
    char why[128];
    long k = l->cfg->ws ? ws_consume(l, c, buf, n, why, sizeof why)
             : l->cfg->mode == MODE_KV ? kv_consume(c, l->cfg->inflight, buf, n, why, sizeof why)
                                       : http_consume(c, buf, n, why, sizeof why);
    if (k < 0) {
      l->st->verify_errors++;
      note_error(l->st, "conn %u: %s", c->id, why);
      conn_close(l, c);
      l->dead++;
      return -1;
    }
    if (l->measuring) l->st->bytes += n;
    while (k-- > 0 && c->state != ST_FREE) message_done(l, c, t);
    return 0;
  }
  if (c->recvd + n > c->want || echo_verify(c, buf, n) != 0) {
    l->st->verify_errors++;
    note_error(l->st, "conn %u: echoed bytes differ at offset %llu", c->id,
               (unsigned long long)c->recvd);
    conn_close(l, c);
    l->dead++;
    return -1;
  }
  c->recvd += n;
  if (l->measuring) l->st->bytes += n;
  size_t m = msg_bytes();
  while (c->state != ST_FREE && c->ts_len > 0 && c->recvd >= (c->done + 1) * m)
    message_done(l, c, t);
  return 0;
}

static void conn_readable(struct loop *l, struct conn *c) {
  int reads = edge_triggered(l) ? INT32_MAX : 4; /* edge-triggered: drain it */
  for (int i = 0; i < reads; i++) {
    uint64_t t;
    ssize_t n = conn_read(l, c, l->scratch, sizeof l->scratch, &t);
    if (n > 0) {
      if (stamped(l) && l->win_t0 > 0) hist_add(&l->st->rx_lag, now_ns() - t); /* the window and its drain */
      if (conn_input(l, c, l->scratch, (size_t)n, t) < 0) return;
      if (c->fd < 0) return; /* churn: done and closed */
      if ((size_t)n < sizeof l->scratch) break;
      continue;
    }
    if (n == 0) {
      conn_fail(l, c, "read", EPIPE); /* the server closed on us */
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) conn_fail(l, c, "read", errno);
    return;
  }
  if (c->state != ST_FREE) conn_flush(l, c);
}

static void conn_connect_done(struct loop *l, struct conn *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err == 0 && l->cfg->tls) tls_begin(l, c);
  else if (err == 0) on_connected(l, c);
  else if (retryable(err)) retry_later(l, c);
  else conn_fail(l, c, "connect", err);
}

void conn_event(struct loop *l, struct conn *c, uint32_t events) {
  if (c->state == ST_CONNECTING) {
    if (l->cfg->tls && tls_active(c)) tls_handshake(l, c);
    else conn_connect_done(l, c);
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) conn_readable(l, c);
  else if (events & EPOLLOUT) conn_flush(l, c);
}

void conn_activate(struct loop *l, struct conn *c) {
  uint64_t t = now_ns();
  c->state = ST_ACTIVE;
  if (l->cfg->rate > 0) return; /* rate.c sends on its schedule */
  for (int k = 0; k < l->cfg->inflight; k++) conn_send(l, c, t);
  conn_flush(l, c);
}
