'use strict';
/**
 * wrk, a load generator nobody here wrote, against ioreactor's hello Site
 * (bench/servers/ioreactor-site.js) and Node `http`, then over HTTPS against
 * the same Site on listenSSL and Node `https` (the harness's certificate;
 * wrk does not verify it). Issue 14 is checked by "wrk over HTTPS against
 * ioreactor and Node https in one run"; the harness's own load generator
 * is ours, this one is not. The servers are the harness's (bench/lib/servers.js:
 * same scripts, same pinning, server on CPU 0 and wrk on CPU 1 when there are
 * two). Each round starts a fresh server, warms it with a 1 s run, then
 * measures one run; rounds alternate the servers. Prints the medians of
 * requests/s, of p99 latency and of server CPU per request (utime+stime over
 * the measured run, 10 ms ticks), and the ratios. Exit status 1 when a run
 * had socket errors or a non-2xx answer (wrk prints those lines only then).
 *
 *   node bench/wrk.js [--rounds 3] [--duration 3] [--connections 100] [--backend epoll|poll]
 *
 * Needs `wrk` (Debian: apt-get install wrk) and a built checkout.
 */
const { execFile, execFileSync, spawnSync } = require('child_process');
const { numberOption, stringOption } = require('./lib/options');
const servers = require('./lib/servers');

const ROUNDS = numberOption('rounds', 3);
const DURATION = numberOption('duration', 3);
const CONNECTIONS = numberOption('connections', 100);
const BACKEND = stringOption('backend', undefined);
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const PAIRS = [
  { scheme: 'http', ours: 'ioreactor-site', theirs: 'node-http' },
  { scheme: 'https', ours: 'ioreactor-https', theirs: 'node-https' },
];
const UNITS = { us: 1e-3, ms: 1, s: 1e3 };

/** Runs wrk on `url` for `seconds` (pinned as the harness pins its load generator); resolves with its report. */
function wrk(pin, url, seconds) {
  const args = [...pin.loadgen, 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url];
  return new Promise((resolve, reject) => {
    execFile(args[0], args.slice(1), { timeout: (seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The figures of one wrk report: requests/s, requests, p99 in ms, and what was not clean. */
function parse(text) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const requests = /^\s*(\d+) requests in /m.exec(text);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(text);
  if (!rps || !requests || !p99) throw new Error(`wrk printed no figures:\n${text}`);
  const faults = text.split('\n').filter((l) => /Socket errors|Non-2xx or 3xx/.test(l)).map((l) => l.trim());
  return { rps: Number(rps[1]), requests: Number(requests[1]), p99Ms: Number(p99[1]) * UNITS[p99[2]], faults };
}

/** One round for one server: a fresh server, a 1 s warm-up, the measured run. */
async function measure(def, scheme, pin) {
  const server = await servers.start(def, pin);
  try {
    const url = `${scheme}://127.0.0.1:${server.port}/`;
    await wrk(pin, url, 1);
    await servers.waitQuiet(server.pid);
    const before = servers.cpuTicks(server.pid);
    const run = parse(await wrk(pin, url, DURATION));
    run.cpuPerReq = ((servers.cpuTicks(server.pid) - before) * TICK_US) / run.requests;
    return run;
  } finally {
    await server.stop();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const registry = servers.registry({ cEcho: '' }, BACKEND);
  const pin = servers.pinning();
  // wrk --version prints its usage after the version line and exits 1.
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) throw new Error(`wrk: ${probe.error.message} (Debian: apt-get install wrk)`);
  const version = probe.stdout.split('\n')[0].trim();
  console.log(`${version}; wrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} alternated rounds; ${pin.note}`);
  let clean = true;
  for (const pair of PAIRS) {
    const runs = { [pair.ours]: [], [pair.theirs]: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const id of round % 2 === 0 ? [pair.ours, pair.theirs] : [pair.theirs, pair.ours]) {
        const run = await measure(registry[id], pair.scheme, pin);
        runs[id].push(run);
        const faults = run.faults.length ? `  NOT CLEAN: ${run.faults.join('; ')}` : '';
        if (faults) clean = false;
        console.log(`  ${pair.scheme} round ${round + 1} ${registry[id].label}: ${run.rps.toFixed(0)} req/s, p99 ${run.p99Ms.toFixed(2)} ms, ` +
          `${run.cpuPerReq.toFixed(2)} µs CPU/req${faults}`);
      }
    }
    const m = (id, key) => median(runs[id].map((r) => r[key]));
    const row = (id) => `${registry[id].label} ${m(id, 'rps').toFixed(0)} req/s p99 ${m(id, 'p99Ms').toFixed(2)} ms ${m(id, 'cpuPerReq').toFixed(2)} µs CPU/req`;
    console.log(`${pair.scheme.padEnd(6)} ${row(pair.ours)} | ${row(pair.theirs)} | ` +
      `throughput ${(m(pair.ours, 'rps') / m(pair.theirs, 'rps')).toFixed(2)}x, CPU per request ${(m(pair.ours, 'cpuPerReq') / m(pair.theirs, 'cpuPerReq')).toFixed(2)}x`);
  }
  if (!clean) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
