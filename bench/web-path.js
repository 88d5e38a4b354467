#!/usr/bin/env node
/**
 * The Site request path alone, without sockets: a hello Resource behind an
 * HTTPChannel on a transport that only counts bytes, fed the loadgen's
 * request one (or --pipeline N) per read. Prints ns per request and heap
 * bytes allocated per request (run with a large young generation so no
 * scavenge falls inside a measured round:
 *   node --max-semi-space-size=512 bench/web-path.js [--pipeline 16] [--n 200000]
 * ). It isolates what the web layer costs from the kernel's share, which
 * dominates the socket benchmarks and varies with the machine's load.
 */
'use strict';
const io = require('../dist');
const { Clock } = require('../dist/task');

const { numberOption: opt } = require('./lib/options');
const PIPE = opt('pipeline', 1);
const N = opt('n', 200000);
const ROUNDS = opt('rounds', 5);

const body = Buffer.from('hello world\n');
class Hello extends io.Resource {
  constructor() {
    super();
    this.isLeaf = true;
  }
  render_GET(request) {
    request.setHeader('Content-Type', 'text/plain');
    return body;
  }
}
const site = new io.Site(new Hello(), { reactor: new Clock() });
let written = 0;
const transport = {
  write(d) { written += d.length; },
  writeSequence(ds) { for (const d of ds) written += d.length; },
  loseConnection() {}, getPeer() { return null; }, getHost() { return null; },
};
const channel = site.buildProtocol(null);
channel.makeConnection(transport);
const one = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
// Fresh Buffers per read, as a socket hands them out.
const reads = Array.from({ length: 64 }, () => Buffer.from(one.repeat(PIPE), 'latin1'));

function round() {
  const reads_ = N / PIPE;
  const h0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reads_; i++) channel.dataReceived(reads[i & 63]);
  const ns = Number(process.hrtime.bigint() - t0) / N;
  const bytes = (process.memoryUsage().heapUsed - h0) / N;
  return { ns, bytes };
}
round();
const out = [];
for (let r = 0; r < ROUNDS; r++) {
  if (global.gc) global.gc();
  out.push(round());
}
out.sort((a, b) => a.ns - b.ns);
const med = out[out.length >> 1];
console.log(`pipeline ${PIPE}: ${med.ns.toFixed(0)} ns/request, ~${med.bytes.toFixed(0)} heap B/request (median of ${ROUNDS}; ${written} bytes written)`);
