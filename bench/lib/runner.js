'use strict';
/**
 * Runs a scenario: its servers alternate (A B C A B C ...) for `repeat`
 * rounds, one load-generator run each, and every figure is summarised by
 * its median over the rounds (single runs swing by ±20% on a shared box).
 * A fixed-rate round whose load generator lost its CPU is run again on
 * swapped CPUs (placement.js).
 */
const { execFile } = require('child_process');
const servers = require('./servers');
const { ensureBuilt } = require('./build');
const { loadFor, roundsFor } = require('./scenarios');
const placement = require('./placement');

function loadgenArgs(load, server, opts) {
  // A multi-process server's CPU and memory are in its workers, not the pid we hold: not measured.
  const a = ['--mode', load.mode, '--port', String(server.port), '--pid', String(server.multi ? 0 : server.pid),
    '--conns', String(load.conns), '--idle', String(load.idle), '--hot', String(load.hot),
    '--size', String(load.size), '--inflight', String(load.inflight),
    '--duration', String(opts.duration), '--warmup', String(opts.warmup), '--setup-limit', String(opts.setupLimit)];
  if (load.rate) a.push('--rate', String(load.rate));
  if (server.tls) a.push(load.tlsResume ? '--tls-resume' : '--tls');
  if (load.body) a.push('--body', String(load.body));
  if (load.ws) a.push('--ws', '--ws-path', load.wsPath || '/');
  if (load.settle > 0) a.push('--settle', String(load.settle));
  if (load.steady > 0) a.push('--steady', String(load.steady));
  return a;
}

/**
 * One load-generator run against a started server.
 * @returns {Promise<object>} the parsed JSON line (ok:false with first_error on failure)
 */
function runLoadgen(bin, load, server, opts, pin) {
  const args = [...pin.loadgen, bin, ...loadgenArgs(load, server, opts)];
  const timeout = (opts.setupLimit + opts.warmup + opts.duration + (load.settle || 0) + (load.steady || 0) + 25) * 1000;
  return new Promise((resolve) => {
    execFile(args[0], args.slice(1), { timeout, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({ ok: false, errors: 1, first_error: `loadgen: ${err ? err.message : 'no output'} ${stderr.trim()}`.slice(0, 300) });
      }
    });
  });
}

/**
 * The median of the finite numbers in xs, or null if there are none.
 * @param {Array<number|undefined|null>} xs
 */
function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const FIELDS = {
  ops_per_s: (r) => r.ops_per_s,
  p50_ms: (r) => r.lat_us && r.lat_us.p50 / 1000,
  p99_ms: (r) => r.lat_us && r.lat_us.p99 / 1000,
  p999_ms: (r) => r.lat_us && r.lat_us.p999 / 1000,
  cpu_us_per_op: (r) => r.server && r.server.cpu_us_per_op,
  user_us_per_op: (r) => r.server && r.server.user_us_per_op,
  sys_us_per_op: (r) => r.server && r.server.sys_us_per_op,
  server_cpu_util: (r) => r.server && r.server.cpu_util,
  loadgen_cpu_util: (r) => r.loadgen_cpu_util,
  /* the client's own cost per operation: a TLS handshake's is near a server's */
  loadgen_cpu_us_per_op: (r) => (r.ops > 0 && r.duration_s > 0 ? (r.loadgen_cpu_util * r.duration_s * 1e6) / r.ops : undefined),
  server_runq_wait: (r) => r.server && r.server.runq_wait,
  loadgen_runq_wait: (r) => r.loadgen_runq_wait,
  rss_per_conn_bytes: (r) => r.server && r.server.rss_per_conn_bytes,
  rss_settled_per_conn_bytes: (r) => r.server && r.server.rss_settled_per_conn_bytes,
  hot_all_served_s: (r) => r.hot_all_served_s,
  hot_p99_ms: (r) => r.hot_lat_ms && r.hot_lat_ms.p99,
  setup_s: (r) => r.setup_s,
  rate: (r) => r.rate,
  sent_per_s: (r) => r.sent_per_s,
  send_lag_p99_ms: (r) => r.send_lag_us && r.send_lag_us.p99 / 1000,
  /* fixed rate: share of the window the load generator spent working, not polling idle */
  loadgen_busy: (r) => r.loadgen_busy,
  owed_at_end: (r) => r.owed_at_end,
  steady_p99_ms: (r) => r.steady_lat_us && r.steady_lat_us.count > 0 ? r.steady_lat_us.p99 / 1000 : undefined,
  flood_p99_ms: (r) => r.flood_lat_us && r.flood_lat_us.count > 0 ? r.flood_lat_us.p99 / 1000 : undefined,
  /* per run, then the median: the two p99s of one run share its noise */
  flood_over_steady: (r) => (r.flood_lat_us && r.steady_lat_us && r.flood_lat_us.count > 0 && r.steady_lat_us.p99 > 0
    ? r.flood_lat_us.p99 / r.steady_lat_us.p99 : undefined),
  arrival_max_ms: (r) => r.lat_us && r.lat_us.max / 1000,
  bc_all_p50_ms: (r) => r.bc_all_us && r.bc_all_us.p50 / 1000,
  bc_all_p99_ms: (r) => r.bc_all_us && r.bc_all_us.p99 / 1000,
  bc_all_max_ms: (r) => r.bc_all_us && r.bc_all_us.max / 1000,
};

