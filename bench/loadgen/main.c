/*
 * loadgen main: parse arguments, run the phases, print one JSON line.
 *
 *   setup    open every connection (ramped, refused connects retried) and
 *            do one untimed round trip on each, so the window never pays
 *            for accept or first-touch costs
 *   warmup   full load, not measured (lets a JIT settle)
 *   window   full load, measured: operations, latency histogram, and the
 *            server's utime/stime from /proc/PID/stat at both ends; in ramp
 *            mode `hot` connections are opened all at once a quarter into it
 *            (or after --steady seconds)
 *   drain    no new messages; every outstanding reply must still arrive,
 *            so a server that drops bytes shows up as `stalled`
 *
 * Exit status 0 when the run was clean, 2 when anything failed (the JSON
 * still says what was measured), 1 on bad arguments.
 */
#include <getopt.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "loop.h"
#include "tls.h"

static const char USAGE[] =
    "usage: loadgen --port P [--mode echo|churn|http|idle|ramp|kv|broadcast] [--host 127.0.0.1]\n"
    "  [--pid SERVER_PID] [--conns N] [--idle N] [--hot N] [--size BYTES]\n"
    "  [--inflight K] [--duration S] [--warmup S] [--setup-limit S]\n"
    "  [--max-connecting N] [--rate REQUESTS_PER_S] [--tls] [--tls-resume]\n"
    "  [--body BYTES] [--ws] [--ws-text] [--ws-path /P] [--settle S] [--steady S]\n"
    "  [--hot-limit S]\n"
    "--rate: open loop; requests go out on a fixed schedule spread over the\n"
    "connections (at most --inflight outstanding on each), latency counted from\n"
    "when each was due.\n"
    "--tls: every connection speaks TLS 1.3 (" TLS_SUITE " only) and is\n"
    "established by a full handshake; churn then measures handshakes. With\n"
    "--tls-resume each connection slot resumes the session it was last given.\n"
    "--body: http mode sends POSTs with a body of that many bytes (default: GETs).\n"
    "--ws: echo, idle and --rate over WebSocket (upgrade checked, masked binary\n"
    "frames, or text with --ws-text). --mode broadcast (implies --ws): one text\n"
    "message \"bc:...\" at a time, which the server must send to every connection.\n"
    "--steady: ramp mode's seconds of window before the burst (default: a\n"
    "quarter of --duration).\n"
    "--hot-limit: ramp mode's seconds after the burst within which every new\n"
    "connection should be served (default 15); one served later is reported\n"
    "(hot_in_time of hot_total), one not served in twice that is an error.\n"
    "--settle: after the window, hold every connection S more seconds with no\n"
    "traffic, then sample the server's RSS again (rss_settled_kb): what an idle\n"
    "server keeps once its runtime had time to shrink its heap.\n";

static int parse_mode(const char *s, enum mode *m) {
  static const char *names[] = {"echo", "churn", "http", "idle", "ramp", "kv", "broadcast"};
  for (int i = 0; i < 7; i++)
    if (strcmp(s, names[i]) == 0) { *m = (enum mode)i; return 0; }
  return -1;
}

/* What WebSocket does not combine with: churn and ramp (a handshake per
 * timed connect is another benchmark), HTTP and key-value (other
 * protocols); broadcast needs room for its "bc:<seq>:" payload and no rate. */
static int ws_args_bad(const struct config *cfg) {
  if (!cfg->ws) return 0;
  if (cfg->mode == MODE_CHURN || cfg->mode == MODE_RAMP || cfg->mode == MODE_HTTP ||
      cfg->mode == MODE_KV || cfg->size > 8000)
    return 1;
  return cfg->mode == MODE_BROADCAST && (cfg->size < 24 || cfg->rate > 0 || cfg->conns < 1);
}

