#!/usr/bin/env node
'use strict';
/**
 * ioreactor-bench: the C10K benchmark harness.
 *
 * Builds the native load generator and the C ceiling server (bench/loadgen,
 * bench/cserver -> build-bench/), starts every server under test, runs each
 * scenario's load against them in alternating rounds, and prints a table of
 * medians with every figure as a ratio to Node `net` (and to the C ceiling),
 * where we stand against the targets, and the path of an HTML report.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ensureBuilt, ROOT } = require('./lib/build');
const servers = require('./lib/servers');
const { SCENARIOS, DEFAULT_SET, QUICK_SET, GROUPS, loadFor, describe, roundsFor } = require('./lib/scenarios');
const { runScenario } = require('./lib/runner');
const report = require('./lib/report');
const { withWorkers, workersReport } = require('./lib/workers');

const HELP = `usage: ioreactor-bench [scenario...] [options]

  --connections N   override every scenario's connection count
  --duration S      measured seconds per run (default 0.5; --full 3)
  --warmup S        loaded but unmeasured seconds before each window (default 0.2)
  --settle S        idle-hold scenarios (RSS per connection): also sample RSS
                    after the connections sat idle S more seconds, for every
                    server alike (default 0: only at the window's end; see
                    bench/README.md for what V8 does with an idle heap)
  --repeat R        rounds; servers alternate A B C A B C ... (default 3; --full 5)
  --backend B       epoll | poll: the backend of the "ioreactor" servers
  --servers a,b     only these servers (ids below)
  --workers N       also run the echo throughput scenarios against ioreactor
                    serve and Node cluster with N workers each (servers on CPUs
                    0..N-1, loadgen on CPU N when there are N+1), reporting
                    throughput against one process and each worker's share
  --no-pin          let the scheduler place server and load generator (taskset
                    pinning is the default with 2+ CPUs; on a busy machine a
                    pinned process waits for its CPU)
  --nice N          run server and load generator at nice -n N (N < 0 needs
                    root): less noise from other work, at its expense
  --json FILE       write every figure as JSON
  --report FILE     HTML report (default bench/out/report.html)
  --quick           a few hundred connections, ~1 s, 1 round (the CI check)
  --full            every scenario, 5 rounds of 3 s (about 15 minutes)
  --help            this text

With no scenario, runs the C10K set in under two minutes: ${DEFAULT_SET.join(' ')}.
(3 rounds, not 5, and 1 for idle-10k, whose RSS figure is steady: Node needs
~5 s to accept 10,000 connections, every round.)
Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(22)}${s.title}`).join('\n')}
Groups: ${Object.entries(GROUPS).map(([g, l]) => `${g} (${l.join(' ')})`).join('; ')}
Servers: ioreactor ioreactor-ab1 ioreactor-epoll ioreactor-poll net c
         ioreactor-site ioreactor-http net-http node-http c-http ioreactor-kv ioreactor-kv-text ioreactor-kv-sendline net-kv
         ioreactor-tls node-tls ioreactor-https node-https (spoken to over TLS)
         ioreactor-ws ws ioreactor-wss wss (wss: over TLS)
         ioreactor-serve net-cluster (with --workers)
Exit status: 0 when every run was clean (bytes verified, no errors), 1 otherwise.
`;

function parseArgs(argv) {
  const o = { names: [], repeat: null, duration: null, warmup: 0.2, settle: null, setupLimit: 30, report: path.join(ROOT, 'bench', 'out', 'report.html') };
  const num = (i) => {
    const v = Number(argv[i]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i - 1]} needs a positive number, got ${argv[i]}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') o.help = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--full') o.full = true;
    else if (a === '--no-pin') o.noPin = true;
    else if (a === '--nice') o.nice = Math.round(Number(argv[++i]));
    else if (a === '--connections') o.connections = Math.round(num(++i));
    else if (a === '--duration') o.duration = num(++i);
    else if (a === '--warmup') o.warmup = num(++i);
    else if (a === '--settle') {
      o.settle = Number(argv[++i]);
      if (!(o.settle >= 0) || !Number.isFinite(o.settle)) throw new Error(`--settle needs a number of seconds >= 0, got ${argv[i]}`);
    }
    else if (a === '--repeat') {
      o.repeat = Math.round(num(++i));
      o.repeatGiven = true;
    }
    else if (a === '--backend') o.backend = argv[++i];
    else if (a === '--servers') o.servers = String(argv[++i]).split(',');
    else if (a === '--workers') o.workers = Math.round(num(++i));
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--report') o.report = argv[++i];
    else if (a.startsWith('-')) throw new Error(`unknown option ${a} (see --help)`);
    else o.names.push(a);
  }
  if (o.nice !== undefined && !(Math.abs(o.nice) <= 19)) throw new Error('--nice needs a number from -19 to 19');
  if (o.backend && !['epoll', 'poll', 'kqueue'].includes(o.backend)) throw new Error(`--backend must be epoll or poll, got ${o.backend}`);
  const preset = o.quick ? { repeat: 1, duration: 1 } : o.full ? { repeat: 5, duration: 3, warmup: 0.5 } : { repeat: 3, duration: 0.5 };
  o.repeat = o.repeat || preset.repeat;
  o.duration = o.duration || preset.duration;
  if (preset.warmup && !argv.includes('--warmup')) o.warmup = preset.warmup;
  if (o.settle === null) o.settle = 0;
  return o;
}

function pickScenarios(o) {
  const names = o.names.length ? o.names : o.full ? SCENARIOS.map((s) => s.name) : o.quick ? QUICK_SET : DEFAULT_SET;
  const expanded = names.flatMap((n) => GROUPS[n] || [n]);
  /* a fixed rate is a fraction of the ceiling measured first */
  if (expanded.some((n) => /^rate-/.test(n)) && !expanded.includes('ceiling-1k')) expanded.unshift('ceiling-1k');
  return [...new Set(expanded)].map((n) => {
    const s = SCENARIOS.find((x) => x.name === n);
    if (!s) throw new Error(`unknown scenario ${n} (see --help)`);
    return s;
  });
}