/** What TLS the runs negotiated, how many handshakes were resumed, how many tickets the server sent, and
 * who sealed and opened the load generator's records (aesni, evp or openssl: loadgen/tls.h). */
function tlsSummary(runs) {
  const t = runs.map((r) => r.tls).filter(Boolean);
  if (t.length === 0) return undefined;
  const names = (k) => [...new Set(t.map((x) => x[k]).filter(Boolean))].join(' / ');
  return { version: names('version'), cipher: names('cipher'), full: t.reduce((a, x) => a + x.full, 0), resumed: t.reduce((a, x) => a + x.resumed, 0), tickets: t.reduce((a, x) => a + (x.tickets || 0), 0), records: names('record_cipher') };
}

/** Latency figures a fixed-rate run only has when the load generator kept
 * to its schedule: its own lag is in every latency it timed. */
const SCHEDULE_BOUND = new Set(['p50_ms', 'p99_ms', 'p999_ms', 'arrival_max_ms']);

/** A run's figure, or undefined when the run cannot vouch for it. */
function figure(r, k, f) {
  if (r.ok === false && !r.ops) return undefined;
  if (r.loadgen_behind && SCHEDULE_BOUND.has(k)) return undefined;
  return f(r);
}

/** A ramp row's late rounds: { hot_late, hot_fewest: {in_time, total}, hot_limit_s }, or nothing when none was late. */
function hotLate(runs) {
  const late = runs.filter((r) => r.hot_total !== undefined && r.hot_in_time < r.hot_total);
  if (late.length === 0) return {};
  const fewest = late.reduce((a, r) => (r.hot_in_time < a.hot_in_time ? r : a));
  return { hot_late: late.length, hot_fewest: { in_time: fewest.hot_in_time, total: fewest.hot_total }, hot_limit_s: fewest.hot_limit_s };
}

/** Medians of every figure over a server's runs, and the error totals. A
 * fixed-rate run in which the load generator fell behind gives no latency:
 * the median is over the other runs, or none when every run fell behind. */
