#!/usr/bin/env node
/**
 * UDP echo and process spawning, ioreactor against Node in the same run.
 *
 *  1. UDP echo datagrams/s. The server under test runs here: ioreactor's
 *     listenUDP (recvmmsg batches), ioreactor with one recvmsg per datagram,
 *     or Node's dgram. The load is the same every time: a separate Node
 *     process with `window` 64-byte datagrams in flight, counting replies for
 *     `secs` seconds. Variants alternate each round; median and ratio to Node.
 *     A second workload floods the server (no replies: the client sends
 *     bursts of 64 datagrams per tick) and compares the server's CPU per
 *     datagram received, where reading many per wake-up can show.
 *  2. Spawn-to-exit latency of `true`: reactor.spawnProcess until
 *     processEnded, against child_process.spawn until 'close' (both with
 *     stdin/stdout/stderr pipes), sequentially; median per round.
 *
 * Run: npm run build && node bench/udp-and-spawn.js [--rounds 5] [--secs 1] [--window 32] [--spawns 100]
 */
'use strict';
const { spawn } = require('child_process');
const dgram = require('dgram');
const { DatagramProtocol, ProcessProtocol, createReactor } = require('../dist');

const { numberOption: opt } = require('./lib/options');
const ROUNDS = Math.max(5, opt('rounds', 5));
const SECS = opt('secs', 1);
const WINDOW = opt('window', 32);
const SPAWNS = opt('spawns', 100);

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---- UDP: the load generator, one child process per measurement ----

const CLIENT = `
const dgram = require('dgram');
const [port, secs, windowSize] = process.argv.slice(1).map(Number);
const s = dgram.createSocket('udp4');
const payload = Buffer.alloc(64, 0x78);
let replies = 0, total = 0, counting = false;
s.on('message', () => { total++; if (counting) replies++; s.send(payload, port, '127.0.0.1'); });
s.bind(0, '127.0.0.1', () => {
  for (let i = 0; i < windowSize; i++) s.send(payload, port, '127.0.0.1');
  setTimeout(() => { counting = true; setTimeout(() => {
    counting = false; process.stdout.write(JSON.stringify({ rate: replies / secs, total })); s.close(); process.exit(0);
  }, secs * 1000); }, 200);
  // Datagrams lost on the way are replaced, so the window never drains.
  setInterval(() => { for (let i = 0; i < 4; i++) s.send(payload, port, '127.0.0.1'); }, 50).unref();
});`;

/** Runs the load against port; {rate: replies/s, cpu: our CPU µs per datagram echoed}. */
const FLOOD = `
const dgram = require('dgram');
const [port, secs] = process.argv.slice(1).map(Number);
const s = dgram.createSocket('udp4');
const payload = Buffer.alloc(64, 0x79);
let sent = 0, stop = false;
const burst = () => { if (stop) return; for (let i = 0; i < 64; i++) s.send(payload, port, '127.0.0.1'); sent += 64; setImmediate(burst); };
s.bind(0, '127.0.0.1', () => { burst(); setTimeout(() => { stop = true; setTimeout(() => { process.stdout.write(JSON.stringify({ sent })); s.close(); process.exit(0); }, 100); }, secs * 1000); });`;

/** Floods port for SECS seconds; resolves {sent, cpuUsed} (the caller counts what arrived). */
function flood(port) {
  const cpu0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', FLOOD, String(port), String(SECS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`flood client exited ${code}`));
      const used = process.cpuUsage(cpu0);
      resolve({ sent: JSON.parse(out).sent, cpu: used.user + used.system });
    });
  });
}

class Count extends DatagramProtocol {
  constructor() {
    super();
    this.n = 0;
  }
  datagramReceived() {
    this.n++;
  }
}

async function ioreactorFlood(batch) {
  const counter = new Count();
  const port = reactor.listenUDP(0, counter, { interface: '127.0.0.1' });
  port.setBatchReads(batch);
  try {
    const { sent, cpu } = await flood(port.getHost().port);
    return { received: counter.n, sent, cpu: cpu / Math.max(1, counter.n) };
  } finally {
    await port.stopListening();
  }
}

async function nodeFlood() {
  let n = 0;
  const s = dgram.createSocket('udp4');
  s.on('message', () => n++);
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  try {
    const { sent, cpu } = await flood(s.address().port);
    return { received: n, sent, cpu: cpu / Math.max(1, n) };
  } finally {
    await new Promise((resolve) => s.close(resolve));
  }
}

