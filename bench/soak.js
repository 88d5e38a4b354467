#!/usr/bin/env node
'use strict';
/**
 * Soak: N minutes (default 10) of mixed load at ~5,000 connections against
 * the ioreactor echo server (bench/servers/ioreactor-echo.js, from dist/):
 * echo clients doing round trips, churners that connect, send one message
 * and close, and held connections that stay idle (slow clients). Every 10 s
 * it prints the server's RSS and open fds. At the end it compares the RSS
 * slope of the second half with the first (a server that levels off has a
 * second-half slope near 0) and checks the fds return to the idle baseline.
 * Not part of CI. Run it under `nice -n 19` on a shared machine: the echo
 * clients run flat out, and the figures that matter here (RSS, fds) do not
 * depend on speed.
 *
 *   node bench/soak.js [--minutes 10] [--backend epoll|poll] [--echo 1000]
 *                      [--churn 200] [--idle 3800] [--json out.json]
 *
 * Exit status: 0 when the fds came back and every load generator run was
 * clean, 1 otherwise. The load generator is the native one in build-bench
 * (built on first use, see bench/lib/build.js).
 */
const fs = require('fs');
const { execFile } = require('child_process');
const { ensureBuilt } = require('./lib/build');
const servers = require('./lib/servers');

const SAMPLE_MS = 10000;

function parse(argv) {
  const o = { minutes: 10, backend: undefined, echo: 1000, churn: 200, idle: 3800, json: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = k === 'backend' || k === 'json' ? argv[++i] : Number(argv[++i]);
  }
  return o;
}

/** Server RSS in MiB and open fds, from /proc. */
function sample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return { rssMiB: rssKb / 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** One load generator run for `seconds`; resolves with its JSON line. */
function loadgen(bin, server, mode, conns, seconds) {
  const args = ['--mode', mode, '--port', String(server.port), '--pid', String(server.pid), '--conns', String(conns),
    '--size', '64', '--duration', String(seconds), '--warmup', '0', '--setup-limit', '60', '--max-connecting', '256'];
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: (seconds + 120) * 1000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      try {
        resolve({ ...JSON.parse(stdout.trim().split('\n').pop()), mode, conns });
      } catch {
        resolve({ mode, conns, ok: false, first_error: `${err ? err.message : 'no output'} ${stderr.trim()}`.slice(0, 300) });
      }
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const o = parse(process.argv.slice(2));
  const bins = ensureBuilt();
  const def = servers.registry(bins, o.backend).ioreactor;
  const check = servers.check(def);
  if (!check.ok) throw new Error(`the ioreactor server cannot run: ${check.why}`);
  const server = await servers.start(def, { on: false, server: [], loadgen: [], note: '' });
  const seconds = Math.round(o.minutes * 60);
  try {
    await sleep(500);
    const idle = sample(server.pid);
    console.log(`soak: ${o.minutes} min, ${o.echo} echo + ${o.churn} churning + ${o.idle} idle connections, ` +
      `server pid ${server.pid} (${def.label}); idle: RSS ${idle.rssMiB.toFixed(1)} MiB, ${idle.fds} fds`);
    const t0 = Date.now();
    const runs = Promise.all([
      loadgen(bins.loadgen, server, 'idle', o.idle, seconds),
      loadgen(bins.loadgen, server, 'echo', o.echo, seconds),
      loadgen(bins.loadgen, server, 'churn', o.churn, seconds),
    ]);
    let finished = false;
    runs.then(() => (finished = true));
    const points = [];
    let maxFds = 0;
    while (!finished) {
      await Promise.race([sleep(SAMPLE_MS), runs]);
      if (finished) break;
      const s = sample(server.pid);
      const t = (Date.now() - t0) / 1000;
      maxFds = Math.max(maxFds, s.fds);
      points.push({ t, ...s });
      console.log(`  t=${t.toFixed(0).padStart(4)} s  RSS ${s.rssMiB.toFixed(1).padStart(7)} MiB  fds ${String(s.fds).padStart(6)}`);
    }
    const results = await runs;
    // The clients are gone: the server's fds must come back to the idle count.
    let end = sample(server.pid);
    for (let i = 0; i < 40 && end.fds !== idle.fds; i++) {
      await sleep(250);
      end = sample(server.pid);
    }
    const half = points.length >> 1;
    const perMin = (pts) => slope(pts.map((p) => ({ x: p.t / 60, y: p.rssMiB })));
    const summary = {
      minutes: o.minutes,
      backend: def.label,
      connections: o.echo + o.churn + o.idle,
      peakFds: maxFds,
      rssIdleMiB: +idle.rssMiB.toFixed(1),
      rssPeakMiB: +Math.max(...points.map((p) => p.rssMiB)).toFixed(1),
      rssEndMiB: +end.rssMiB.toFixed(1),
      rssSlopeFirstHalfMiBPerMin: +perMin(points.slice(0, half)).toFixed(3),
      rssSlopeSecondHalfMiBPerMin: +perMin(points.slice(half)).toFixed(3),
      rssSlopeLastQuarterMiBPerMin: +perMin(points.slice((points.length * 3) >> 2)).toFixed(3),
      fdsIdle: idle.fds,
      fdsEnd: end.fds,
      loadgen: results.map((r) => ({ mode: r.mode, conns: r.conns, ok: r.ok, ops: r.ops, opsPerS: r.ops_per_s, errors: r.errors, first_error: r.first_error })),
    };
    console.log(`RSS slope: first half ${summary.rssSlopeFirstHalfMiBPerMin} MiB/min, second half ${summary.rssSlopeSecondHalfMiBPerMin} MiB/min, ` +
      `last quarter ${summary.rssSlopeLastQuarterMiBPerMin} MiB/min ` +
      `(idle ${summary.rssIdleMiB} MiB, peak ${summary.rssPeakMiB} MiB, end ${summary.rssEndMiB} MiB)`);
    console.log(`fds: idle ${idle.fds}, peak ${maxFds}, after the clients left ${end.fds} (${end.fds === idle.fds ? 'back to baseline' : 'NOT back'})`);
    for (const r of summary.loadgen) console.log(`loadgen ${r.mode} x${r.conns}: ${r.ok ? 'clean' : `FAILED ${r.first_error || ''}`}, ${r.ops ?? 0} ops`);
    if (o.json) fs.writeFileSync(o.json, `${JSON.stringify(summary, null, 2)}\n`);
    const ok = end.fds === idle.fds && results.every((r) => r.ok);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exitCode = 1;
});
