'use strict';
/**
 * A chain of 10 synchronous callbacks on a Deferred vs the same chain on a
 * native Promise (including awaiting its settlement). Rounds alternate A/B;
 * the median time per chain of each is printed with their ratio.
 * Build first: `npm run build`. Run: `node bench/defer-vs-promise.js [chains] [rounds]`.
 */
const { Deferred } = require('../dist/defer');

const CHAINS = Number(process.argv[2]) || 100000;
const ROUNDS = Math.max(5, Number(process.argv[3]) || 7);
const LENGTH = 10;

const inc = (x) => x + 1;

function deferredChain() {
  const d = new Deferred();
  for (let i = 0; i < LENGTH; i++) d.addCallback(inc);
  d.callback(0);
  return d.result;
}

async function promiseChain() {
  let resolve;
  let p = new Promise((r) => (resolve = r));
  for (let i = 0; i < LENGTH; i++) p = p.then(inc);
  resolve(0);
  return await p;
}

async function timeDeferred() {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CHAINS; i++) sink += deferredChain();
  const t1 = process.hrtime.bigint();
  if (sink !== CHAINS * LENGTH) throw new Error('wrong Deferred result');
  return Number(t1 - t0) / CHAINS;
}

async function timePromise() {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CHAINS; i++) sink += await promiseChain();
  const t1 = process.hrtime.bigint();
  if (sink !== CHAINS * LENGTH) throw new Error('wrong Promise result');
  return Number(t1 - t0) / CHAINS;
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  await timeDeferred(); // warm-up both
  await timePromise();
  const a = [];
  const b = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      a.push(await timeDeferred());
      b.push(await timePromise());
    } else {
      b.push(await timePromise());
      a.push(await timeDeferred());
    }
  }
  const ma = median(a);
  const mb = median(b);
  console.log(`chain of ${LENGTH} callbacks, ${CHAINS} chains x ${ROUNDS} rounds (A/B alternating), median per chain:`);
  console.log(`  Deferred : ${ma.toFixed(0)} ns   [${a.map((x) => x.toFixed(0)).join(' ')}]`);
  console.log(`  Promise  : ${mb.toFixed(0)} ns   [${b.map((x) => x.toFixed(0)).join(' ')}]`);
  console.log(`  Deferred is ${(mb / ma).toFixed(2)}x the speed of Promise (Promise time / Deferred time)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