function summarise(all) {
  const runs = all.filter((r) => !r.superseded);
  const med = {};
  for (const [k, f] of Object.entries(FIELDS)) med[k] = median(runs.map((r) => figure(r, k, f)));
  const sum = (k) => runs.reduce((a, r) => a + (r[k] || 0), 0);
  return {
    median: med,
    runs: runs.length,
    ok: runs.length > 0 && runs.every((r) => r.ok),
    errors: sum('errors'), verify_errors: sum('verify_errors'), stalled: sum('stalled'),
    bytes_checked: sum('bytes'), connect_retries: sum('connect_retries'),
    loadgen_behind: runs.filter((r) => r.loadgen_behind).length,
    /* ramp: rounds in which some new connection was served only after the load generator's --hot-limit, and the fewest in time */
    ...hotLate(runs),
    /* fixed rate: rounds run again after their load generator lost its CPU (placement.js) */
    rerun: all.length - runs.length,
    first_error: (runs.find((r) => r.first_error) || {}).first_error || '',
    tls: tlsSummary(runs),
  };
}

async function startOrFail(def, pin) {
  try {
    return { handle: await servers.start(def, pin) };
  } catch (err) {
    return { error: err.message };
  }
}

/** One load-generator run against server `id` (started, in `live`); a server that died in it leaves `live`. */
async function runOnce(id, live, ctx, load, opts) {
  const { reg, pin } = ctx;
  const h = live[id];
  const r = await runLoadgen(ctx.bins.loadgen, load, { ...h, tls: reg[id].tls, multi: reg[id].multi }, opts, pin);
  if (pin.cpus) r.cpus = { ...pin.cpus };
  if (reg[id].multi) r.shares = await servers.shares(h);
  if (h.child.exitCode !== null || h.child.signalCode !== null) {
    r.ok = false;
    r.errors = (r.errors || 0) + 1;
    r.first_error = `server exited during the run: ${h.stderr().trim().split('\n').slice(-3).join(' | ')}`;
    delete live[id];
  }
  return r;
}

/**
 * Runs one scenario over the given servers.
 * @param {object} s scenario
 * @param {string[]} ids servers to run (already filtered for availability)
 * @param {object} ctx {opts, bins, reg, pin, progress(text)}
 * @returns {Promise<object>} {name, title, load, rows: {id: summary}}
 */
async function runScenario(s, ids, ctx) {
  const { reg, pin } = ctx;
  const opts = s.setupLimit ? { ...ctx.opts, setupLimit: Math.max(ctx.opts.setupLimit, s.setupLimit) } : ctx.opts;
  const load = loadFor(s, { ...opts, ceilingRate: ctx.ceilingRate });
  const runs = Object.fromEntries(ids.map((id) => [id, []]));
  const failed = {};
  const live = {};
  const rounds = roundsFor(s, opts);
  for (let round = 1; round <= rounds; round++) {
    for (const id of ids) {
      if (failed[id]) continue;
      ensureBuilt(); /* cheap when up to date; someone may have deleted build-bench/ */
      if (!live[id]) {
        const st = await startOrFail(reg[id], pin);
        if (st.error) { failed[id] = st.error; continue; }
        live[id] = st.handle;
      }
      for (let tries = 1; ; tries++) {
        const r = await runOnce(id, live, ctx, load, opts);
        if (s.rateOf && live[id] && placement.runAgain(r, tries) && servers.swapCpus(pin, Object.values(live).map((x) => x.pid))) {
          r.superseded = true;
          runs[id].push(r);
          ctx.progress(s, id, round, r, pin.note);
          await servers.waitQuiet(live[id].pid);
          continue;
        }
        runs[id].push(r);
        ctx.progress(s, id, round, r);
        break;
      }
      if (s.fresh && live[id]) { await live[id].stop(); delete live[id]; }
      else if (live[id]) await servers.waitQuiet(live[id].pid);
    }
  }
  await Promise.all(Object.values(live).map((h) => h.stop()));
  const rows = {};
  for (const id of ids) rows[id] = failed[id] ? { failed: failed[id], runs: 0, ok: false, median: {} } : summarise(runs[id]);
  return { name: s.name, title: s.title, repeat: rounds, metric: s.metric, baseline: s.baseline, ceiling: s.ceiling, load, rows, raw: runs };
}

module.exports = { runScenario, median, summarise };
