/**
 * The reactor's timers under stress, on every backend: a zero-delay call
 * that reschedules itself forever does not starve I/O; a million calls
 * scheduled and cancelled leave no memory behind (and no armed timer: the
 * child exits); and timers follow a monotonic clock, so a wall-clock jump
 * (Date.now moved by a day either way) neither fires them early nor reorders
 * them, and reactor.seconds() does not follow it.
 */
import * as net from 'net';
import { performance } from 'perf_hooks';
import type { IPv4Address } from '../lib/address';
import { Factory } from '../lib/protocol';
import { createReactor, Reactor } from '../lib/reactor';
import type { DelayedCall } from '../lib/timers';
import { forEachBackend } from './helpers/backends';
import { expectIdleCpu, fdBaseline, warmUp, withTimeout } from './helpers/checks';
import { runNode } from './helpers/child';
import { Echo, signal } from './helpers/tcp';

jest.setTimeout(30000);

const DAY_MS = 24 * 3600 * 1000;

/** Moves Date.now() by `offsetMs` until the returned function is called. */
function shiftWallClock(offsetMs: number): () => void {
  const real = Date.now;
  Date.now = () => real.call(Date) + offsetMs;
  return () => {
    Date.now = real;
  };
}

// Child: a million callLater+cancel, one by one and in batches of 10,000; heap after GC vs before.
const cancelScript = `
const { createReactor } = require('./lib/reactor/index.ts');
const r = createReactor({ backend: process.argv[1] });
const noop = () => {};
const heap = () => { global.gc(); global.gc(); return process.memoryUsage().heapUsed; };
// Warm the code paths so JIT code and inline caches are in the baseline.
for (let i = 0; i < 10000; i++) r.callLater(100 + (i % 7), noop).cancel();
const before = heap();
for (let i = 0; i < 500000; i++) r.callLater(1000 + (i % 100), noop).cancel();
let peakPending = 0;
for (let b = 0; b < 50; b++) {
  const calls = [];
  for (let i = 0; i < 10000; i++) calls.push(r.callLater(1000 + ((i * 7919) % 1000) / 10, noop));
  peakPending = Math.max(peakPending, r.getDelayedCalls().length);
  for (const c of calls) c.cancel();
}
const after = heap();
console.log(JSON.stringify({ before, after, peakPending, pending: r.getDelayedCalls().length }));
// Nothing pending: no timer may be left armed, so the process exits on its own.
`;

forEachBackend('Timers under stress', (backend) => {
  let r: Reactor;

  beforeAll(() => warmUp(backend));

  beforeEach(() => {
    r = createReactor({ backend });
  });

  afterEach(() => r.close());

  it('a zero-delay call that reschedules itself does not starve I/O', async () => {
    const fds = await fdBaseline();
    let spins = 0;
    let spinning = true;
    let current: DelayedCall | null = null;
    const spin = (): void => {
      spins++;
      if (spinning) current = r.callLater(0, spin);
    };
    current = r.callLater(0, spin);
    const port = r.listenTCP(0, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
    const sock = net.connect((port.getHost() as IPv4Address).port, '127.0.0.1');
    const closed = new Promise((resolve) => sock.once('close', resolve));
    try {
      // Round trips until the timer has also run at least 50 more times: both make progress.
      let trips = 0;
      const spinsAtFirst = spins;
      const started = Date.now();
      while (trips < 20 || spins < spinsAtFirst + 50) {
        const echoed = signal();
        sock.once('data', () => echoed.resolve());
        sock.write('ping');
        await withTimeout(echoed.promise, 2000, `echo round trip ${trips} while the timer spins (${spins} spins)`);
        trips++;
        if (Date.now() - started > 5000) throw new Error(`the timer spun ${spins - spinsAtFirst} times in 5 s of round trips`);
      }
    } finally {
      spinning = false;
      (current as DelayedCall | null)?.cancel();
      sock.destroy();
      await closed;
      await port.stopListening();
    }
    expect(r.getDelayedCalls()).toEqual([]);
    r.close();
    await fds.expectBack();
    await expectIdleCpu();
  });

  it('1,000,000 calls scheduled then cancelled leave the heap where it was and nothing armed', async () => {
    const res = await runNode(cancelScript, [backend], 60000, ['--expose-gc']);
    expect({ timedOut: res.timedOut, code: res.code, stderr: res.stderr }).toEqual({ timedOut: false, code: 0, stderr: '' });
    const out = JSON.parse(res.stdout) as { before: number; after: number; peakPending: number; pending: number };
    expect(out.peakPending).toBe(10000);
    expect(out.pending).toBe(0);
    expect(out.after - out.before).toBeLessThan(4 * 1024 * 1024);
  }, 70000);

  it.each([
    ['forward', DAY_MS],
    ['backward', -DAY_MS],
  ])('a wall-clock jump %s by a day does not fire timers early or reorder them', async (_dir, offset) => {
    const fired: { name: string; atMs: number }[] = [];
    const t0 = performance.now();
    const s0 = r.seconds();
    expect(Math.abs(s0 * 1000 - Date.now())).toBeLessThan(1000); // epoch seconds
    const all = signal();
    const delays: [string, number][] = [
      ['a', 0.06],
      ['b', 0.03],
      ['c', 0.09],
      ['d', 0.03],
    ];
    for (const [name, delay] of delays) {
      r.callLater(delay, () => {
        fired.push({ name, atMs: performance.now() - t0 });
        if (fired.length === delays.length) all.resolve();
      });
    }
    const restore = shiftWallClock(offset);
    try {
      // The reactor's clock does not see the jump.
      expect(Math.abs(r.seconds() - s0 - (performance.now() - t0) / 1000)).toBeLessThan(0.05);
      await withTimeout(all.promise, 5000, 'the timers');
      expect(fired.map((f) => f.name)).toEqual(['b', 'd', 'a', 'c']);
      for (const f of fired) {
        const due = delays.find(([n]) => n === f.name)![1] * 1000;
        expect({ name: f.name, early: f.atMs < due - 1 }).toEqual({ name: f.name, early: false });
      }
      expect(r.seconds() - s0).toBeLessThan(5);
      expect(r.seconds() - s0).toBeGreaterThanOrEqual(0.09);
    } finally {
      restore();
    }
  });
});
