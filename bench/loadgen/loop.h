/*
 * The loop's insides, shared by conn.c and loop.c only (main.c sees the
 * opaque struct loop through loadgen.h).
 */
#ifndef LOADGEN_LOOP_H
#define LOADGEN_LOOP_H

#include <netinet/in.h>

#include "loadgen.h"

struct loop {
  const struct config *cfg;
  struct stats *st;
  int ep;
  struct sockaddr_in addr;
  struct conn *conns;
  int n;
  uint64_t *ts_slab;
  int measuring;
  uint64_t win_t0, win_t1; /* the measured window (win_t1: UINT64_MAX while open) */
  int hot_only;       /* ramp: the burst's own loop (hot.c) */
  int draining;       /* no new messages: wait for the replies owed */
  int connecting;     /* connects in progress */
  int connect_cap;    /* at most this many at once */
  int ready[3];       /* READY connections by role */
  int dead;           /* failed for good (not to be retried) */
  int server_gone;    /* the server process has exited */
  uint64_t next_pid_check_ns;
  uint32_t *queue;    /* ring of slots waiting to connect */
  uint64_t *queue_at; /* not before this time (ns) */
  int q_head, q_len;
  int rate_on;        /* fixed-rate sending has started (rate.c) */
  uint64_t rate_t0, rate_g;
  double rate_interval; /* ns between messages, over all connections */
  uint8_t scratch[65536];
};

void queue_push(struct loop *l, uint32_t id, uint64_t not_before_ns);
void conn_open(struct loop *l, struct conn *c);
void conn_close(struct loop *l, struct conn *c);
void conn_event(struct loop *l, struct conn *c, uint32_t events);
void conn_activate(struct loop *l, struct conn *c);
void conn_send(struct loop *l, struct conn *c, uint64_t t);
void conn_flush(struct loop *l, struct conn *c);
/* For tls.c: the steps a TLS handshake ends in. */
void set_interest(struct loop *l, struct conn *c, int out, int op);
void on_connected(struct loop *l, struct conn *c);
void retry_later(struct loop *l, struct conn *c);
void conn_fail_why(struct loop *l, struct conn *c, const char *why);

/* rate.c */
void rate_start(struct loop *l, uint64_t t0);
uint64_t rate_tick(struct loop *l, uint64_t t);
void rate_send_owed(struct loop *l, struct conn *c);
uint64_t rate_owed(const struct loop *l);
int rate_in_window(const struct loop *l, uint64_t due);

#endif
