'use strict';
/**
 * WebSocket unmasking: the library's applyMask (4-byte steps, then Int32
 * words) against a plain byte loop, per payload size, on an unaligned view.
 * Usage: node bench/websocket-mask.js   (after npm run build)
 */
const { applyMask } = require('../dist/reactor/mask.js');

function byteLoop(d, s, e, k, ka) {
  for (let i = s, j = 0; i < e; i++, j++) d[i] ^= k[ka + (j & 3)];
}

function time(fn, buf, iters, key) {
  for (let i = 0; i < 1000; i++) fn(buf, 0, buf.length, key, 0);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) fn(buf, 0, buf.length, key, 0);
  return Number(process.hrtime.bigint() - t0) / iters;
}

const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
console.log('size      byte loop     applyMask     speed-up');
for (const n of [16, 64, 125, 1024, 16384, 65536]) {
  const buf = Buffer.alloc(n + 1).subarray(1);
  const iters = Math.max(2000, Math.floor(2e7 / n));
  const a = time(byteLoop, buf, iters, key);
  const b = time(applyMask, buf, iters, key);
  console.log(`${String(n).padEnd(8)}  ${a.toFixed(0).padStart(8)} ns   ${b.toFixed(0).padStart(8)} ns   ${(a / b).toFixed(1)}x`);
}
