/*
 * Ramp mode's burst of new ("hot") connections, on a thread of its own.
 *
 * Why a thread: one loop used to run both the busy echo connections and the
 * burst, so every client-side handshake step of the burst (X25519, the
 * server's certificate parsed, its signature checked: about 0.8 ms of our
 * time per TLS connection measured here) ran between reading one echo reply
 * and the next. Batches of 500 events came to take over 100 ms, and the busy
 * connections' p99 "during the flood" was partly our own. The burst stands
 * for other machines: here it has its own epoll loop on its own thread, at
 * a lower priority (HOT_NICE) than the echo thread it shares the load
 * generator's CPU with, so it takes that CPU's idle time rather than the
 * echo clients' turns. It applies to every server alike.
 *
 * The two threads share only the phase (an atomic) and, in tls.c, the client
 * context and disjoint per-slot arrays. The burst has its own struct loop
 * (the same size, only the hot slots used) and its own struct stats, merged
 * into the main one by hot_finish after the thread is joined.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loop.h"

/* nice(2) steps below the echo thread: it keeps the CPU when it wants it. */
#ifndef HOT_NICE
#define HOT_NICE 5
#endif

static _Atomic int phase = RAMP_STEADY;
static struct stats hot_st;
static struct loop *hot_loop;
static pthread_t hot_thread;
static int hot_running;

enum ramp_phase ramp_phase(void) { return (enum ramp_phase)atomic_load_explicit(&phase, memory_order_relaxed); }

void ramp_set_phase(enum ramp_phase p) { atomic_store(&phase, (int)p); }

int ramp_burst_over(struct loop *l) {
  (void)l;
  return ramp_phase() == RAMP_AFTER;
}

static void *hot_main(void *arg) {
  uint64_t burst = *(uint64_t *)arg;
  const struct config *cfg = hot_loop->cfg;
  /* relative to the process's own niceness (the harness's --nice) */
  int base = getpriority(PRIO_PROCESS, 0);
  int nice = base + HOT_NICE < 19 ? base + HOT_NICE : 19;
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
  loop_set_measuring(hot_loop, 1);
  loop_set_connect_cap(hot_loop, cfg->hot);
  loop_start_connecting(hot_loop, cfg->conns + cfg->idle, cfg->hot, ROLE_HOT);
  uint64_t limit = secs(cfg->hot_limit);
  loop_run_until(hot_loop, burst + limit, ramp_burst_over);
  /* served after this were not served in time; they are still served, for
   * as long again, so a slow server's late ones are told from ones never
   * served */
  hot_st.hot_in_time = hot_st.hot_done;
  loop_run_until(hot_loop, burst + 2 * limit, ramp_burst_over);
  return NULL;
}

void hot_start(const struct config *cfg, uint64_t burst_ns) {
  static uint64_t burst;
  burst = burst_ns;
  hot_st.hot_last_ns = burst_ns;
  hot_loop = loop_new(cfg, &hot_st);
  hot_loop->hot_only = 1;
  ramp_set_phase(RAMP_FLOOD);
  hot_running = pthread_create(&hot_thread, NULL, hot_main, &burst) == 0;
  if (!hot_running) {
    note_error(&hot_st, "could not start the burst's thread");
    ramp_set_phase(RAMP_AFTER);
  }
}

/* Waits for the burst's thread (every hot one served, or twice the limit)
 * and adds what it saw to st; the hot connections stay open until exit. */
void hot_finish(struct stats *st, uint64_t burst_ns) {
  if (hot_running) pthread_join(hot_thread, NULL);
  hot_running = 0;
  ramp_set_phase(RAMP_AFTER);
  st->hot_done = hot_st.hot_done;
  st->hot_in_time = hot_st.hot_in_time;
  st->hot_last_ns = hot_st.hot_last_ns - burst_ns;
  st->hot_lat = hot_st.hot_lat;
  st->hot_work_ns = hot_st.hot_work_ns;
  if (st->hot_done < (uint64_t)hot_loop->cfg->hot)
    note_error(&hot_st, "%llu of %d hot connections never served (%.1f s after the burst)",
               (unsigned long long)(hot_loop->cfg->hot - st->hot_done), hot_loop->cfg->hot, 2 * hot_loop->cfg->hot_limit);
  st->errors += hot_st.errors;
  st->verify_errors += hot_st.verify_errors;
  st->connect_retries += hot_st.connect_retries;
  st->bytes += hot_st.bytes;
  if (!st->first_error[0] && hot_st.first_error[0])
    snprintf(st->first_error, sizeof st->first_error, "%s", hot_st.first_error);
}

void hot_free(void) {
  if (hot_loop) loop_free(hot_loop);
  hot_loop = NULL;
}