/** Seconds one run is expected to take, for the estimate printed up front
 * (Node accepts ~2,000 connections/s here, the others ~8,000). */
function runSeconds(s, id, o) {
  const load = loadFor(s, o);
  const conns = load.conns + load.idle + load.hot;
  const node = ['net', 'net-http', 'node-http', 'net-kv', 'node-tls', 'node-https', 'ws', 'wss'].includes(id);
  const tls = /tls|https|wss/.test(id); /* a full handshake each: ~1,000/s for Node, ~2,500/s for us */
  return conns / (tls ? (node ? 1000 : 2500) : node ? 2000 : 8000) + o.warmup + o.duration + 0.2 + (s.metric === 'ramp' && node ? 0.6 : 0) + (s.fresh ? 0.3 : 0) + (load.settle || 0) + (load.steady || 0);
}

function availability(list, reg) {
  const ok = {};
  const ids = [...new Set(list.flatMap((s) => s.servers))];
  for (const id of ids) {
    const r = servers.check(reg[id]);
    ok[id] = r.ok;
    if (!r.ok) console.log(`skip ${reg[id].label}: ${r.why}`);
  }
  return ok;
}

/** A fixed-rate round: offered, sent and served rates, then the latency,
 * or why there is none (the load generator's own send lag), with how busy
 * the load generator was and how long it waited for its CPU while other
 * tasks held it (the usual cause of a round behind: bench/README.md). */
function rateProgress(r) {
  const n = (v) => Math.round(v || 0).toLocaleString('en-US');
  const ms = (v) => ((v || 0) / 1000).toFixed(2);
  const lag = r.send_lag_us || {};
  const lat = r.lat_us || {};
  const rates = `offered ${n(r.rate)}, sent ${n(r.sent_per_s)}, served ${n(r.ops_per_s)} req/s`;
  const self = `send lag p99 ${ms(lag.p99)} ms, lg busy ${Math.round((r.loadgen_busy || 0) * 100)}%, ` +
    `waited ${((r.loadgen_runq_wait || 0) * (r.duration_s || 0) * 1000).toFixed(0)} ms for its CPU`;
  return r.loadgen_behind ? `${rates}; loadgen behind (${self}): no latency`
    : `${rates}; p50 ${ms(lat.p50)} p99 ${ms(lat.p99)} ms (${self})`;
}

