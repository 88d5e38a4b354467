/*
 * Fixed-rate (open-loop) sending, with wrk2's correction for coordinated
 * omission.
 *
 * Message g of the run (g = 0, 1, 2, ...) is due at t0 + g / rate and goes
 * on connection g mod conns, so every connection sends at rate / conns and
 * the sends are spread evenly over the connections rather than in bursts.
 * Each message's latency runs from the time it was due, not from when it
 * was written: a server that stalls cannot make us send less and hide the
 * wait. A connection with `inflight` requests outstanding does not write
 * more; what falls due meanwhile is owed, and each reply lets one owed
 * request go, still timed from when it was due. The owed are not our lag:
 * the server is behind. Our own lag (how late a send that was free to go
 * went out) goes into its own histogram, so a run in which the load
 * generator fell behind says so.
 *
 * Which messages are measured goes by when they were due, not when they
 * were answered: every message due inside the window is timed, however
 * late its reply (the drain after the window still sends the owed and
 * waits for their replies), and none due before it. Counting replies that
 * arrive inside the window instead would leave out exactly the slowest
 * requests of a server that falls behind, and count the backlog of the
 * warm-up against it.
 */
#include <stdint.h>

#include "loop.h"

static uint64_t due_at(const struct loop *l, uint64_t g) {
  return l->rate_t0 + (uint64_t)((double)g * l->rate_interval);
}

void rate_start(struct loop *l, uint64_t t0) {
  l->rate_on = 1;
  l->rate_t0 = t0;
  l->rate_g = 0;
  l->rate_interval = 1e9 / l->cfg->rate;
}

/* One due message for connection c: written now, or owed. Its lag is read
 * off the clock as it goes out, not from when this tick began: after a
 * stall a tick writes hundreds of messages, ~5 us each, and the last of
 * them leaves milliseconds after the first. */
static void rate_issue(struct loop *l, struct conn *c, uint64_t g) {
  if (c->state != ST_ACTIVE || c->fd < 0) return;
  if (c->owed > 0 || c->ts_len >= l->cfg->inflight) {
    if (c->owed++ == 0) c->owed_g = g;
    return;
  }
  uint64_t due = due_at(l, g);
  if (rate_in_window(l, due)) hist_add(&l->st->lag, now_ns() - due);
  if (l->measuring) l->st->sent++;
  conn_send(l, c, due);
  conn_flush(l, c);
}

/* Sends what is due; returns ns until the next message is due. */
uint64_t rate_tick(struct loop *l, uint64_t t) {
  if (!l->rate_on || l->draining || l->cfg->conns == 0) return UINT64_MAX;
  uint64_t due;
  while ((due = due_at(l, l->rate_g)) <= t) {
    uint64_t g = l->rate_g++;
    rate_issue(l, &l->conns[g % (uint64_t)l->cfg->conns], g);
  }
  return due - t;
}

/* A reply made room on c: the oldest owed request goes now (in the drain
 * too: it was due in the window and must be timed). */
void rate_send_owed(struct loop *l, struct conn *c) {
  if (c->owed == 0) return;
  uint64_t g = c->owed_g, due = due_at(l, g);
  c->owed--;
  c->owed_g += (uint64_t)l->cfg->conns;
  if (l->measuring) l->st->sent++;
  conn_send(l, c, due);
}

/* Was a message due at `due` inside the measured window? */
int rate_in_window(const struct loop *l, uint64_t due) {
  return l->win_t0 > 0 && due >= l->win_t0 && due <= l->win_t1;
}

/* Requests due but never written, over every connection. */
uint64_t rate_owed(const struct loop *l) {
  uint64_t n = 0;
  for (int i = 0; i < l->n; i++) n += l->conns[i].owed;
  return n;
}
