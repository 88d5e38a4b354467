/*
 * The broadcast mode (--mode broadcast, over --ws): how long one message
 * takes to reach every connection.
 *
 * Every connection is opened and checked as in echo (handshake, one echoed
 * binary message). Then, one at a time, the first open connection sends a
 * text message "bc:<seq>:" padded to --size; the server under test must
 * send it, as a text message, to every connection it holds (the trigger's
 * own included). Each arrival is checked (this broadcast's exact payload,
 * once per connection) and timed from when the trigger was written; when
 * the last connection has it, the broadcast is done, its total time goes
 * into its own histogram, and the next one is sent at once (closed loop).
 *
 * ops counts the broadcasts completed in the window, lat_us the arrival of
 * each copy, bc_all_us the time until every connection had it. A
 * broadcast still short of some connection when the drain ends is counted
 * as stalled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "loop.h"

#define BC_MAX 8000

static struct {
  uint64_t seq;     /* the broadcast in flight (or the last one) */
  uint64_t sent_ns; /* when its trigger was put on the wire */
  int on;           /* one is in flight */
  int next;         /* the last one completed: send another */
  int measured;     /* sent inside the measured window */
  int got, want;    /* connections that have it, of those open */
  uint64_t *seen;   /* per connection: the last broadcast it got */
  struct hist total;
  size_t size;
} bc;

int ws_bc_init(int total) {
  bc.seen = calloc((size_t)total + 1, sizeof *bc.seen);
  return 0;
}

/* The payload of broadcast seq: "bc:<seq>:" then letters to size. */
static void bc_payload(uint64_t seq, uint8_t *out, size_t size) {
  int n = snprintf((char *)out, size, "bc:%llu:", (unsigned long long)seq);
  for (size_t i = (size_t)n; i < size; i++) out[i] = (uint8_t)('a' + (i + seq) % 26);
}

void ws_bc_start(struct loop *l) {
  struct conn *trigger = NULL;
  int open = 0;
  for (int i = 0; i < l->n; i++) {
    struct conn *c = &l->conns[i];
    if (c->fd < 0 || !ws_opened(c->id) || c->state != ST_READY) continue;
    if (!trigger) trigger = c;
    open++;
  }
  if (!trigger) return;
  uint8_t payload[BC_MAX];
  bc.size = l->cfg->size < BC_MAX ? l->cfg->size : BC_MAX;
  bc.seq++;
  bc_payload(bc.seq, payload, bc.size);
  bc.want = open;
  bc.got = 0;
  bc.on = 1;
  bc.next = 0;
  bc.measured = l->measuring;
  ws_frame(trigger, 1, payload, bc.size, ws_mask(trigger->id, bc.seq << 20));
  bc.sent_ns = now_ns();
  conn_flush(l, trigger);
}

int ws_bc_arrival(struct loop *l, struct conn *c, const uint8_t *p, size_t len, char *why, size_t why_len) {
  uint8_t want[BC_MAX];
  if (!bc.on || bc.seen[c->id] == bc.seq) {
    snprintf(why, why_len, "broadcast '%.20s' not expected (stray or twice)", (const char *)p);
    return -1;
  }
  bc_payload(bc.seq, want, bc.size);
  if (len != bc.size || memcmp(p, want, len) != 0) {
    snprintf(why, why_len, "broadcast %llu differs: '%.20s' (%zu bytes, want %zu)",
             (unsigned long long)bc.seq, (const char *)p, len, bc.size);
    return -1;
  }
  uint64_t t = now_ns();
  bc.seen[c->id] = bc.seq;
  if (bc.measured) hist_add(&l->st->lat, t - bc.sent_ns);
  if (++bc.got < bc.want) return 0;
  bc.on = 0;
  bc.next = !l->draining;
  if (bc.measured) {
    hist_add(&bc.total, t - bc.sent_ns);
    l->st->ops++;
  }
  return 0;
}

/* After a read: the broadcast that just completed makes room for the next
 * (sent here, outside the frame parser, so a failed write cannot close a
 * connection whose buffer is being read). */
void ws_bc_next(struct loop *l) {
  if (!bc.next) return;
  bc.next = 0;
  if (!l->draining) ws_bc_start(l);
}

int ws_bc_settled(void) { return !bc.on; }

uint64_t ws_bc_unfinished(void) { return bc.on ? (uint64_t)(bc.want - bc.got) : 0; }

int ws_bc_conns(void) { return bc.want; }

const struct hist *ws_bc_totals(void) { return &bc.total; }
