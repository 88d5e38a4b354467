/*
 * Latency histogram, log-linear (the HdrHistogram idea, in a few lines).
 *
 * Values below 64 ns get a bucket each; above that every power of two is cut
 * into 32 equal sub-buckets, so a bucket is never wider than 1/32 of its
 * value (about 3% error) and 1280 buckets cover past 2^40 ns (18 minutes).
 * Recording is a count-leading-zeros and an increment: cheap enough to do
 * for every message.
 */
#include <string.h>

#include "loadgen.h"

#define EXACT 64
#define SUB 32

static int bucket_of(uint64_t v) {
  if (v < EXACT) return (int)v;
  int msb = 63 - __builtin_clzll(v);
  int shift = msb - 5; /* v >> shift lands in [32, 63] */
  int idx = EXACT + (shift - 1) * SUB + (int)((v >> shift) - SUB);
  return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The middle of bucket idx, in ns. */
static uint64_t value_of(int idx) {
  if (idx < EXACT) return (uint64_t)idx;
  int shift = (idx - EXACT) / SUB + 1;
  uint64_t low = (uint64_t)(SUB + (idx - EXACT) % SUB) << shift;
  return low + ((1ull << shift) >> 1);
}

void hist_add(struct hist *h, uint64_t ns) {
  h->count[bucket_of(ns)]++;
  h->total++;
  h->sum += ns;
  if (ns > h->max) h->max = ns;
}

uint64_t hist_percentile(const struct hist *h, double pct) {
  if (h->total == 0) return 0;
  uint64_t rank = (uint64_t)(pct / 100.0 * (double)h->total + 0.5);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += h->count[i];
    if (seen >= rank) {
      uint64_t v = value_of(i);
      return v < h->max ? v : h->max;
    }
  }
  return h->max;
}

void hist_reset(struct hist *h) { memset(h, 0, sizeof *h); }
