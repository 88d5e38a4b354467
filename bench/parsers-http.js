#!/usr/bin/env node
/**
 * Request-head parsing: the TypeScript parser (lib/web/parser.ts, head.ts)
 * against the C++ experiment in bench/native-parser/heads.cc called through
 * N-API, over the same Buffers of 16 pipelined requests, as a socket read
 * hands them to the channel. The native side returns compact records
 * (offsets in an Int32Array); JS then makes what the channel needs from them
 * (the method constant, the target string, a RequestHead over the offsets),
 * so both columns end with the same objects.
 *
 * Run: npm run build && g++ -O2 -shared -fPIC -I/usr/include/node \
 *        -DNODE_GYP_MODULE_NAME=heads -o build-bench/heads.node bench/native-parser/heads.cc
 *      node bench/parsers-http.js [--rounds 7] [--n 400000]
 */
'use strict';
const { RequestParser } = require('../dist/web/parser');
const { RequestHead, latin1 } = require('../dist/web/head');
const { methodAt } = require('../dist/web/methods');
const native = require('../build-bench/heads.node');

const { numberOption: opt } = require('./lib/options');
const ROUNDS = opt('rounds', 7);
const N = opt('n', 400000);
const PIPE = 16;

const SHAPES = {
  'loadgen (Host only)': 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  'browser-like (9 fields)':
    'GET /static/app.js?v=3 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0\r\n' +
    'Accept: */*\r\nAccept-Language: en-GB,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nReferer: https://www.example.com/\r\n' +
    'Connection: keep-alive\r\nCookie: session=abcdef0123456789; theme=dark\r\nCache-Control: no-cache\r\n\r\n',
};

let heads = 0;
const limits = { maxHeaderBytes: 16384, maxRequestLine: 8192, maxBodyBytes: 1 << 20, maxHeaders: 100 };
const sink = {
  headReceived(head) {
    heads += head.target.length > 0 ? 1 : 0;
    return 0;
  },
  bodyReceived() {},
  messageEnded() {
    return true;
  },
  parseFailed(status) {
    throw new Error(`refused ${status}`);
  },
};

function runTS(reads) {
  const p = new RequestParser(sink, limits);
  for (let i = 0; i < reads.length; i++) p.feed(reads[i]);
}

const records = new Int32Array(16384);
function runNative(reads) {
  for (let r = 0; r < reads.length; r++) {
    const b = reads[r];
    const n = native.parse(b, 0, records);
    let w = 1;
    for (let h = 0; h < n; h++) {
      const methodEnd = records[w + 1];
      const method = methodAt(b, 0, methodEnd) ?? latin1(b, 0, methodEnd);
      const target = latin1(b, methodEnd + 1, records[w + 2]);
      const nf = records[w + 4];
      // A plain array: a typed-array slice allocates an ArrayBuffer per head, and those made GC most of the time.
      const fields = new Array(4 * nf);
      for (let k = 0; k < 4 * nf; k++) fields[k] = records[w + 5 + k];
      const head = new RequestHead(method, target, records[w + 3], b, fields);
      heads += head.target.length > 0 ? 1 : 0;
      w += 5 + 4 * nf;
    }
  }
}

/** The native call alone, records left unread: the floor of any native design. */
function runNativeOnly(reads) {
  for (let r = 0; r < reads.length; r++) heads += native.parse(reads[r], 0, records);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

for (const [label, one] of Object.entries(SHAPES)) {
  // Distinct Buffers per read, as a socket hands them out (heads start at offset 0 of each), but
  // few enough to stay in cache: a read is parsed just after the kernel and the copy out of the slab touched it.
  const distinct = Array.from({ length: 64 }, () => Buffer.from(one.repeat(PIPE), 'latin1'));
  const reads = Array.from({ length: N / PIPE }, (_, i) => distinct[i & 63]);
  const ts = [];
  const nat = [];
  const bare = [];
  runTS(reads.slice(0, 2000));
  runNative(reads.slice(0, 2000));
  for (let r = 0; r < ROUNDS; r++) {
    let t = process.hrtime.bigint();
    runTS(reads);
    ts.push(Number(process.hrtime.bigint() - t) / N);
    t = process.hrtime.bigint();
    runNative(reads);
    nat.push(Number(process.hrtime.bigint() - t) / N);
    t = process.hrtime.bigint();
    runNativeOnly(reads);
    bare.push(Number(process.hrtime.bigint() - t) / N);
  }
  const a = median(ts);
  const b = median(nat);
  const c = median(bare);
  console.log(
    `${label.padEnd(24)} TS ${a.toFixed(0).padStart(5)} ns/head | native + JS objects ${b.toFixed(0).padStart(5)} (${(b / a).toFixed(2)}x TS)` +
      ` | native call alone ${c.toFixed(0).padStart(5)} (${(c / a).toFixed(2)}x TS)`,
  );
}
