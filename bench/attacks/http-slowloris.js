#!/usr/bin/env node
'use strict';
/**
 * Attack: slowloris against a Site.
 *
 * N connections each send one byte of a request head a second and never
 * finish it (from a separate attacker process), while 100 normal clients
 * each do sequential GETs on their own keep-alive connection. Prints the
 * server's CPU (share of one core) and the normal clients' p50/p99 latency
 * without and then with the slow connections, and how many slow
 * connections the header timeout cut.
 *
 *   node bench/attacks/http-slowloris.js [--connections 5000] [--clients 100] [--seconds 5] [--burst]
 *        [--settle 20] [--rounds 3] [--control] [--against site|node] [--timeout 120] [--backend epoll|poll]
 *
 * The windows start --settle seconds into the attack, when every slow head
 * is past its request line: from then on each trickled byte costs what it
 * will until the header timeout (a Site wakes for a head's first bytes less
 * often than for the rest: see lib/web/channel.ts markLowWater), so the
 * figures are the attack's steady cost. Then --rounds rounds of a window
 * with the attacker stopped (SIGSTOP: its connections open and idle) and
 * one with it trickling, the normal clients' latencies pooled per side, so
 * the p99 ratio is not one window's luck on a shared machine. Everything
 * must end within --timeout (the header timeout, for the Site and for
 * node:http's headersTimeout), or it cuts the slow connections mid-run.
 *
 * On a machine with few cores the attacker's own CPU slows the normal
 * clients whatever the server does; --control sends the same slow
 * connections to a decoy server in another process instead, so the
 * difference between a run and its control is what the Site itself loses.
 */
const { fork } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { serve, startServer, option } = require('./harness');

function runServer() {
  if (option('against', 'site') === 'node') return runNodeServer();
  const io = require(path.join(__dirname, '..', '..', 'dist'));
  const reactor = io.createReactor({ backend: option('backend', 'epoll') });
  class Hello extends io.Resource {
    constructor() {
      super();
      this.isLeaf = true;
    }
    render_GET() {
      return 'hello\n';
    }
  }
  const site = new io.Site(new Hello(), { reactor, timeout: Number(option('timeout', '120')) });
  const port = reactor.listenTCP(0, site, { interface: '127.0.0.1', backlog: 1024 });
  serve(port.getHost().port, () => ({}));
}

/** --against node: the same answer from node:http, for reference (its headersTimeout stands for our timeout). */
function runNodeServer() {
  const http = require('http');
  const server = http.createServer((req, res) => res.end('hello\n'));
  server.headersTimeout = Number(option('timeout', '120')) * 1000;
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1', 1024, () => serve(server.address().port, () => ({})));
}

/** The child's utime+stime in seconds (from /proc). */
function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** `clients` connections each doing sequential GETs for `seconds`: every latency in ms. */
function normalClients(port, clients, seconds) {
  return Promise.all(Array.from({ length: clients }, () => normalClient(port, seconds))).then((all) => all.flat());
}

/** Sequential GETs on one connection for `seconds`: latencies in ms. */
function normalClient(port, seconds) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const lat = [];
    const end = Date.now() + seconds * 1000;
    let t0 = 0;
    let buf = '';
    const next = () => {
      if (Date.now() > end) {
        sock.destroy();
        return resolve(lat);
      }
      t0 = process.hrtime.bigint();
      sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    };
    sock.on('connect', next);
    sock.on('error', () => resolve(lat));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.endsWith('hello\n')) return;
      buf = '';
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      setTimeout(next, 1);
    });
  });
}

/**
 * The attacker, in a process of its own (so its writes never stall the
 * normal clients' event loop, which is what the first version of this
 * script measured): `n` connections each sending one byte of a head a
 * second. By default each connection has its own phase in the second (the
 * bytes arrive spread out, as from many machines); --burst sends all n
 * bytes at once every second, the worst case for the server's batches.
 */
function runAttacker() {
  const port = Number(option('port', '0'));
  const n = Number(option('connections', '5000'));
  const burst = process.argv.includes('--burst');
  const head = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(10000));
  const slow = [];
  let open = 0;
  let cut = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1', () => {
      if (++open === n) start();
    });
    s.on('error', () => undefined);
    s.on('close', () => cut++);
    s.sent = 0;
    slow.push(s);
  }
  const send = (s) => {
    if (!s.destroyed) s.write(head.subarray(s.sent, ++s.sent));
  };
  function start() {
    if (burst) {
      setInterval(() => slow.forEach(send), 1000);
    } else {
      // 100 ticks a second, each sending to the next n/100 connections.
      let next = 0;
      setInterval(() => {
        for (let k = 0; k < Math.ceil(n / 100); k++) send(slow[next++ % n]);
      }, 10);
    }
    process.send({ ready: true });
  }
  process.on('message', (m) => {
    if (m === 'cut') process.send({ cut });
  });
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(2) : '-';
}