function progressLine(total) {
  let done = 0;
  const tty = process.stderr.isTTY;
  return (s, id, round, r, swapped) => {
    if (!swapped) done++;
    const fig = s.metric === 'rate' ? rateProgress(r)
      : s.metric === 'rss'
      ? `${Math.round((r.server && r.server.rss_per_conn_bytes) || 0)} B/conn`
      : s.metric === 'ramp' ? `all served in ${(r.hot_all_served_s || 0).toFixed(3)} s${r.hot_in_time < r.hot_total ? ` (${r.hot_in_time} of ${r.hot_total} within the ${r.hot_limit_s} s limit)` : ''}`
      : s.metric === 'broadcast' ? `${r.ops || 0} broadcasts to ${r.bc_conns || 0}, all have it p50 ${((r.bc_all_us && r.bc_all_us.p50) / 1000 || 0).toFixed(2)} max ${((r.bc_all_us && r.bc_all_us.max) / 1000 || 0).toFixed(2)} ms`
        : `${Math.round(r.ops_per_s || 0).toLocaleString('en-US')} ops/s p99 ${((r.lat_us && r.lat_us.p99) / 1000 || 0).toFixed(2)} ms`;
    const again = swapped ? `; run again, ${swapped}` : '';
    const line = `[${swapped ? done + 1 : done}/${total}] ${s.name} round ${round} ${id}: ${fig}${r.ok ? '' : ` FAILED ${r.first_error}`}${again}`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) return void process.stdout.write(HELP);
  const list = pickScenarios(o);
  const bins = ensureBuilt();
  const reg = servers.registry(bins, o.backend, o.workers);
  const pin = servers.pinning(!o.noPin, o.nice, o.workers);
  for (const s of list) s.servers = withWorkers(s, s.servers, o.workers);
  const ok = availability(list, reg);
  /* the run that sets the fixed rates is kept whatever --servers says */
  const wanted = (s, id) => !o.servers || o.servers.includes(id) || s.setsCeiling;
  const plan = list.map((s) => ({ s, ids: s.servers.filter((id) => ok[id] && wanted(s, id)) }));
  const total = plan.reduce((a, p) => a + p.ids.length * roundsFor(p.s, o), 0);
  const estimate = (p) => p.ids.reduce((b, id) => b + roundsFor(p.s, o) * runSeconds(p.s, id, o) + 0.3, 0);
  const est = plan.reduce((a, p) => a + estimate(p), 0);
  const summary = `${list.length} scenarios, ${total} runs, ${o.repeat} round(s) of ${o.duration} s; ${pin.note}; ` +
    `${os.cpus().length} CPUs (${os.cpus()[0].model}), load average ${os.loadavg()[0].toFixed(1)} at start (shared with other work: expect noise); node ${process.version}; ${new Date().toISOString()}`;
  console.log(`${summary}\nestimated total: ${Math.round(est)} s`);
  const t0 = Date.now();
  const progress = progressLine(total);
  const results = [];
  let ceilingRate = null;
  for (const { s, ids } of plan) {
    const started = Date.now();
    if (s.rateOf && !ceilingRate) {
      console.log(`skip ${s.name}: the C ceiling's rate was not measured (ceiling-1k failed)`);
      continue;
    }
    const sc = await runScenario(s, ids, { opts: o, bins, reg, pin, progress, ceilingRate });
    if (s.setsCeiling && sc.rows.c && sc.rows.c.ok) ceilingRate = sc.rows.c.median.ops_per_s;
    sc.seconds = (Date.now() - started) / 1000;
    sc.estimated_seconds = estimate({ s, ids });
    sc.title = describe(s, sc.load);
    results.push(report.addRatios(sc));
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const labels = Object.fromEntries(Object.entries(reg).map(([id, d]) => [id, d.label]));
  console.log(`\n${report.LEGEND}`);
  for (const sc of results) console.log(`\n${report.scenarioTable(sc, labels)}`);
  const doc = { meta: { summary, options: o, seconds: (Date.now() - t0) / 1000 }, scenarios: results, targets: report.targets(results) };
  if (o.workers) {
    const w = workersReport(results, o.workers);
    doc.workers = w.json;
    console.log(`\n${w.lines.join('\n')}`);
  }
  console.log('\ntargets (where we stand; never asserted):');
  for (const t of doc.targets) console.log(`  ${t.status.padEnd(14)}${t.target}: ${t.value}`);
  fs.mkdirSync(path.dirname(path.resolve(o.report)), { recursive: true });
  fs.writeFileSync(o.report, report.html(doc, labels));
  if (o.json) fs.writeFileSync(o.json, `${JSON.stringify(doc, null, 1)}\n`);
  console.log(`\ntook ${doc.meta.seconds.toFixed(0)} s; report: ${path.resolve(o.report)}${o.json ? `; json: ${path.resolve(o.json)}` : ''}`);
  const clean = results.every((sc) => Object.values(sc.rows).every((r) => r.ok));
  process.exitCode = clean ? 0 : 1;
}

main().catch((err) => {
  console.error(`ioreactor-bench: ${err.message}`);
  process.exitCode = 2;
});
