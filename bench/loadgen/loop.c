/*
 * The event loop: one epoll_wait, dispatch by token, then start as many
 * queued connects as the cap and their backoff allow. A token whose
 * generation no longer matches its slot's socket is stale (the socket was
 * closed earlier in this batch) and is skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define BATCH 512

struct loop *loop_new(const struct config *cfg, struct stats *st) {
  struct loop *l = calloc(1, sizeof *l);
  int total = cfg->conns + cfg->idle + cfg->hot;
  int cap = cfg->inflight > 0 ? cfg->inflight : 1;
  l->cfg = cfg;
  l->st = st;
  l->n = total;
  l->ep = epoll_create1(EPOLL_CLOEXEC);
  l->conns = calloc((size_t)total + 1, sizeof *l->conns);
  l->ts_slab = calloc((size_t)total * (size_t)cap + 1, sizeof *l->ts_slab);
  l->queue = calloc((size_t)total + 1, sizeof *l->queue);
  l->queue_at = calloc((size_t)total + 1, sizeof *l->queue_at);
  uint32_t *expect = NULL;
  if (cfg->mode == MODE_KV) expect = calloc((size_t)total * (size_t)cap + 1, sizeof *expect);
  l->connect_cap = cfg->max_connecting;
  l->addr.sin_family = AF_INET;
  l->addr.sin_port = htons((uint16_t)cfg->port);
  inet_pton(AF_INET, cfg->host, &l->addr.sin_addr);
  for (int i = 0; i < total; i++) {
    l->conns[i].fd = -1;
    l->conns[i].id = (uint32_t)i;
    l->conns[i].ts = l->ts_slab + (size_t)i * (size_t)cap;
    l->conns[i].expect = expect ? expect + (size_t)i * (size_t)cap : NULL;
  }
  return l;
}

void loop_free(struct loop *l) {
  for (int i = 0; i < l->n; i++) {
    if (l->conns[i].fd >= 0) close(l->conns[i].fd);
    free(l->conns[i].rbuf);
    free(l->conns[i].wbuf);
  }
  if (l->n > 0) free(l->conns[0].expect);
  close(l->ep);
  free(l->conns);
  free(l->ts_slab);
  free(l->queue);
  free(l->queue_at);
  free(l);
}

void queue_push(struct loop *l, uint32_t id, uint64_t not_before_ns) {
  int tail = (l->q_head + l->q_len) % l->n;
  l->queue[tail] = id;
  l->queue_at[tail] = not_before_ns;
  l->q_len++;
}

/* Start due connects; returns ms until the head of the queue is due. */
static int queue_drain(struct loop *l, uint64_t t) {
  while (l->q_len > 0 && l->connecting < l->connect_cap) {
    if (l->queue_at[l->q_head] > t)
      return (int)((l->queue_at[l->q_head] - t) / 1000000 + 1);
    struct conn *c = &l->conns[l->queue[l->q_head]];
    l->q_head = (l->q_head + 1) % l->n;
    l->q_len--;
    conn_open(l, c);
  }
  return l->q_len > 0 ? 1 : 50;
}

void loop_start_connecting(struct loop *l, int first, int count, enum conn_role role) {
  for (int i = first; i < first + count && i < l->n; i++) {
    l->conns[i].role = role;
    queue_push(l, (uint32_t)i, 0);
  }
}

int loop_ready(const struct loop *l, enum conn_role role) { return l->ready[role]; }

void loop_set_connect_cap(struct loop *l, int cap) { l->connect_cap = cap; }

/* Opening the window notes when it began; closing it, when it ended: a
 * fixed-rate message is timed by whether it was due in between. Closing it
 * first sends (or owes) everything due by then: the last wait may have
 * overslept the window's end, and what fell due in that nap was due inside
 * the window, so it must be timed too. */
void loop_set_measuring(struct loop *l, int on) {
  uint64_t t = now_ns();
  if (on && !l->measuring) {
    l->win_t0 = t;
    l->win_t1 = UINT64_MAX;
  } else if (!on && l->measuring) {
    rate_tick(l, t);
    l->win_t1 = t;
  }
  l->measuring = on;
}

void loop_activate(struct loop *l, enum conn_role role) {
  for (int i = 0; i < l->n; i++) {
    struct conn *c = &l->conns[i];
    if (c->role == role && c->state == ST_READY) {
      l->ready[role]--;
      conn_activate(l, c);
    }
  }
  if (l->cfg->rate > 0 && role == ROLE_ACTIVE) rate_start(l, now_ns());
}

