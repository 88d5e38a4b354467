'use strict';
/**
 * Issue 15's "checked by": the real `redis-benchmark` against a small
 * Redis-protocol server written only from the README (ioreactor-resp.js) and
 * the same logic on Node `net` (net-resp.js). Rounds alternate the servers;
 * medians of throughput and of server CPU per request (utime+stime from
 * /proc/PID/stat over the client's run, 10 ms ticks) are printed.
 *
 *   node bench/redis/check.js [--rounds 3] [--requests 100000]
 *
 * Needs `redis-benchmark` (Debian: redis-tools) and a built checkout.
 */
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt('--rounds', 3);
const REQUESTS = opt('--requests', 100000);
const SERVERS = { ioreactor: 'ioreactor-resp.js', net: 'net-resp.js' };
const CONFIGS = [
  { name: '50 connections', flags: ['-c', '50'] },
  { name: '1,000 connections', flags: ['-c', '1000'] },
  { name: '50 connections, pipelined x16', flags: ['-c', '50', '-P', '16'] },
];
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Starts a server; resolves with its process and port (its first stdout line). */
function start(file) {
  const child = spawn(process.execPath, [path.join(__dirname, file)], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d) => resolve({ child, port: Number(String(d).trim()) }));
  });
}

/** utime + stime of a process, in µs. */
function cpuUs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

/** One redis-benchmark run of SET and GET; returns requests/s and server CPU µs per request. */
function measure(server, config) {
  const before = cpuUs(server.child.pid);
  const t0 = process.hrtime.bigint();
  const csv = execFileSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(server.port), '-t', 'set,get',
    '-n', String(REQUESTS), '-r', '10000', '-q', '--csv', ...config.flags], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuUs(server.child.pid) - before;
  const rps = csv.split('\n').filter((l) => /^"(SET|GET)"/.test(l)).map((l) => Number(l.split(',')[1].replace(/"/g, '')));
  if (rps.length !== 2) throw new Error(`redis-benchmark printed no figures:\n${csv}`);
  return { rps: (rps[0] + rps[1]) / 2, cpuPerReq: cpu / (2 * REQUESTS), seconds };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const results = {};
  for (const config of CONFIGS) {
    results[config.name] = { ioreactor: [], net: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['ioreactor', 'net'] : ['net', 'ioreactor'];
      for (const id of order) {
        const server = await start(SERVERS[id]);
        try {
          results[config.name][id].push(measure(server, config));
        } finally {
          server.child.stdin.end();
          server.child.kill();
        }
      }
    }
  }
  console.log(`redis-benchmark -t set,get -n ${REQUESTS} -r 10000, medians of ${ROUNDS} alternated rounds`);
  for (const [name, rows] of Object.entries(results)) {
    const io = { rps: median(rows.ioreactor.map((r) => r.rps)), cpu: median(rows.ioreactor.map((r) => r.cpuPerReq)) };
    const nt = { rps: median(rows.net.map((r) => r.rps)), cpu: median(rows.net.map((r) => r.cpuPerReq)) };
    console.log(`${name.padEnd(32)} ioreactor ${io.rps.toFixed(0).padStart(8)} req/s ${io.cpu.toFixed(2).padStart(6)} µs CPU/req | ` +
      `net ${nt.rps.toFixed(0).padStart(8)} req/s ${nt.cpu.toFixed(2).padStart(6)} µs | ` +
      `throughput ${(io.rps / nt.rps).toFixed(2)}x, CPU per request ${(io.cpu / nt.cpu).toFixed(2)}x`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
