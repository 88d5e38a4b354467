'use strict';
/**
 * What the harness does when a fixed-rate round fell behind because the
 * load generator lost its CPU.
 *
 * Below saturation the load generator must keep a schedule: a round in
 * which it sent late gives no latency (runner.js), and that check stays.
 * On the two-CPU machines this harness runs on, the usual reason is not the
 * rate but the machine's own periodic work: a task that wakes about once a
 * second and holds the CPU it runs on for ~5-15 ms, and wakes again on the
 * CPU it last ran on (bench/README.md, "A round the load generator lost").
 * While that is the load generator's CPU, round after round is lost; while
 * it is the server's, the server absorbs it, as a production server absorbs
 * its machine's housekeeping, and its latency shows it.
 *
 * So after such a round the server's and the load generator's CPUs are
 * swapped for the rest of the run (running servers move too) and the round
 * is run again, at most RERUNS times; the round that fell behind stays in
 * the raw results, marked superseded, and counts for nothing. Every server
 * gets the same rule. A round that fell behind with the CPU to itself (the
 * load generator could not send that fast) is not run again: a swap cannot
 * help it.
 */

/** Runs of one round at most, after the first. */
const RERUNS = 2;

/** A wait for the CPU shorter than this does not explain a round behind. */
const STALL_MS = 2;

/**
 * How long the load generator of fixed-rate run `r` waited for its CPU
 * inside the window, in ms.
 * @param {object} r a load-generator result line
 */
function waitedMs(r) {
  return (r.loadgen_runq_wait || 0) * (r.duration_s || 0) * 1000;
}

/**
 * True when run `r` fell behind its schedule because its load generator
 * waited for its CPU: the wait is at least STALL_MS and at least half the
 * send lag p99 it caused.
 * @param {object} r a load-generator result line
 */
function lostItsCpu(r) {
  if (!r.loadgen_behind) return false;
  const lagMs = ((r.send_lag_us && r.send_lag_us.p99) || 0) / 1000;
  const w = waitedMs(r);
  return w >= STALL_MS && w * 2 >= lagMs;
}

/**
 * Whether to swap the CPUs and run the round again after run `r`, its
 * `tries`-th (1 for the first run of the round).
 * @param {object} r a load-generator result line
 * @param {number} tries
 */
function runAgain(r, tries) {
  // A run with errors or stalls stands as it is: a rerun would drop them from the row.
  return tries <= RERUNS && r.ok !== false && lostItsCpu(r);
}

module.exports = { runAgain, lostItsCpu, waitedMs, RERUNS, STALL_MS };
