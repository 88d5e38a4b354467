#!/usr/bin/env node
/**
 * Cost of removing many connections at once, per backend.
 *
 * An ioreactor server here; a separate Node process opens the connections
 * (so each process stays under its fd limit). With CONNS connections up, a
 * setTimeout (outside any reactor callback) aborts half of them: the time is
 * from the first abortConnection() until a setImmediate queued after the
 * loop runs, i.e. how long Node is frozen. The client then tops back up to
 * CONNS, and reactor.stop() is timed until run() resolves.
 *
 * Run: npm run build && node bench/poll-removals.js [--conns 10000] [--backend poll|epoll]
 * Without --backend, every backend this build offers is measured in turn.
 */
'use strict';
const { spawn } = require('child_process');
const { Factory, Protocol, createReactor } = require('../dist');
const { loadNative } = require('../dist/native');

const { stringOption: opt } = require('./lib/options');
const CONNS = Number(opt('conns', 10000));

// The client: opens connections when told how many to have, reports progress.
const CLIENT = `
const net = require('net');
const port = Number(process.argv[1]);
const socks = new Set();
let want = 0, opening = 0;
function top() {
  while (socks.size + opening < want && opening < 500) {
    opening++;
    const s = net.connect(port, '127.0.0.1', () => { opening--; socks.add(s); top(); });
    s.on('error', () => {});
    s.on('close', () => { if (socks.delete(s) === false) opening--; });
  }
}
process.stdin.on('data', (d) => { want = Number(String(d).trim().split('\\n').pop()); top(); });
`;

class Held extends Protocol {
  connectionMade() {
    this.factory.held.add(this);
  }

  connectionLost() {
    this.factory.held.delete(this);
  }
}

function until(cond) {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      }
    }, 20);
  });
}

// Aborts `n` connections from a timer: ms until Node runs a setImmediate
// again, and the kernel waits the turn cost (null where not counted).
function abortFromTimer(reactor, conns, n) {
  return new Promise((resolve) => {
    setTimeout(() => {
      const t0 = process.hrtime.bigint();
      const w0 = reactor.stats().kernelWaits;
      for (const p of [...conns].slice(0, n)) p.transport.abortConnection();
      const waits = w0 === undefined ? null : reactor.stats().kernelWaits - w0;
      setImmediate(() => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, waits }));
    }, 10);
  });
}

async function measure(backend) {
  const reactor = createReactor({ backend });
  const factory = Factory.forProtocol(Held);
  factory.held = new Set();
  const running = reactor.run();
  const port = reactor.listenTCP(0, factory, { interface: '127.0.0.1', backlog: 4096 });
  const client = spawn(process.execPath, ['-e', CLIENT, String(port.getHost().port)], { stdio: ['pipe', 'inherit', 'inherit'] });
  client.stdin.write(`${CONNS}\n`);
  await until(() => factory.held.size >= CONNS);
  const abort = await abortFromTimer(reactor, factory.held, CONNS / 2);
  client.stdin.write(`${CONNS + 1}\n`); // the client tops up as its sockets see the resets
  await until(() => factory.held.size >= CONNS);
  const t0 = process.hrtime.bigint();
  reactor.stop();
  await running;
  const stopMs = Number(process.hrtime.bigint() - t0) / 1e6;
  reactor.close();
  client.kill();
  return { backend, conns: CONNS, abortHalfMs: Math.round(abort.ms), abortKernelWaits: abort.waits, stopMs: Math.round(stopMs) };
}

async function main() {
  const wanted = opt('backend', null);
  const backends = wanted !== null ? [wanted] : loadNative().backends();
  for (const b of backends) console.log(JSON.stringify(await measure(b)));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