static int parse_args(int argc, char **argv, struct config *cfg) {
  static const struct option opts[] = {
      {"mode", 1, 0, 'm'},  {"host", 1, 0, 'h'},     {"port", 1, 0, 'p'},
      {"pid", 1, 0, 'P'},   {"conns", 1, 0, 'c'},    {"idle", 1, 0, 'i'},
      {"hot", 1, 0, 'H'},   {"size", 1, 0, 's'},     {"inflight", 1, 0, 'k'},
      {"duration", 1, 0, 'd'}, {"warmup", 1, 0, 'w'}, {"setup-limit", 1, 0, 'S'},
      {"max-connecting", 1, 0, 'M'}, {"rate", 1, 0, 'r'}, {"help", 0, 0, 'u'},
      {"tls", 0, 0, 'T'}, {"tls-resume", 0, 0, 'R'},
      {"body", 1, 0, 'b'},
      {"ws", 0, 0, 1001}, {"ws-text", 0, 0, 1002}, {"ws-path", 1, 0, 1003},
      {"settle", 1, 0, 1004}, {"steady", 1, 0, 1005}, {"hot-limit", 1, 0, 1006},
      {0, 0, 0, 0}};
  *cfg = (struct config){MODE_ECHO, "127.0.0.1", 0, 0, 100, 0, 0, 64, 1, 3.0, 0.5, 60.0, 256, 0, 0, 0, 0, 0, NULL, 0.0, 0.0, 15.0};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'm': if (parse_mode(optarg, &cfg->mode)) return -1; break;
      case 'h': cfg->host = optarg; break;
      case 'p': cfg->port = atoi(optarg); break;
      case 'P': cfg->server_pid = atoi(optarg); break;
      case 'c': cfg->conns = atoi(optarg); break;
      case 'i': cfg->idle = atoi(optarg); break;
      case 'H': cfg->hot = atoi(optarg); break;
      case 's': cfg->size = (size_t)atol(optarg); break;
      case 'k': cfg->inflight = atoi(optarg); break;
      case 'd': cfg->duration = atof(optarg); break;
      case 'w': cfg->warmup = atof(optarg); break;
      case 'S': cfg->setup_limit = atof(optarg); break;
      case 'M': cfg->max_connecting = atoi(optarg); break;
      case 'r': cfg->rate = atof(optarg); break;
      case 'T': cfg->tls = 1; break;
      case 'R': cfg->tls = cfg->tls_resume = 1; break;
      case 'b': proto_set_body((size_t)atol(optarg)); break;
      case 1001: cfg->ws = 1; break; /* long-only codes: no clash with other modes' letters */
      case 1002: cfg->ws = cfg->ws_text = 1; break;
      case 1003: cfg->ws_path = optarg; break;
      case 1004: cfg->settle = atof(optarg); break;
      case 1005: cfg->steady = atof(optarg); break;
      case 1006: cfg->hot_limit = atof(optarg); break;
      case 'u': fputs(USAGE, stdout); exit(0);
      default: return -1;
    }
  }
  if (cfg->mode == MODE_IDLE) { cfg->idle += cfg->conns; cfg->conns = 0; }
  if (cfg->mode == MODE_CHURN) cfg->inflight = 1;
  if (cfg->mode == MODE_BROADCAST) cfg->ws = 1;
  if (!cfg->ws_path) cfg->ws_path = "/";
  int bad = ws_args_bad(cfg) || !(cfg->settle >= 0) || !(cfg->steady >= 0) || !(cfg->hot_limit > 0) || cfg->port <= 0 || cfg->conns < 0 || cfg->idle < 0 || cfg->hot < 0 ||
            cfg->size < 1 || cfg->inflight < 1 || cfg->duration <= 0 ||
            cfg->max_connecting < 1 || cfg->conns + cfg->idle + cfg->hot < 1 ||
            cfg->rate < 0 || (cfg->rate > 0 && (cfg->mode == MODE_CHURN ||
                              cfg->mode == MODE_RAMP || cfg->conns < 1));
  return bad ? -1 : 0;
}

static const struct config *g_cfg;

static int setup_target(void) {
  return (g_cfg->mode == MODE_CHURN ? 0 : g_cfg->conns) + g_cfg->idle;
}

/* Setup is over when every connection is ready or has failed for good. */
static int all_ready(struct loop *l) {
  return loop_ready(l, ROLE_ACTIVE) + loop_ready(l, ROLE_IDLE) + l->dead >= setup_target();
}

static int drained(struct loop *l) {
  if (!ws_bc_settled()) return 0;
  for (int i = 0; i < l->n; i++)
    if (l->conns[i].fd >= 0 && (l->conns[i].ts_len > 0 || l->conns[i].owed > 0)) return 0;
  return 1;
}