function load(port) {
  const cpu0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT, String(port), String(SECS), String(WINDOW)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load client exited ${code}`));
      const { rate, total } = JSON.parse(out);
      const used = process.cpuUsage(cpu0);
      resolve({ rate, cpu: (used.user + used.system) / Math.max(1, total) });
    });
  });
}

class Echo extends DatagramProtocol {
  datagramReceived(data, addr) {
    this.transport.write(data, addr);
  }
}

const reactor = createReactor();

async function ioreactorUdp(batch) {
  const port = reactor.listenUDP(0, new Echo(), { interface: '127.0.0.1' });
  port.setBatchReads(batch);
  try {
    return await load(port.getHost().port);
  } finally {
    await port.stopListening();
  }
}

async function nodeUdp() {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  try {
    return await load(s.address().port);
  } finally {
    await new Promise((resolve) => s.close(resolve));
  }
}

// ---- spawn latency ----

class Ends extends ProcessProtocol {
  constructor(done) {
    super();
    this.done = done;
  }
  processEnded() {
    this.done();
  }
}

async function ioreactorSpawn() {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < SPAWNS; i++) {
    await new Promise((resolve) => reactor.spawnProcess(new Ends(resolve), '/bin/true', ['true']));
  }
  return Number(process.hrtime.bigint() - t0) / 1e6 / SPAWNS;
}

async function nodeSpawn() {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < SPAWNS; i++) {
    await new Promise((resolve, reject) => spawn('/bin/true').on('close', resolve).on('error', reject));
  }
  return Number(process.hrtime.bigint() - t0) / 1e6 / SPAWNS;
}

/** Runs each variant once per round, alternating the order; returns name -> results. */
async function rounds(variants) {
  const results = new Map(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of round % 2 === 0 ? variants : variants.slice().reverse()) results.get(name).push(await fn());
  }
  return results;
}

/** Prints the median of `pick(result)` per variant and its ratio to node's ("better" means x > 1). */
function report(title, unit, results, pick, higherIsBetter, digits) {
  const fmt = (v) => (digits > 0 ? v.toFixed(digits) : Math.round(v).toLocaleString('en-US'));
  const base = median(results.get('node').map(pick));
  console.log(`\n${title} (median of ${ROUNDS} alternating rounds; x > 1 means better than node)`);
  for (const [name, rs] of results) {
    const m = median(rs.map(pick));
    const ratio = higherIsBetter ? m / base : base / m;
    console.log(`  ${name.padEnd(26)} ${fmt(m).padStart(9)} ${unit.padEnd(14)} x${ratio.toFixed(2)}   rounds: ${rs.map(pick).map(fmt).join(', ')}`);
  }
}

(async () => {
  console.log(`udp-and-spawn: node ${process.version}, backend ${reactor.backend}, window ${WINDOW}, ${SECS} s per UDP round, ${SPAWNS} spawns per round`);
  const udp = await rounds([
    ['ioreactor (recvmmsg)', () => ioreactorUdp(true)],
    ['ioreactor (recvmsg each)', () => ioreactorUdp(false)],
    ['node', nodeUdp],
  ]);
  report('UDP echo of 64-byte datagrams: throughput (the Node load client bounds it)', 'datagrams/s', udp, (x) => x.rate, true, 0);
  report('UDP echo: server CPU per datagram echoed', 'CPU µs/dgram', udp, (x) => x.cpu, false, 2);
  const fl = await rounds([
    ['ioreactor (recvmmsg)', () => ioreactorFlood(true)],
    ['ioreactor (recvmsg each)', () => ioreactorFlood(false)],
    ['node', nodeFlood],
  ]);
  report('UDP flood (no replies): datagrams received per second', 'datagrams/s', fl, (x) => x.received / SECS, true, 0);
  report('UDP flood: receiver CPU per datagram received (client CPU not counted)', 'CPU µs/dgram', fl, (x) => x.cpu, false, 2);
  const sp = await rounds([
    ['ioreactor spawnProcess', ioreactorSpawn],
    ['node', nodeSpawn],
  ]);
  report('spawn /bin/true until it has exited and its pipes closed', 'ms/spawn', sp, (x) => x, false, 3);
  reactor.close();
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
