'use strict';
/**
 * --workers N: which scenarios also run the multi-process servers
 * (ioreactor serve and Node cluster, N workers each), and the lines that
 * report their throughput against one process and each worker's share of
 * the connections. Honest about the machine: with fewer than N+1 CPUs the
 * load generator shares the workers' cores, so no scaling is claimed.
 */
const os = require('os');

const MULTI = ['ioreactor-serve', 'net-cluster'];
/** Each multi-process server and the one-process server it is compared with. */
const SINGLE = { 'ioreactor-serve': 'ioreactor', 'net-cluster': 'net' };

/** The servers a scenario runs with --workers: echo throughput scenarios get the multi-process ones too. */
function withWorkers(s, ids, workers) {
  if (!workers || s.metric !== 'ops' || s.rateOf || !s.servers.includes('net')) return ids;
  return [...ids, ...MULTI];
}

function shareText(counts) {
  if (!Array.isArray(counts) || counts.length === 0) return 'shares not reported';
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  const ratio = Math.min(...counts) > 0 ? (Math.max(...counts) / Math.min(...counts)).toFixed(2) : 'inf';
  return `connections per worker ${counts.map((c) => `${((100 * c) / total).toFixed(1)}%`).join(' / ')} (busiest/least ${ratio})`;
}

/**
 * The report lines and JSON for the multi-process servers of every scenario.
 * @param {object[]} results scenarios as runScenario returns them
 * @param {number} workers
 */
function workersReport(results, workers) {
  const cpus = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  const lines = [`workers (--workers ${workers}, ${cpus} CPUs here):`];
  const json = [];
  for (const sc of results) {
    for (const id of MULTI) {
      const row = sc.rows[id];
      const one = sc.rows[SINGLE[id]];
      if (!row) continue;
      const ops = row.median && row.median.ops_per_s;
      const base = one && one.median && one.median.ops_per_s;
      const runs = (sc.raw && sc.raw[id]) || [];
      const shares = runs.length ? runs[runs.length - 1].shares : null;
      const scale = ops && base ? ops / base : null;
      json.push({ scenario: sc.name, server: id, ops_per_s: ops, one_process_ops_per_s: base, times_one_process: scale, target: 0.8 * workers, shares });
      const fig = ops ? `${Math.round(ops).toLocaleString('en-US')} ops/s` : 'failed';
      const vs = scale ? ` = ${scale.toFixed(2)}x one process (target >= ${(0.8 * workers).toFixed(1)}x with ${workers + 1}+ CPUs)` : '';
      lines.push(`  ${sc.name} ${id}: ${fig}${vs}; ${shareText(shares)}`);
    }
  }
  lines.push(cpus > workers
    ? `  ${cpus} CPUs for ${workers} workers and the load generator: the scaling figure is meaningful if the machine was otherwise idle.`
    : `  On this ${cpus}-CPU machine the load generator shares the cores with the ${workers} workers: these figures show no scaling and none is claimed.`);
  return { lines, json, cpus };
}

module.exports = { withWorkers, workersReport, shareText };