/* Setup: every connection open and verified once. Returns seconds taken. */
static double phase_setup(struct loop *l, const struct config *cfg, struct stats *st) {
  uint64_t t0 = now_ns();
  if (cfg->mode != MODE_CHURN)
    loop_start_connecting(l, 0, cfg->conns, ROLE_ACTIVE);
  loop_start_connecting(l, cfg->conns, cfg->idle, ROLE_IDLE);
  loop_run_until(l, t0 + secs(cfg->setup_limit), all_ready);
  if (loop_ready(l, ROLE_ACTIVE) + loop_ready(l, ROLE_IDLE) < setup_target())
    note_error(st, "only %d of %d connections established (limit %.0f s)",
               loop_ready(l, ROLE_ACTIVE) + loop_ready(l, ROLE_IDLE),
               setup_target(), cfg->setup_limit);
  return (double)(now_ns() - t0) / 1e9;
}

static void start_load(struct loop *l, const struct config *cfg) {
  if (cfg->mode == MODE_CHURN) {
    loop_set_connect_cap(l, cfg->conns);
    loop_start_connecting(l, 0, cfg->conns, ROLE_ACTIVE);
  } else if (cfg->mode == MODE_BROADCAST) {
    ws_bc_start(l);
  } else if (cfg->mode != MODE_IDLE) {
    loop_activate(l, ROLE_ACTIVE);
  }
}

/* The measured window; returns its length in seconds. In ramp mode it ends
 * when every hot connection is served or --hot-limit after the burst (in
 * *burst, for hot_finish), whichever is later than --duration. */