/* Events between two looks at the fixed-rate schedule: a full batch of
 * replies takes a millisecond or more to read, and the sends due meanwhile
 * must not wait for all of it. */
#define TICK_EVERY 16

static void dispatch(struct loop *l, struct epoll_event *evs, int n, uint64_t t0) {
  struct stats *st = l->st;
  for (int i = 0; i < n; i++) {
    if (i > 0 && i % TICK_EVERY == 0) rate_tick(l, now_ns());
    uint32_t id = (uint32_t)evs[i].data.u64;
    uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
    struct conn *c = &l->conns[id];
    if (c->fd < 0 || c->generation != gen) continue;
    if (c->role != ROLE_HOT) {
      conn_event(l, c, evs[i].events);
      continue;
    }
    uint64_t h0 = now_ns();
    conn_event(l, c, evs[i].events);
    if (l->measuring) st->hot_work_ns += now_ns() - h0;
  }
  enum ramp_phase ph = l->cfg->mode == MODE_RAMP ? ramp_phase() : RAMP_AFTER;
  if (l->measuring && !l->hot_only && ph != RAMP_AFTER)
    hist_add(ph == RAMP_FLOOD ? &st->flood_batch : &st->steady_batch, now_ns() - t0);
}

/* Is the server still there? Checked every 100 ms: without it, setup
 * would retry refused connects until its time limit. */
static int server_gone(struct loop *l, uint64_t t) {
  if (l->cfg->server_pid <= 0 || t < l->next_pid_check_ns) return l->server_gone;
  l->next_pid_check_ns = t + 100000000ull;
  if (kill(l->cfg->server_pid, 0) < 0 && errno == ESRCH && !l->server_gone) {
    l->server_gone = 1;
    note_error(l->st, "server pid %d exited", l->cfg->server_pid);
  }
  return l->server_gone;
}

/* epoll_wait with a timeout in ns (fixed-rate sends are microseconds
 * apart); epoll_pwait2 where the kernel has it, else whole ms. */
static int wait_ns(struct loop *l, struct epoll_event *evs, uint64_t ns) {
  static int no_pwait2;
  if (!no_pwait2) {
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    int n = epoll_pwait2(l->ep, evs, BATCH, &ts, NULL);
    if (n >= 0 || errno != ENOSYS) return n;
    no_pwait2 = 1;
  }
  return epoll_wait(l->ep, evs, BATCH, (int)((ns + 999999) / 1000000));
}

/* A fixed-rate send due sooner than this is waited for by polling epoll
 * without a timeout rather than by sleeping: a timed wake-up every few
 * microseconds costs more than the sends it times (a timer interrupt and,
 * in a VM, an exit to the hypervisor each), and the server would pay for
 * waking us on every reply. The load generator then holds its CPU (it has
 * one of its own when pinned) and its send lag stays near zero. */
#define SPIN_BELOW_NS 200000ull

/* The time spent inside epoll waits while measuring goes to st->idle_ns;
 * the rest of the window is the load generator's own work, its headroom at
 * a fixed rate (its CPU time says nothing there: it polls). The clock read
 * after each wait is the next pass's `now`, so this costs a read only on
 * passes that sent something. */
void loop_run_until(struct loop *l, uint64_t deadline_ns, int (*stop)(struct loop *l)) {
  struct epoll_event evs[BATCH];
  uint64_t t = now_ns();
  for (;;) {
    if (t >= deadline_ns || (stop && stop(l)) || server_gone(l, t)) return;
    uint64_t wait = (uint64_t)queue_drain(l, t) * 1000000ull;
    uint64_t g0 = l->rate_g, next = rate_tick(l, t);
    uint64_t w0 = l->rate_g == g0 ? t : now_ns();
    if (next < wait) wait = next < SPIN_BELOW_NS ? 0 : next;
    if (deadline_ns - t < wait) wait = deadline_ns - t;
    int n = wait_ns(l, evs, wait);
    t = now_ns();
    if (l->measuring) l->st->idle_ns += t - w0;
    if (n > 0) {
      dispatch(l, evs, n, t);
      t = now_ns();
    }
  }
}

/* Active connections whose oldest message has waited longer than
 * older_than_ns: the server lost bytes or stopped answering. */
uint64_t loop_check_stalls(struct loop *l, uint64_t older_than_ns) {
  uint64_t t = now_ns(), stalled = 0;
  for (int i = 0; i < l->n; i++) {
    struct conn *c = &l->conns[i];
    if (c->state != ST_ACTIVE || c->ts_len == 0 || c->role == ROLE_HOT) continue;
    if (t - c->ts[c->ts_head] > older_than_ns) stalled++;
  }
  return stalled;
}
