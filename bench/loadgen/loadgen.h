/*
 * loadgen: the C10K load generator (shared declarations).
 *
 * One thread, one epoll instance, many non-blocking sockets. Each connection
 * is a small state machine (connecting -> warming -> ready -> active); every
 * byte we send comes from a deterministic per-connection pattern, so what
 * we must write next and what we must read back are both computed from a
 * byte offset, never stored. The files:
 *   main.c    arguments, the phases of a run (setup, warmup, window), JSON out
 *   conn.c    connect with retries, read/verify, write, the event loop
 *   proto.c   the byte patterns, the echo and HTTP response checkers
 *   kv.c      the key-value mode: GET/SET lines and their expected replies
 *   ws.c      WebSocket (--ws): the upgrade, framed messages, their checks
 *   wskey.c   the handshake's Sec-WebSocket-Key and -Accept (SHA-1, base64)
 *   wsbcast.c the broadcast mode: one message to every connection, timed
 *   rate.c    fixed-rate (open-loop) sending: the schedule and its lag
 *   hist.c    log-linear latency histogram
 *   proc.c    the server's utime/stime and VmRSS from /proc
 *   tls.c     --tls: OpenSSL over the same sockets and loop (tls.h)
 *   tls13.c   --tls after the handshake: a TLS 1.3 record layer of its own (tls13.h)
 *   hot.c     ramp: the burst of new connections on a thread of its own
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum mode { MODE_ECHO, MODE_CHURN, MODE_HTTP, MODE_IDLE, MODE_RAMP, MODE_KV, MODE_BROADCAST };

enum conn_state {
  ST_FREE,       /* no socket; waiting for (re)connect */
  ST_CONNECTING, /* connect() in progress */
  ST_WARMING,    /* untimed first round trip in flight */
  ST_READY,      /* established and verified; waiting for the window */
  ST_ACTIVE,     /* running load */
};

enum conn_role { ROLE_ACTIVE, ROLE_IDLE, ROLE_HOT };

struct config {
  enum mode mode;
  const char *host;
  int port;
  int server_pid;     /* 0: no server accounting */
  int conns;          /* active connections (churners in churn mode) */
  int idle;           /* extra connections that are held, not loaded */
  int hot;            /* ramp: connections opened at once during the window */
  size_t size;        /* message size in bytes (echo, churn) */
  int inflight;       /* messages in flight per connection */
  double duration;    /* measured window, seconds */
  double warmup;      /* loaded but unmeasured, seconds */
  double setup_limit; /* give up establishing after this many seconds */
  int max_connecting; /* connects in progress at once during setup */
  double rate;        /* > 0: requests/s in total, sent on a fixed schedule */
  int tls;            /* every connection speaks TLS 1.3 (tls.c) */
  int tls_resume;     /* TLS: each slot resumes its last session */
  int ws;             /* messages are WebSocket frames after an upgrade */
  int ws_text;        /* text frames rather than binary */
  const char *ws_path; /* the upgrade request's path */
  double settle;      /* after the window: hold every connection this long, then sample RSS */
  double steady;      /* ramp: seconds of the window before the burst (0: a quarter of it) */
  double hot_limit;   /* ramp: seconds after the burst within which every hot one should be served */
};

/* Log-linear histogram of nanosecond values: 64 exact buckets, then 32
 * linear sub-buckets per power of two (about 3% relative error). */
#define HIST_BUCKETS 1280
struct hist {
  uint64_t count[HIST_BUCKETS];
  uint64_t total, max, sum;
};

struct conn {
  int fd;
  uint32_t id;
  enum conn_state state;
  enum conn_role role;
  uint64_t sent;       /* bytes written on this connection */
  uint64_t want;       /* bytes we mean to have written */
  uint64_t recvd;      /* bytes read and verified */
  uint64_t done;       /* messages completed on this connection */
  uint64_t started_ns; /* connect start (churn, ramp latency) */
  uint64_t *ts;        /* ring of send times, `inflight` long */
  int ts_head, ts_len;
  int retries;
  int out_armed;       /* EPOLLOUT is in the interest set */
  uint64_t retry_at_ns;
  uint32_t generation; /* churn: bumps the pattern seed per connection */
  char *rbuf;          /* HTTP, KV: partial response bytes */
  size_t rlen;
  /* Line protocols (KV) write from a buffer rather than the pattern. */
  char *wbuf;
  size_t wlen, wcap;
  uint32_t *expect;    /* KV: ring parallel to ts, the reply each awaits */
  uint64_t msgs;       /* messages put on the wire so far */
  uint32_t kv[16];     /* KV: what each of our keys holds (0: unset) */
  /* Fixed rate: sends that were due while `inflight` were outstanding. */
  uint64_t owed, owed_g;
};

struct stats {
  uint64_t ops, bytes, errors, verify_errors, connect_retries, stalled;
  struct hist lat;
  struct hist hot_lat; /* ramp: connect-to-first-reply of the hot ones */
  uint64_t hot_done, hot_last_ns;
  char first_error[160];
  struct hist lag;     /* fixed rate: how late we sent, against schedule */
  struct hist rx_lag;  /* fixed rate: how long a reply sat in our socket before we read it */
  uint64_t owed_at_end; /* fixed rate: due in the window, not yet sent at its end */
  uint64_t sent;       /* fixed rate: messages written during the window */
  uint64_t idle_ns;    /* window time in passes of the loop that had nothing to do */
  /* Ramp: the busy connections' latency before the burst (steady) and
   * from the burst until the last hot connection is served (flood). */
  uint64_t hot_in_time; /* hot connections served within --hot-limit of the burst */
  struct hist steady_lat, flood_lat;
  /* Ramp: how long each of our own dispatch batches took (steady, flood),
   * and the time spent on hot connections' events: our own share of the
   * latency we measure. */
  struct hist steady_batch, flood_batch;
  uint64_t hot_work_ns;
};