static double phase_window(struct loop *l, const struct config *cfg, uint64_t *burst) {
  uint64_t t0 = now_ns(), end = t0 + secs(cfg->duration);
  loop_set_measuring(l, 1);
  if (cfg->mode == MODE_RAMP && cfg->hot > 0) {
    loop_run_until(l, t0 + secs(cfg->steady > 0 ? cfg->steady : cfg->duration / 4), NULL);
    *burst = now_ns(); /* from here until the last hot one is served */
    hot_start(cfg, *burst);
    loop_run_until(l, end, NULL);
    loop_run_until(l, *burst + secs(cfg->hot_limit), ramp_burst_over);
  } else {
    loop_run_until(l, end, NULL);
  }
  loop_set_measuring(l, 0);
  /* the clock readings that decided which fixed-rate messages were due in
   * it: a preemption between here and there must not widen one and not the
   * other */
  return (double)(l->win_t1 - l->win_t0) / 1e9;
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

static double per_op_us(double seconds, uint64_t ops) {
  return ops ? seconds * 1e6 / (double)ops : 0;
}

/* The server's CPU over the window and its RSS growth per held connection
 * at the window's end; with --settle, also after the settle (rss_settled). */
static void print_server(const struct config *cfg, const struct stats *st,
                         struct proc_sample a, struct proc_sample b,
                         long rss_before, long rss_settled, double window) {
  double ut = b.utime_s - a.utime_s, stime = b.stime_s - a.stime_s;
  int held = cfg->conns + cfg->idle + cfg->hot;
  printf(",\"server\":{\"pid\":%d,\"ok\":%s,\"utime_s\":%.3f,\"stime_s\":%.3f,"
         "\"user_us_per_op\":%.3f,\"sys_us_per_op\":%.3f,\"cpu_us_per_op\":%.3f,"
         "\"cpu_util\":%.3f,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,"
         "\"rss_per_conn_bytes\":%.1f,\"runq_wait\":%.3f",
         cfg->server_pid, (a.ok && b.ok) ? "true" : "false", ut, stime,
         per_op_us(ut, st->ops), per_op_us(stime, st->ops), per_op_us(ut + stime, st->ops),
         window > 0 ? (ut + stime) / window : 0, rss_before, b.rss_kb,
         held ? (double)(b.rss_kb - rss_before) * 1024.0 / held : 0,
         window > 0 ? (b.runq_wait_s - a.runq_wait_s) / window : 0);
  if (cfg->settle > 0)
    printf(",\"settle_s\":%.1f,\"rss_settled_kb\":%ld,\"rss_settled_per_conn_bytes\":%.1f",
           cfg->settle, rss_settled, held ? (double)(rss_settled - rss_before) * 1024.0 / held : 0);
  printf("}");
}

static void print_latency(const char *name, const struct hist *h, double unit) {
  printf(",\"%s\":{\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f,\"count\":%llu}",
         name, hist_percentile(h, 50) / unit, hist_percentile(h, 99) / unit,
         hist_percentile(h, 99.9) / unit, (double)h->max / unit,
         h->total ? (double)h->sum / (double)h->total / unit : 0,
         (unsigned long long)h->total);
}

static const char *mode_name(enum mode m) {
  static const char *names[] = {"echo", "churn", "http", "idle", "ramp", "kv", "broadcast"};
  return names[m];
}

struct result {
  double setup_s, window_s, self_cpu, self_wait;
  struct proc_sample a, b;
  long rss_before, rss_settled;
  int ok;
};

/* Did we keep to the schedule well enough for the latencies to be the
 * server's (all in ns)? Our lag is in every latency we timed, and a late
 * burst of sends reaches the server at once, so we fell behind when:
 * - our lag p99 is over a quarter of the latency p99 (a large share of the
 *   tail we measured is ours);
 * - our lag p50 is over 1 ms (late for half the sends: we could not send
 *   at that rate at all);
 * - our lag p99 is over 1 ms and over a quarter of the latency p50: a
 *   burst that size builds a queue the server did not have (a stall of
 *   ours, or a backlog we carried in). Where the server already holds the
 *   median request four times longer, it is the one that cannot keep up:
 *   a burst adds at most its own length to that queue, and our lateness
 *   there follows the server's bursts of replies (at 90% of the ceiling we
 *   are ~90% busy, and reading a burst of replies delays the sends due
 *   meanwhile; bench/PERFORMANCE.md). Sends that could not go because
 *   their connection had --inflight outstanding are not in our lag at all:
 *   they wait on the server (rate.c). Our reading is not in the latencies
 *   either: a reply is timed by its arrival in our socket (rxstamp.c). */
static int rate_fell_behind(uint64_t lag50, uint64_t lag99, uint64_t p50, uint64_t p99) {
  if (lag99 * 4 > p99 || lag50 > 1000000) return 1;
  return lag99 > 1000000 && lag99 * 4 > p50;
}

/* Fixed rate: the schedule asked for, what we put on the wire in the
 * window, and whether we kept to it (rate_fell_behind). (Our CPU use says
 * nothing here: we poll rather than sleep between close sends, see loop.c;
 * loadgen_busy is the share of the window we spent working, our
 * headroom.) */
static void print_rate(const struct config *cfg, const struct stats *st, const struct result *r) {
  int behind = rate_fell_behind(hist_percentile(&st->lag, 50), hist_percentile(&st->lag, 99),
                                hist_percentile(&st->lat, 50), hist_percentile(&st->lat, 99));
  double busy = r->window_s > 0 ? 1.0 - (double)st->idle_ns / 1e9 / r->window_s : 0;
  printf(",\"rate\":%.1f,\"sent_per_s\":%.1f,\"owed_at_end\":%llu,\"loadgen_behind\":%s,"
         "\"loadgen_busy\":%.3f",
         cfg->rate, r->window_s > 0 ? (double)st->sent / r->window_s : 0,
         (unsigned long long)st->owed_at_end, behind ? "true" : "false", busy < 0 ? 0 : busy);
  print_latency("send_lag_us", &st->lag, 1e3);
  print_latency("rx_lag_us", &st->rx_lag, 1e3);
}

static void print_tls(void) {
  const struct tls_counts *t = tls_counts();
  printf(",\"tls\":{\"version\":");
  json_str(t->version);
  printf(",\"cipher\":");
  json_str(t->cipher);
  printf(",\"full\":%llu,\"resumed\":%llu,\"tickets\":%llu,\"record_cipher\":\"%s\"}", (unsigned long long)t->full,
         (unsigned long long)t->resumed, (unsigned long long)t->tickets, tls_record_cipher());
}

static void print_json(const struct config *cfg, const struct stats *st, const struct result *r) {
  printf("{\"ok\":%s,\"mode\":\"%s\",\"conns\":%d,\"idle\":%d,\"hot\":%d,\"size\":%zu,"
         "\"inflight\":%d,\"setup_s\":%.3f,\"duration_s\":%.3f,\"ops\":%llu,"
         "\"ops_per_s\":%.1f,\"bytes\":%llu,\"errors\":%llu,\"verify_errors\":%llu,"
         "\"stalled\":%llu,\"connect_retries\":%llu,\"loadgen_cpu_util\":%.3f,\"loadgen_runq_wait\":%.3f,\"first_error\":",
         r->ok ? "true" : "false", mode_name(cfg->mode), cfg->conns, cfg->idle, cfg->hot,
         cfg->size, cfg->inflight, r->setup_s, r->window_s, (unsigned long long)st->ops,
         r->window_s > 0 ? (double)st->ops / r->window_s : 0, (unsigned long long)st->bytes,
         (unsigned long long)st->errors, (unsigned long long)st->verify_errors,
         (unsigned long long)st->stalled, (unsigned long long)st->connect_retries,
         r->window_s > 0 ? r->self_cpu / r->window_s : 0,
         r->window_s > 0 ? r->self_wait / r->window_s : 0);
  json_str(st->first_error);
  print_latency("lat_us", &st->lat, 1e3);
  if (cfg->rate > 0) print_rate(cfg, st, r);
  if (cfg->mode == MODE_RAMP) {
    printf(",\"hot_served\":%llu,\"hot_total\":%d,\"hot_in_time\":%llu,\"hot_limit_s\":%.3f,\"hot_all_served_s\":%.4f",
           (unsigned long long)st->hot_done, cfg->hot, (unsigned long long)st->hot_in_time, cfg->hot_limit,
           (double)st->hot_last_ns / 1e9);
    print_latency("hot_lat_ms", &st->hot_lat, 1e6);
    print_latency("steady_lat_us", &st->steady_lat, 1e3);
    print_latency("flood_lat_us", &st->flood_lat, 1e3);
    print_latency("steady_batch_us", &st->steady_batch, 1e3);
    print_latency("flood_batch_us", &st->flood_batch, 1e3);
    printf(",\"hot_work_s\":%.4f", (double)st->hot_work_ns / 1e9);
  }
  if (cfg->tls) print_tls();
  if (cfg->ws) printf(",\"ws\":true");
  if (cfg->mode == MODE_BROADCAST) {
    printf(",\"bc_conns\":%d", ws_bc_conns());
    print_latency("bc_all_us", ws_bc_totals(), 1e3);
  }
  if (cfg->server_pid > 0) print_server(cfg, st, r->a, r->b, r->rss_before, r->rss_settled, r->window_s);
  printf("}\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  struct config cfg;
  if (parse_args(argc, argv, &cfg) != 0) {
    fputs(USAGE, stderr);
    return 1;
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the harness */
  if (getppid() == 1) return 1;
  raise_nofile();
  if (cfg.rate > 0) prctl(PR_SET_TIMERSLACK, 1UL); /* wake on time, not 50 µs late */
  proto_init(cfg.mode);
  proto_set_size(cfg.size);
  kv_init();
  if (cfg.ws) ws_init(&cfg);
  static struct stats st;
  struct result r = {0};
  struct loop *l = loop_new(&cfg, &st);
  if (cfg.tls && tls_init(&cfg, l->n) != 0) {
    fputs("loadgen: OpenSSL refused the TLS client context\n", stderr);
    return 1;
  }
  g_cfg = &cfg;
  r.rss_before = proc_read(cfg.server_pid).rss_kb;
  r.setup_s = phase_setup(l, &cfg, &st);
  start_load(l, &cfg);
  loop_run_until(l, now_ns() + secs(cfg.warmup), NULL);
  hist_reset(&st.lat);
  hist_reset(&st.lag);
  hist_reset(&st.rx_lag);
  st.ops = st.bytes = 0;
  r.a = proc_read(cfg.server_pid);
  double cpu0 = self_cpu_seconds(), wait0 = runq_wait_seconds(0);
  uint64_t burst = 0;
  r.window_s = phase_window(l, &cfg, &burst);
  r.b = proc_read(cfg.server_pid);
  r.self_cpu = self_cpu_seconds() - cpu0;
  r.self_wait = runq_wait_seconds(0) - wait0;
  /* after the window's figures: late hot connections may still be served */
  if (cfg.mode == MODE_RAMP && cfg.hot > 0) hot_finish(&st, burst);
  st.owed_at_end = rate_owed(l);
  loop_set_measuring(l, 0);
  l->draining = 1;
  loop_run_until(l, now_ns() + secs(3), drained);
  st.stalled = loop_check_stalls(l, 0) + ws_bc_unfinished();
  if (ws_bc_unfinished()) note_error(&st, "broadcast reached %d of %d connections",
                                     ws_bc_conns() - (int)ws_bc_unfinished(), ws_bc_conns());
  if (st.stalled) note_error(&st, "%llu connections never got their replies",
                             (unsigned long long)st.stalled);
  if (cfg.settle > 0) {
    /* Idle, every connection still held: the server's runtime may shrink what it took. */
    loop_run_until(l, now_ns() + secs(cfg.settle), NULL);
    r.rss_settled = proc_read(cfg.server_pid).rss_kb;
  }
  r.ok = st.errors == 0 && st.verify_errors == 0;
  print_json(&cfg, &st, &r);
  loop_free(l);
  hot_free();
  if (cfg.tls) tls_free();
  return r.ok ? 0 : 2;
}
