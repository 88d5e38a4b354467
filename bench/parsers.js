#!/usr/bin/env node
/**
 * Parser throughput: LineReceiver and Int32StringReceiver against a plain
 * split loop written inline, on 64-byte and 1 KiB messages fed in 64 KiB chunks.
 *
 * Run: npm run build && node bench/parsers.js [--rounds 7] [--mb 32]
 * The receiver and the plain loops alternate each round; medians (MB/s) are
 * printed with the receiver's speed as a multiple of each plain loop's (xN).
 */
'use strict';
const { LineReceiver, LineOnlyReceiver, Int32StringReceiver } = require('../dist');

const { numberOption: opt } = require('./lib/options');
const ROUNDS = Math.max(5, opt('rounds', 7));
const MB = opt('mb', 32);
const CHUNK = 64 * 1024;

const nullTransport = { write() {}, writeSequence() {}, loseConnection() {}, getHost() {}, getPeer() {} };

/** The wire bytes of enough messages of `size` bytes (framing included) to fill MB megabytes. */
function lineStream(size) {
  const line = Buffer.alloc(size - 2, 'x');
  const one = Buffer.concat([line, Buffer.from('\r\n')]);
  return Buffer.concat(Array.from({ length: Math.ceil((MB * 1e6) / size) }, () => one));
}
function int32Stream(size) {
  const one = Buffer.alloc(size, 'y');
  one.writeUInt32BE(size - 4, 0);
  return Buffer.concat(Array.from({ length: Math.ceil((MB * 1e6) / size) }, () => one));
}
/** Fresh 64 KiB chunks, as a socket would hand them out. */
function chunks(stream) {
  const out = [];
  for (let p = 0; p < stream.length; p += CHUNK) out.push(Buffer.from(stream.subarray(p, p + CHUNK)));
  return out;
}

// ---- the systems under test: each returns the number of messages seen ----

// One class each, defined once, so call sites stay monomorphic across rounds.
let seen = 0;
class CountingLines extends LineReceiver {
  lineReceived(line) {
    seen += line.length >= 0 ? 1 : 0;
  }
}
class CountingLineOnly extends LineOnlyReceiver {
  lineReceived(line) {
    seen += line.length >= 0 ? 1 : 0;
  }
}
class CountingStrings extends Int32StringReceiver {
  stringReceived(s) {
    seen += s.length >= 0 ? 1 : 0;
  }
}

/** A runner feeding every chunk to a fresh receiver of class P; returns the messages it counted. */
function receiverRun(P) {
  return function run(cs) {
    seen = 0;
    const p = new P();
    p.MAX_LENGTH = 1 << 20;
    p.makeConnection(nullTransport);
    for (const c of cs) p.dataReceived(c);
    return seen;
  };
}
const runLineReceiver = receiverRun(CountingLines);
const runLineOnlyReceiver = receiverRun(CountingLineOnly);
const runInt32Receiver = receiverRun(CountingStrings);

/** The baseline: one indexOf loop, the tail concatenated onto the next chunk. */
function runPlainSplit(cs) {
  let n = 0;
  let tail = null;
  const delim = Buffer.from('\r\n');
  for (const c of cs) {
    const buf = tail === null ? c : Buffer.concat([tail, c]);
    let pos = 0;
    let i;
    while ((i = buf.indexOf(delim, pos)) >= 0) {
      n += buf.subarray(pos, i).length >= 0 ? 1 : 0;
      pos = i + 2;
    }
    tail = pos < buf.length ? buf.subarray(pos) : null;
  }
  return n;
}

/** A second baseline: the same loop searching the first delimiter byte with indexOf(number), as the receiver does. */
function runPlainByteSplit(cs) {
  let n = 0;
  let tail = null;
  for (const c of cs) {
    const buf = tail === null ? c : Buffer.concat([tail, c]);
    let pos = 0;
    let i;
    while ((i = buf.indexOf(13, pos)) >= 0 && i + 1 < buf.length) {
      if (buf[i + 1] !== 10) {
        pos = i + 1;
        continue;
      }
      n += buf.subarray(pos, i).length >= 0 ? 1 : 0;
      pos = i + 2;
    }
    tail = pos < buf.length ? buf.subarray(pos) : null;
  }
  return n;
}

/** The baseline: read the prefix, slice, the tail concatenated onto the next chunk. */
function runPlainInt32(cs) {
  let n = 0;
  let tail = null;
  for (const c of cs) {
    const buf = tail === null ? c : Buffer.concat([tail, c]);
    let pos = 0;
    while (buf.length - pos >= 4) {
      const end = pos + 4 + buf.readUInt32BE(pos);
      if (end > buf.length) break;
      n += buf.subarray(pos + 4, end).length >= 0 ? 1 : 0;
      pos = end;
    }
    tail = pos < buf.length ? buf.subarray(pos) : null;
  }
  return n;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn, cs, bytes) {
  const t0 = process.hrtime.bigint();
  const n = fn(cs);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { mbps: bytes / 1e6 / secs, n };
}

/** Runs the systems in turn, round after round (A B C A B C ...), and prints medians and ratios to the first baseline. */
function compare(label, subject, baselines, stream) {
  const cs = chunks(stream);
  const all = [subject, ...baselines.map(([, fn]) => fn)];
  const rates = all.map(() => []);
  for (const fn of all) time(fn, cs, stream.length); // warm-up, not counted
  for (let r = 0; r < ROUNDS; r++) {
    const results = all.map((fn) => time(fn, cs, stream.length));
    if (results.some((x) => x.n !== results[0].n)) throw new Error(`${label}: counts differ (${results.map((x) => x.n)})`);
    results.forEach((x, i) => rates[i].push(x.mbps));
  }
  const med = rates.map(median);
  const rest = baselines.map(([name], i) => `${name} ${med[i + 1].toFixed(0).padStart(6)} MB/s (x${(med[0] / med[i + 1]).toFixed(2)})`);
  console.log(`${label.padEnd(36)} ${med[0].toFixed(0).padStart(6)} MB/s | ${rest.join(' | ')}`);
}

console.log(`parsers: ${MB} MB per run, ${CHUNK / 1024} KiB chunks, median of ${ROUNDS} alternating rounds (node ${process.version})`);
const lineBaselines = [
  ['plain indexOf(Buffer)', runPlainSplit],
  ['plain indexOf(byte)', runPlainByteSplit],
];
for (const size of [64, 1024]) {
  const stream = lineStream(size);
  compare(`LineReceiver, ${size} B lines`, runLineReceiver, lineBaselines, stream);
  compare(`LineOnlyReceiver, ${size} B lines`, runLineOnlyReceiver, lineBaselines, stream);
}
for (const size of [64, 1024]) compare(`Int32StringReceiver, ${size} B frames`, runInt32Receiver, [['plain readUInt32BE', runPlainInt32]], int32Stream(size));