/** Waits `seconds`. */
function sleep(seconds) {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** The normal clients for one window: their latencies, and the server's CPU share meanwhile. */
async function window(server, clients, seconds) {
  const c0 = cpuSeconds(server.pid);
  const lat = await normalClients(server.port, clients, seconds);
  return { lat, cpu: (cpuSeconds(server.pid) - c0) / seconds };
}

async function main() {
  const n = Number(option('connections', '5000'));
  const seconds = Number(option('seconds', '5'));
  const clients = Number(option('clients', '100'));
  const rounds = Number(option('rounds', '3'));
  const server = await startServer(__filename, process.argv.slice(2));
  const pid = server.pid;
  await normalClients(server.port, clients, 2); // warm-up: both JITs, so the baseline is not the cold window

  // --control: the same attacker, but against a decoy server in another process, so what the
  // normal clients then lose is the machine's (the attacker's and the decoy's CPU), not the Site's.
  const control = process.argv.includes('--control');
  let target = server.port;
  let decoy = null;
  if (control) {
    decoy = fork(__filename, ['--decoy']);
    target = await new Promise((resolve) => decoy.on('message', (m) => resolve(m.port)));
  }
  const attacker = fork(__filename, ['--attacker', ...process.argv.slice(2), '--port', String(target)]);
  await new Promise((resolve) => attacker.on('message', (m) => m.ready && resolve()));
  await sleep(Number(option('settle', '20')));
  const a0 = cpuSeconds(pid);
  await sleep(seconds);
  const attackCpu = (cpuSeconds(pid) - a0) / seconds;
  // Rounds of a window without the trickle (the attacker stopped: its connections stay open, idle)
  // and one with it, so drift in what the machine's neighbours do falls on both sides alike.
  const without = { lat: [], cpu: 0 };
  const under = { lat: [], cpu: 0 };
  const perRound = [];
  const pool = (into, w) => {
    for (const x of w.lat) into.lat.push(x); // (not push(...w.lat): a window's 100k latencies overflow the stack)
    into.cpu += w.cpu / rounds;
  };
  for (let i = 0; i < rounds; i++) {
    attacker.kill('SIGSTOP');
    const w = await window(server, clients, seconds);
    attacker.kill('SIGCONT');
    const u = await window(server, clients, seconds);
    pool(without, w);
    pool(under, u);
    perRound.push(`${pct(w.lat, 0.99)}/${pct(u.lat, 0.99)}`);
  }
  attacker.send('cut');
  const cut = await new Promise((resolve) => attacker.on('message', (m) => m.cut !== undefined && resolve(m.cut)));
  attacker.kill();
  if (decoy !== null) decoy.kill();
  server.stop();
  const mode = process.argv.includes('--burst') ? 'all at once each second' : 'spread over each second';
  if (control) console.log('CONTROL: the slow connections go to a decoy server in another process, not to the Site');
  const victim = option('against', 'site') === 'node' ? 'node:http' : 'a Site';
  console.log(`slowloris against ${victim}: ${n} connections, one byte a second (${mode}), ${clients} normal clients, ${rounds} x 2 windows of ${seconds} s`);
  console.log(`  server CPU of the attack alone ${(100 * attackCpu).toFixed(2)}% of a core (no normal clients in that window)`);
  console.log(`  server CPU (share of a core)   ${(100 * without.cpu).toFixed(2)}% -> ${(100 * under.cpu).toFixed(2)}%   (both include the normal clients)`);
  console.log(`  normal client p50 / p99 (ms)   ${pct(without.lat, 0.5)} / ${pct(without.lat, 0.99)} -> ${pct(under.lat, 0.5)} / ${pct(under.lat, 0.99)}`);
  console.log(`  normal requests                ${without.lat.length} -> ${under.lat.length}`);
  const ratio = Number(pct(under.lat, 0.99)) / Number(pct(without.lat, 0.99));
  console.log(`  normal client p99 with the trickle / without: ${ratio.toFixed(2)}x (target <= 1.20x); by round (ms) ${perRound.join(' ')}`);
  console.log(`  attack alone: ${(100 * attackCpu).toFixed(2)}% of a core (target < 2%)`);
  console.log(`  slow connections cut by the server meanwhile: ${cut}`);
}

/** The decoy of --control: a node:net server that reads and drops, in a process of its own. */
function runDecoy() {
  const server = net.createServer((s) => {
    s.on('data', () => undefined);
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', 1024, () => process.send({ port: server.address().port }));
}

if (process.argv.includes('--server')) runServer();
else if (process.argv.includes('--decoy')) runDecoy();
else if (process.argv.includes('--attacker')) runAttacker();
else main();