struct proc_sample {
  double utime_s, stime_s;
  long rss_kb;
  int ok;
  double runq_wait_s; /* main thread: time runnable but not running */
};

/* rxstamp.c: the kernel's arrival time of what a read takes (fixed rate) */
void rxstamp_enable(int fd);
ssize_t rxstamp_read(int fd, void *buf, size_t cap, uint64_t *arrived);

/* hist.c */
void hist_add(struct hist *h, uint64_t ns);
uint64_t hist_percentile(const struct hist *h, double pct);
void hist_reset(struct hist *h);

/* proc.c */
struct proc_sample proc_read(int pid);
double self_cpu_seconds(void);
double runq_wait_seconds(int pid); /* 0: ourselves */
void raise_nofile(void);

/* proto.c */
void proto_init(enum mode mode);
void proto_set_size(size_t size);
void proto_set_body(size_t bytes); /* http: POST bodies of this size (before proto_init) */
const uint8_t *tx_bytes(const struct conn *c, uint64_t off, size_t *len);
size_t msg_bytes(void); /* bytes one message puts on the wire */
int echo_verify(const struct conn *c, const uint8_t *buf, size_t n);
long http_consume(struct conn *c, const uint8_t *buf, size_t n, char *why,
                  size_t why_len);
/* Buffers a reply stream in c->rbuf; `take` checks and removes the complete
 * replies at its front (`done` already counted in this call) and returns
 * how many, or -1 with why filled in. Returns the total, or -1. */
typedef long (*reply_taker)(struct conn *c, long done, char *why, size_t why_len);
long rbuf_feed(struct conn *c, const uint8_t *buf, size_t n, reply_taker take,
               char *why, size_t why_len);

/* kv.c: room for `more` bytes at the end of c->wbuf. */
void wbuf_room(struct conn *c, size_t more);

/* kv.c: a request line into c->wbuf (its expected reply into the ring at
 * slot), and replies checked against the ring. */
void kv_init(void);
void kv_encode(struct conn *c, int slot);
long kv_consume(struct conn *c, int cap, const uint8_t *buf, size_t n,
                char *why, size_t why_len);

/* ws.c, wskey.c, wsbcast.c: WebSocket. ws_consume checks replies as
 * kv_consume does; ws_encode puts message `index` into c->wbuf. */
#define WS_KEY_LEN 24
#define WS_ACCEPT_LEN 28
struct loop;
int ws_init(const struct config *cfg);
void ws_begin(struct loop *l, struct conn *c);
void ws_encode(struct conn *c, uint64_t index);
void ws_frame(struct conn *c, int op, const uint8_t *payload, size_t len, uint32_t mask);
uint32_t ws_mask(uint32_t id, uint64_t index);
long ws_consume(struct loop *l, struct conn *c, const uint8_t *buf, size_t n, char *why,
                size_t why_len);
int ws_opened(uint32_t id);
void ws_key(uint32_t id, uint32_t generation, char key[WS_KEY_LEN + 1]);
void ws_accept(const char *key, char accept[WS_ACCEPT_LEN + 1]);
int ws_bc_init(int total);
void ws_bc_start(struct loop *l);
int ws_bc_arrival(struct loop *l, struct conn *c, const uint8_t *p, size_t len, char *why,
                  size_t why_len);
void ws_bc_next(struct loop *l);
int ws_bc_settled(void);
uint64_t ws_bc_unfinished(void);
int ws_bc_conns(void);
const struct hist *ws_bc_totals(void);

/* hot.c: ramp mode's phases (0 steady, 1 flood, 2 after: every hot one
 * served), read by both threads; the burst on its own thread. */
enum ramp_phase { RAMP_STEADY, RAMP_FLOOD, RAMP_AFTER };
enum ramp_phase ramp_phase(void);
void ramp_set_phase(enum ramp_phase p);
struct loop;
int ramp_burst_over(struct loop *l); /* a loop_run_until stop: every hot one served */
void hot_start(const struct config *cfg, uint64_t burst_ns);
/* Joins the burst's thread, which serves late hot connections for as long
 * again as --hot-limit, and adds what it saw to st: one served late is the
 * server's result (hot_in_time < hot), one never served an error. */
void hot_finish(struct stats *st, uint64_t burst_ns);
void hot_free(void); /* closes the burst's connections (before tls_free) */

/* conn.c */
struct loop;
struct loop *loop_new(const struct config *cfg, struct stats *st);
void loop_free(struct loop *l);
void loop_start_connecting(struct loop *l, int first, int count,
                           enum conn_role role);
int loop_ready(const struct loop *l, enum conn_role role);
void loop_set_connect_cap(struct loop *l, int cap);
void loop_activate(struct loop *l, enum conn_role role);
void loop_run_until(struct loop *l, uint64_t deadline_ns,
                    int (*stop)(struct loop *l));
void loop_set_measuring(struct loop *l, int on);
uint64_t loop_check_stalls(struct loop *l, uint64_t older_than_ns);
uint64_t now_ns(void);
static inline uint64_t secs(double s) { return (uint64_t)(s * 1e9); } /* seconds as now_ns() counts them */
void note_error(struct stats *st, const char *fmt, ...);

#endif
