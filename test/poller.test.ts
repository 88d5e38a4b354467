/**
 * The public Poller on every backend: trigger modes, HANGUP/ERROR, callback
 * mode from inside Node's loop, stale events, thousands of fds, bad input,
 * idle CPU and whether a poller keeps the process alive.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { BackendUnavailableError, PollerError } from '../lib/errors';
import { Events, Poller, resolveBackend } from '../lib/poller';
import type { PollerEvent } from '../lib/poller';
import { RECORD_INTS, Rec, STRING_AT_ONCE, loadNative } from '../lib/native';
import type { NativeLoop } from '../lib/native';
import { backendNames, forEachBackend } from './helpers/backends';
import { ROOT, runNode } from './helpers/child';
import { Pipes, drain, fill } from './helpers/fds';

const { READABLE, WRITABLE, ERROR, HANGUP } = Events;

/** Runs `fn` and returns the PollerError it throws (fails the test when it does not). */
function pollerError(fn: () => unknown): PollerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PollerError);
    return e as PollerError;
  }
  throw new Error('expected a PollerError, nothing was thrown');
}

function eventsFor(list: PollerEvent[], fd: number): number[] {
  return list.filter((e) => e.fd === fd).map((e) => e.events);
}

forEachBackend('Poller', (backend) => {
  let pipes: Pipes;
  let poller: Poller | undefined;

  beforeEach(() => {
    pipes = new Pipes();
  });

  afterEach(() => {
    poller?.close();
    poller = undefined;
    pipes.closeAll();
  });

  function open(options: ConstructorParameters<typeof Poller>[0] = {}): Poller {
    poller = new Poller({ backend, ...options });
    return poller;
  }

  it('reports the backend it runs on', () => {
    expect(open().backend).toBe(backend);
  });

  it('level trigger re-reports until the data is read', () => {
    const p = open();
    const { r, w } = pipes.one();
    p.add(r, READABLE);
    expect(p.wait(0)).toEqual([]);
    fill(w);
    expect(p.wait(0)).toEqual([{ fd: r, events: READABLE }]);
    expect(p.wait(0)).toEqual([{ fd: r, events: READABLE }]);
    drain(r);
    expect(p.wait(0)).toEqual([]);
  });

  it('edge trigger reports once until new data arrives (refused by poll)', () => {
    const p = open();
    const { r, w } = pipes.one();
    if (backend === 'poll') {
      const err = pollerError(() => p.add(r, READABLE, { trigger: 'edge' }));
      expect(err.code).toBe('ENOTSUP');
      expect(err.fd).toBe(r);
      expect(err.message).toMatch(/poll backend does not support/);
      expect(p.has(r)).toBe(false);
      return;
    }
    p.add(r, READABLE, { trigger: 'edge' });
    fill(w);
    expect(p.wait(0)).toEqual([{ fd: r, events: READABLE }]);
    expect(p.wait(0)).toEqual([]);
    fill(w);
    expect(p.wait(0)).toEqual([{ fd: r, events: READABLE }]);
    expect(p.wait(0)).toEqual([]);
  });

  it('oneshot reports once until modify() re-arms it', () => {
    const p = open();
    const { r, w } = pipes.one();
    p.add(r, READABLE, { oneshot: true });
    fill(w);
    expect(p.wait(0)).toEqual([{ fd: r, events: READABLE }]);
    expect(p.wait(0)).toEqual([]);
    fill(w);
    expect(p.wait(0)).toEqual([]);
    p.modify(r, READABLE, { oneshot: true });
    expect(p.wait(0)).toEqual([{ fd: r, events: READABLE }]);
    expect(p.wait(0)).toEqual([]);
  });

  it('modify() switches interest between readable and writable', () => {
    const p = open();
    const { r, w } = pipes.one();
    p.add(w, READABLE);
    expect(p.wait(0)).toEqual([]);
    p.modify(w, WRITABLE);
    expect(p.wait(0)).toEqual([{ fd: w, events: WRITABLE }]);
    p.add(r, READABLE);
    fill(w);
    const got = p.wait(0);
    expect(eventsFor(got, r)).toEqual([READABLE]);
    expect(eventsFor(got, w)).toEqual([WRITABLE]);
  });

  it('reports HANGUP on a read end whose writer closed', () => {
    const p = open();
    const { r, w } = pipes.one();
    p.add(r, READABLE);
    pipes.close(w);
    const got = p.wait(0);
    expect(got).toHaveLength(1);
    expect(got[0].fd).toBe(r);
    expect(got[0].events & HANGUP).toBe(HANGUP);
  });

  it('reports ERROR on a write end whose reader closed', () => {
    const p = open();
    const { r, w } = pipes.one();
    p.add(w, WRITABLE);
    pipes.close(r);
    const got = p.wait(0);
    expect(got).toHaveLength(1);
    expect(got[0].fd).toBe(w);
    expect(got[0].events & ERROR).toBe(ERROR);
  });

  it('wait(timeout) blocks for about the timeout when nothing is ready', () => {
    const p = open();
    const { r } = pipes.one();
    p.add(r, READABLE);
    const t0 = process.hrtime.bigint();
    expect(p.wait(50)).toEqual([]);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(ms).toBeGreaterThanOrEqual(45);
    expect(ms).toBeLessThan(2000);
  });

  it('onEvents: dispatches from inside Node\'s loop, beside timers and promises', async () => {
    const { r, w } = pipes.one();
    const got = await new Promise<[number, number]>((resolve) => {
      const p = open({
        onEvents: (fd, events) => {
          p.remove(fd);
          resolve([fd, events]);
        },
      });
      p.add(r, READABLE);
      setImmediate(() => fill(w));
    });
    expect(got).toEqual([r, READABLE]);
    expect(() => poller?.wait(0)).toThrow(/onEvents/);
  });

  it('drops events of an fd removed, closed and its number reused earlier in the same batch', async () => {
    const trigger = pipes.one();
    const [a, b] = pipes.make(2);
    const spare = pipes.fifos(1)[0];
    const seen: [number, number][] = [];
    let victim = -1;
    let fresh = -1;
    fill(trigger.w);
    fill(a.w);
    fill(b.w);
    await new Promise<void>((resolve) => {
      const p = open({
        onEvents: (fd, events) => {
          seen.push([fd, events]);
          if (fd === trigger.r) {
            // Added while this batch is being handled, so the next wait sees a and b together.
            p.remove(trigger.r);
            p.add(a.r, READABLE);
            p.add(b.r, READABLE);
          } else if (victim < 0) {
            victim = fd === a.r ? b.r : a.r;
            // Fill every lower hole in the fd table, so the next open takes the number closed now.
            while (pipes.track(fs.openSync('/dev/null', 'r')) < victim);
            p.remove(victim);
            pipes.close(victim);
            // The lowest free number is the one just closed: the new fifo's read end reuses it.
            fresh = pipes.openFifo(spare).r;
            p.add(fresh, READABLE);
            setImmediate(resolve);
          }
        },
      });
      p.add(trigger.r, READABLE);
    });
    expect(fresh).toBe(victim);
    // The victim's record was in the same batch; the new registration is not readable.
    const afterFirst = seen.slice(1);
    expect(afterFirst.length).toBeGreaterThanOrEqual(1);
    expect(afterFirst.filter(([fd]) => fd === fresh)).toEqual([]);
  });

  it('close() inside onEvents stops the rest of the batch', async () => {
    const list = pipes.make(3);
    for (const { w } of list) fill(w);
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      const p = open({
        onEvents: (fd) => {
          seen.push(fd);
          p.close();
          setImmediate(resolve);
        },
      });
      for (const { r } of list) p.add(r, READABLE);
    });
    expect(seen).toHaveLength(1);
    expect(poller?.closed).toBe(true);
  });

  it('registers 5000+ fds and reports the right events for each', () => {
    const p = open();
    const list = pipes.make(2600);
    const expected = new Map<number, number>();
    list.forEach(({ r, w }, i) => {
      if (i % 2 === 0) {
        fill(w);
        expected.set(r, READABLE);
      }
      expected.set(w, WRITABLE);
      p.add(r, READABLE);
      p.add(w, WRITABLE);
    });
    const got = new Map<number, number>();
    // More are ready than one wait() returns; the union of a few covers all.
    for (let i = 0; i < 6 && got.size < expected.size; i++) {
      for (const { fd, events } of p.wait(0)) {
        expect(expected.get(fd)).toBe(events);
        got.set(fd, events);
      }
    }
    expect(got.size).toBe(expected.size);
    expect(got).toEqual(expected);
  });

  it('calls made inside onEvents see a consistent registry across thousands of events', async () => {
    const list = pipes.make(1500);
    const remaining = new Set(list.map(({ w }) => w));
    await new Promise<void>((resolve) => {
      const p = open({
        onEvents: (fd, events) => {
          expect(events).toBe(WRITABLE);
          expect(remaining.delete(fd)).toBe(true);
          p.remove(fd);
          if (remaining.size === 0) resolve();
        },
      });
      for (const { w } of list) p.add(w, WRITABLE);
    });
    expect(remaining.size).toBe(0);
  });

  describe('bad input', () => {
    it('refuses a negative, fractional or non-number fd', () => {
      const p = open();
      for (const bad of [-1, 1.5, NaN, '3', null]) {
        const err = pollerError(() => p.add(bad as number, READABLE));
        expect(err.code).toBe('EINVAL');
        expect(err.message).toMatch(/fd must be a non-negative integer/);
      }
    });

    it('refuses a closed fd, naming it', () => {
      const p = open();
      const { r } = pipes.one();
      pipes.close(r);
      const err = pollerError(() => p.add(r, READABLE));
      expect(err.code).toBe('EBADF');
      expect(err.fd).toBe(r);
      expect(err.message).toContain(`fd ${r}`);
    });

    it('refuses an fd added twice, and modify/remove of an unregistered fd', () => {
      const p = open();
      const { r, w } = pipes.one();
      p.add(r, READABLE);
      const twice = pollerError(() => p.add(r, READABLE));
      expect(twice.code).toBe('EEXIST');
      expect(twice.message).toContain(`fd ${r} is already registered`);
      expect(pollerError(() => p.modify(w, READABLE)).code).toBe('ENOENT');
      const rm = pollerError(() => p.remove(w));
      expect(rm.code).toBe('ENOENT');
      expect(rm.message).toContain(`fd ${w} is not registered`);
      p.remove(r);
      expect(pollerError(() => p.remove(r)).code).toBe('ENOENT');
    });

    it('refuses bad events, trigger, oneshot and timeout values', () => {
      const p = open();
      const { r } = pipes.one();
      for (const ev of [16, -1, 1.5, 'r']) expect(pollerError(() => p.add(r, ev as number)).code).toBe('EINVAL');
      expect(pollerError(() => p.add(r, READABLE, { trigger: 'rising' as 'edge' })).message).toMatch(/trigger must be/);
      expect(pollerError(() => p.add(r, READABLE, { oneshot: 1 as unknown as boolean })).code).toBe('EINVAL');
      expect(p.has(r)).toBe(false);
      for (const t of [-2, 0.5, NaN, 2 ** 31]) expect(pollerError(() => p.wait(t)).code).toBe('EINVAL');
    });

    it('removing an fd that was closed first still drops the registration', () => {
      const p = open();
      const { r, w } = pipes.one();
      p.add(r, READABLE);
      fill(w);
      pipes.close(r);
      p.remove(r);
      expect(p.has(r)).toBe(false);
      expect(p.wait(0)).toEqual([]);
    });

    it('every call after close() throws; close() twice is fine', () => {
      const p = open();
      const { r } = pipes.one();
      p.add(r, READABLE);
      p.close();
      p.close();
      expect(p.closed).toBe(true);
      for (const call of [() => p.add(r, READABLE), () => p.modify(r, READABLE), () => p.remove(r), () => p.wait(0), () => p.unref()]) {
        const err = pollerError(call);
        expect(err.code).toBe('ECLOSED');
        expect(err.message).toMatch(/the poller is closed/);
      }
    });
  });
});

describe('Poller backend choice', () => {
  it('defaults to the best backend and accepts each available one by name', () => {
    const names = backendNames();
    expect(names.length).toBeGreaterThan(0);
    expect(resolveBackend()).toBe(names[0]);
    for (const name of names) expect(resolveBackend(name)).toBe(name);
    if (process.platform === 'linux') expect(names[0]).toBe('epoll');
  });

  it('a backend the platform lacks throws a typed error listing the available ones', () => {
    const missing = ['epoll', 'kqueue', 'poll'].find((b) => !backendNames().includes(b)) ?? 'nonsense';
    let err: unknown;
    try {
      new Poller({ backend: missing });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toBe(
      `backend '${missing}' is not available on ${process.platform} (available: ${backendNames().join(', ')})`,
    );
    expect(() => new Poller({ backend: 42 as unknown as string })).toThrow(BackendUnavailableError);
  });
});

// ---- the process around the poller (children, so that a hang or abort cannot take jest down) ----

const childPrelude = `
const { Poller, Events } = require('./lib/poller.ts');
const { Pipes, fill } = require('./test/helpers/fds.ts');
const backend = process.argv[1];
const pipes = new Pipes();
process.on('exit', () => pipes.closeAll());
`;

forEachBackend('Poller and the process', (backend) => {
  it('a poller with nothing registered, or closed, lets the process exit', async () => {
    const res = await runNode(
      `${childPrelude}
      const idle = new Poller({ backend, onEvents() {} });
      const closed = new Poller({ backend, onEvents() {} });
      closed.add(pipes.one().r, Events.READABLE);
      closed.close();
      console.log('set up');`,
      [backend],
    );
    expect(res.timedOut).toBe(false);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('set up\n');
    expect(res.code).toBe(0);
  });

  it('a registered fd keeps the process alive until removed', async () => {
    const res = await runNode(
      `${childPrelude}
      const { r } = pipes.one();
      const p = new Poller({ backend, onEvents() {} });
      p.add(r, Events.READABLE);
      // An unref'd timer cannot keep the process alive; only the poller can.
      setTimeout(() => { console.log('still alive'); p.remove(r); }, 300).unref();`,
      [backend],
    );
    expect(res.timedOut).toBe(false);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('still alive\n');
    expect(res.code).toBe(0);
  });

  it('unref() of the poller or of the fd lets the process exit', async () => {
    const res = await runNode(
      `${childPrelude}
      const a = new Poller({ backend, onEvents() {} });
      a.add(pipes.one().r, Events.READABLE);
      a.unref();
      const b = new Poller({ backend, onEvents() {} });
      const { r } = pipes.one();
      b.add(r, Events.READABLE);
      b.unref(r);
      b.add(pipes.one().r, Events.READABLE, { ref: false });
      setTimeout(() => console.log('kept alive'), 3000).unref();
      console.log('set up');`,
      [backend],
    );
    expect(res.timedOut).toBe(false);
    expect(res.stdout).toBe('set up\n');
    expect(res.code).toBe(0);
  });

  it('an idle poller with a registered fd costs under 5% of a core', async () => {
    const res = await runNode(
      `${childPrelude}
      const p = new Poller({ backend, onEvents() { throw new Error('no event expected'); } });
      p.add(pipes.one().r, Events.READABLE);
      // Up to three 1 s windows, stopping at the first under 50 ms: a spin or a
      // short-interval timer costs that in every one; a fresh process's own
      // start-up work (compiling, collecting; slower under ASan) does not.
      const windows = [];
      (function measure() {
        const start = process.cpuUsage();
        setTimeout(() => {
          const used = process.cpuUsage(start);
          windows.push((used.user + used.system) / 1000);
          if (windows[windows.length - 1] >= 50 && windows.length < 3) return measure();
          console.log(JSON.stringify({ windows }));
          p.close();
        }, 1000);
      })();`,
      [backend],
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const { windows } = JSON.parse(res.stdout) as { windows: number[] };
    expect(Math.min(...windows)).toBeLessThan(50);
  });

  it('a poller dropped without close() is collected and its fds released', async () => {
    const res = await runNode(
      `${childPrelude}
      const { openFdCount } = require('./test/helpers/fds.ts');
      const list = pipes.make(4);
      const baseline = openFdCount();
      (function drop() {
        // Wait mode, and callback mode with only unref'd registrations: nothing holds them.
        for (let i = 0; i < 10; i++) new Poller({ backend }).add(list[i % 4].r, Events.READABLE);
        for (let i = 0; i < 10; i++) {
          const p = new Poller({ backend, onEvents() {} });
          p.add(list[i % 4].w, Events.WRITABLE, { ref: false });
        }
      })();
      const opened = openFdCount();
      let turns = 0;
      (function collect() {
        global.gc();
        if (openFdCount() === baseline || ++turns > 200) {
          console.log(JSON.stringify({ baseline, opened, after: openFdCount() }));
          return;
        }
        setImmediate(collect);
      })();`,
      [backend],
      10000,
      ['--expose-gc'],
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { baseline: number; opened: number; after: number };
    expect(out.opened).toBeGreaterThanOrEqual(out.baseline + 20);
    expect(out.after).toBe(out.baseline);
  });

  it('a started poller with ref\'d registrations stays alive with no JS reference to it', async () => {
    const res = await runNode(
      `${childPrelude}
      const { r, w } = pipes.one();
      (function forget() {
        const p = new Poller({ backend, onEvents(fd) { console.log('event on a forgotten poller'); p.remove(fd); } });
        p.add(r, Events.READABLE);
      })();
      global.gc();
      setImmediate(() => { global.gc(); setImmediate(() => fill(w)); });`,
      [backend],
      10000,
      ['--expose-gc'],
    );
    expect(res.timedOut).toBe(false);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('event on a forgotten poller\n');
    expect(res.code).toBe(0);
  });

  it('process.exit() and a fatal exception with live registrations exit with their code, no abort', async () => {
    const live = `const p = new Poller({ backend, onEvents() {} }); p.add(pipes.one().r, Events.READABLE);`;
    const exited = await runNode(`${childPrelude} ${live} setImmediate(() => process.exit(3));`, [backend]);
    expect(exited.timedOut).toBe(false);
    expect([exited.code, exited.signal]).toEqual([3, null]);
    const thrown = await runNode(`${childPrelude} ${live} setImmediate(() => { throw new Error('fatal'); });`, [backend]);
    expect(thrown.timedOut).toBe(false);
    expect([thrown.code, thrown.signal]).toEqual([1, null]);
    expect(thrown.stderr).toContain('Error: fatal');
  });

  it('a callback that throws surfaces as uncaughtException', async () => {
    const res = await runNode(
      `${childPrelude}
      const { r, w } = pipes.one();
      process.on('uncaughtException', (e) => { console.log('caught ' + e.message); p.close(); });
      const p = new Poller({ backend, onEvents() { throw new Error('boom'); } });
      p.add(r, Events.READABLE);
      fill(w);`,
      [backend],
    );
    expect(res.timedOut).toBe(false);
    expect(res.stdout).toBe('caught boom\n');
    expect(res.code).toBe(0);
  });
});

it('the child helper runs from the repository root', () => {
  expect(fs.existsSync(`${ROOT}/lib/poller.ts`)).toBe(true);
});

// ---- the bridge itself: the NativeLoop contract other layers build on ----

forEachBackend('NativeLoop bridge', (backend) => {
  const { NativeLoop } = loadNative();
  let pipes: Pipes;
  let loop: NativeLoop | undefined;
  const calls: number[] = [];

  beforeEach(() => {
    pipes = new Pipes();
    calls.length = 0;
    loop = new NativeLoop(backend, (count) => calls.push(count));
  });

  afterEach(() => {
    loop?.close();
    pipes.closeAll();
  });

  const bad: unknown[] = [undefined, null, -1, 1.5, NaN, Infinity, 2 ** 53, '1', {}, [], true];
  const methods: [string, number][] = [
    ['pollOnce', 1], ['addRaw', 4], ['modifyRaw', 5], ['remove', 2], ['generation', 1], ['fdOf', 2],
    ['setRef', 3], ['listen', 5], ['setAcceptBatch', 3], ['resumeAccepting', 2], ['connect', 5],
    ['adoptStream', 1], ['write', 3], ['writev', 3], ['buffered', 2], ['shutdownWrite', 2],
    ['pauseReading', 2], ['resumeReading', 2], ['setNoDelay', 3], ['setKeepAlive', 3], ['setReadLowWater', 3],
    ['localAddress', 2], ['peerAddress', 2],
  ];

  function callAll(target: NativeLoop, check: (name: string, ret: unknown) => void): void {
    const table = target as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const [name, arity] of methods) {
      for (const value of bad) {
        if (name === 'pollOnce' && value === -1) continue; // valid: wait forever
        check(name, table[name](...Array.from({ length: arity }, () => value)));
        // One bad argument after valid-looking ones.
        check(name, table[name](...Array.from({ length: arity - 1 }, () => 0), value));
      }
      check(name, table[name]());
    }
  }

  it('answers every malformed call with -errno, never a throw or a crash', () => {
    const l = loop as NativeLoop;
    callAll(l, (name, ret) => {
      if (typeof ret !== 'number' || ret >= 0) throw new Error(`${name} returned ${String(ret)}`);
    });
    expect(l.remove(1e6, 1)).toBe(-9); // EBADF: no such slot
    expect(() => new NativeLoop('nope', () => undefined)).toThrow(/backend 'nope' is not available/);
    // The addon's errors come from Node's realm, not jest's: compare by name.
    expect(() => new (NativeLoop as unknown as new (b: string) => unknown)(backend)).toThrow(
      expect.objectContaining({ name: 'TypeError', message: 'NativeLoop(backend: string, callback: function)' }),
    );
  });

  it('returns -EBADF for every call after close()', () => {
    const l = loop as NativeLoop;
    const { r } = pipes.one();
    const slot = l.addRaw(r, READABLE, false, false);
    expect(slot).toBeGreaterThanOrEqual(0);
    const gen = l.generation(slot);
    l.close();
    callAll(l, (name, ret) => {
      if (ret !== -9) throw new Error(`${name} after close returned ${String(ret)}`);
    });
    expect(l.addRaw(r, READABLE, false, false)).toBe(-9);
    expect(l.remove(slot, gen)).toBe(-9);
    expect(l.close() as unknown).toBe(0);
  });

  it('refcount() (an extension method) follows add, setRef and remove, and is -EBADF once closed', () => {
    const l = loop as NativeLoop;
    const refcount = (l as unknown as { refcount(): number }).refcount.bind(l);
    const [a, b] = pipes.make(2);
    expect(refcount()).toBe(0);
    const sa = l.addRaw(a.r, READABLE, false, false);
    const sb = l.addRaw(b.r, READABLE, false, false);
    expect(refcount()).toBe(2);
    expect(l.setRef(sa, l.generation(sa), false)).toBe(0);
    expect(refcount()).toBe(1);
    expect(l.remove(sb, l.generation(sb))).toBe(0);
    expect(refcount()).toBe(0);
    l.close();
    expect(refcount()).toBe(-9);
  });

  it('every method is bound to its own loop: taken off it or called on another object, it acts on that loop', () => {
    const l = loop as NativeLoop;
    const other = new NativeLoop(backend, () => undefined);
    try {
      const { addRaw, generation, remove, refcount, stats, writev } = l;
      const { r } = pipes.one();
      const slot = addRaw(r, READABLE, false, true);
      expect(slot).toBeGreaterThanOrEqual(0);
      const gen = generation(slot);
      expect([refcount(), other.refcount()]).toEqual([1, 0]);
      for (const self of [undefined, null, 7, {}, other]) {
        expect(Reflect.apply(l.fdOf, self, [slot, gen])).toBe(r);
        expect(Reflect.apply(other.fdOf, self, [slot, gen])).toBe(-9); // nothing registered there
      }
      expect((writev as (...a: unknown[]) => number)(slot, gen, 'no')).toBe(-22); // the same argument checks
      expect(Reflect.apply(remove, other, [slot, gen])).toBe(0);
      expect([refcount(), stats().events]).toEqual([0, 0]);
      l.close();
      expect([refcount(), addRaw(r, READABLE, false, false), stats().wakeups]).toEqual([-9, -9, 0]);
    } finally {
      other.close();
    }
  });

  /**
   * Runs `setup` in a child (strict, --expose-gc, `NativeLoop` and `util` in
   * scope), then collects garbage over turns of its loop (`turns` at most,
   * fewer once `done` holds) and prints `report`. Returns what it printed;
   * the child must have written no error and exited 0.
   */
  async function afterGc(setup: string, report: string, turns = 5, done = 'false'): Promise<string> {
    const res = await runNode(
      `'use strict';
      const util = require('util');
      const { loadNative } = require('./lib/native.ts');
      const { NativeLoop } = loadNative();
      ${setup}
      let turns = 0;
      (function collect() {
        global.gc();
        if (!(${done}) && ++turns < ${turns}) return setImmediate(collect);
        console.log(${report});
      })();`,
      [backend],
      10000,
      ['--expose-gc'],
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    return res.stdout;
  }

  it('a method taken off a loop keeps the loop alive: the loop is collected only with it', async () => {
    const setup = 'const kept = (() => new NativeLoop(process.argv[1], () => undefined).refcount)();';
    expect(await afterGc(setup, 'kept(), kept.call(undefined)')).toBe('0 0\n');
  });

  it("a method's hold on its loop can be neither deleted nor replaced, and does not show in inspect", async () => {
    // Deleting the holder let GC free the loop under a live function (a crash when it was then called).
    const setup = `const [refcount, stats, close, write] = (() => {
        const l = new NativeLoop(process.argv[1], () => undefined);
        const out = [l.refcount, l.stats, l.close, l.write];
        for (const fn of out) {
          const [key] = Object.getOwnPropertySymbols(fn);
          for (const cut of [() => delete fn[key], () => { fn[key] = {}; }]) {
            try { cut(); console.log('cut'); } catch (e) { if (!(e instanceof TypeError)) throw e; }
          }
        }
        return out;
      })();`;
    const report = 'refcount(), typeof stats().wakeups, close(), write(0, 1, Buffer.alloc(1)), util.inspect(refcount)';
    expect(await afterGc(setup, report)).toBe('0 number 0 -9 [Function: refcount]\n');
  });

  it('a loop and the methods taken off it are collected together once neither is reachable', async () => {
    const setup = `let collected = false;
      const registry = new FinalizationRegistry(() => { collected = true; });
      (() => {
        const l = new NativeLoop(process.argv[1], () => undefined);
        registry.register(l, 'loop');
        const { remove, write } = l;
        remove(0, 1);
        write(0, 1, Buffer.alloc(1));
      })();`;
    expect(await afterGc(setup, 'collected', 50, 'collected')).toBe('true\n');
  });

  it('exposes records as an Int32Array of RECORD_INTS per record, and the backend name', () => {
    const l = loop as NativeLoop;
    expect(l.backend).toBe(backend);
    expect(Object.prototype.toString.call(l.records)).toBe('[object Int32Array]');
    expect(l.records.length % RECORD_INTS).toBe(0);
    expect(l.records.length / RECORD_INTS).toBeGreaterThanOrEqual(1024);
  });

  it('crosses into JS once per wake-up, however many fds are ready', () => {
    const l = loop as NativeLoop;
    const list = pipes.make(300);
    const slots = new Map<number, number>();
    for (const { r, w } of list) {
      fill(w);
      slots.set(l.addRaw(r, READABLE, false, false), r);
    }
    expect(l.pollOnce(0)).toBe(300);
    expect(calls).toEqual([300]);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const at = i * RECORD_INTS;
      expect(l.records[at]).toBe(Rec.Raw);
      expect(l.records[at + 2]).toBe(l.generation(l.records[at + 1]));
      expect(l.records[at + 3]).toBe(READABLE);
      seen.add(slots.get(l.records[at + 1]) as number);
    }
    expect(seen.size).toBe(300);
  });

  it('started, it also crosses once per wake-up from inside Node\'s loop', async () => {
    const list = pipes.make(300);
    const counts: number[] = [];
    let resolve: () => void = () => undefined;
    const first = new Promise<void>((r) => (resolve = r));
    const l = new NativeLoop(backend, (count) => {
      counts.push(count);
      resolve();
    });
    try {
      for (const { r, w } of list) {
        fill(w);
        expect(l.addRaw(r, READABLE, false, false)).toBeGreaterThanOrEqual(0);
      }
      l.start();
      await first;
      l.stop();
      // Level-triggered: a later wake-up before stop() may report them again.
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(300);
      if (backend === 'epoll') expect(counts[0]).toBe(300);
      const stats = l.stats();
      expect(stats.deliveries).toBe(stats.wakeups);
      expect(counts).toHaveLength(stats.deliveries);
    } finally {
      l.close();
    }
  });

  it('start() after stop() watches again; stop() while stopped and start() twice are harmless', async () => {
    const { r, w } = pipes.one();
    let resolve: (count: number) => void = () => undefined;
    const l = new NativeLoop(backend, (count) => {
      l.stop();
      resolve(count);
    });
    try {
      expect(l.stop() as unknown).toBe(0);
      l.addRaw(r, READABLE, false, false);
      for (let round = 0; round < 3; round++) {
        const got = new Promise<number>((res) => (resolve = res));
        expect(l.start() as unknown).toBe(0);
        expect(l.start() as unknown).toBe(0);
        if (round === 0) fill(w);
        expect(await got).toBe(1);
      }
    } finally {
      l.close();
    }
  });

  it('write and writev send exactly the bytes of each view (byte offsets honoured)', () => {
    const l = loop as NativeLoop;
    const { r, w } = pipes.one();
    const slot = l.adoptStream(w);
    expect(slot).toBeGreaterThanOrEqual(0);
    pipes.forget(w); // the loop owns and closes it now
    const gen = l.generation(slot);
    const backing = Buffer.from('xxhello yy');
    const args = l.writeArgs;
    args[0] = slot;
    args[1] = gen;
    expect(l.write(backing.subarray(2, 8))).toBeUndefined(); // all sent: no number made
    args[1] = gen + 1;
    expect(l.write(Buffer.from('stale'))).toBe(-9); // EBADF: (slot, gen) is checked as an argument was
    args[1] = -1;
    expect(l.write(Buffer.from('bad'))).toBe(-22);
    args[1] = gen;
    const u8 = new Uint8Array(new TextEncoder().encode('__world__').buffer, 2, 5);
    const chunks = [new Uint8Array(Buffer.from('--, ').subarray(2)), u8, Buffer.from('!')];
    expect(l.writev(slot, gen, chunks)).toBe(0);
    const buf = Buffer.alloc(64);
    const n = fs.readSync(r, buf, 0, 64, null);
    expect(buf.toString('utf8', 0, n)).toBe('hello , world!');
    expect(l.write('text' as unknown as Uint8Array)).toBe(-22);
    expect(l.writev(slot, gen, [Buffer.from('a'), 'b' as unknown as Uint8Array])).toBe(-22);
    expect(l.write(new Uint16Array(2) as unknown as Uint8Array)).toBe(-22);
  });

  it('writeString sends a string\'s UTF-8 bytes as Buffer.from makes them, and refuses what it cannot take', () => {
    const l = loop as NativeLoop;
    const { r, w } = pipes.one();
    const slot = l.adoptStream(w);
    pipes.forget(w);
    const gen = l.generation(slot);
    const args = l.writeArgs;
    args[0] = slot;
    args[1] = gen;
    // ASCII, two- and three-byte characters, an astral one (a surrogate pair), lone surrogates (U+FFFD each), nothing.
    const texts = ['plain ', 'h\u00e9 \u20ac ', '\u{1d11e} ', '\ud800x\udfff', ''];
    for (const t of texts) expect(l.writeString(t)).toBeUndefined();
    const most = '\u20ac'.repeat(STRING_AT_ONCE); // the longest string taken, at its longest in UTF-8: 12 KiB
    expect(l.writeString(most)).toBeUndefined();
    const want = Buffer.concat([...texts, most].map((t) => Buffer.from(t)));
    const got = Buffer.alloc(want.length + 16);
    let n = 0;
    while (n < want.length) n += fs.readSync(r, got, n, got.length - n, null);
    expect(got.subarray(0, n)).toEqual(want);
    // Past 3 bytes a unit of STRING_AT_ONCE a string is refused (EMSGSIZE), never cut short and nothing sent: one that
    // still fits the native buffer's 4 spare bytes, and ones that do not (the encoder stops at a whole character).
    const tooLong = -os.constants.errno.EMSGSIZE;
    expect(l.writeString('\u20ac'.repeat(STRING_AT_ONCE - 1) + '\u{1d11e}')).toBe(tooLong); // 1 byte over, in a 4-byte character
    expect(l.writeString('\u20ac'.repeat(STRING_AT_ONCE + 1))).toBe(tooLong); // 3 over
    expect(l.writeString('\u20ac'.repeat(STRING_AT_ONCE + 2))).toBe(tooLong); // 6 over: past the spare bytes
    expect(l.writeString('x'.repeat(3 * STRING_AT_ONCE + 5))).toBe(tooLong);
    // A longer string of one-byte characters that fits is taken whole, and is the next thing the pipe holds.
    expect(l.writeString('x'.repeat(STRING_AT_ONCE + 1))).toBeUndefined();
    const more = Buffer.alloc(STRING_AT_ONCE + 1);
    let m = 0;
    while (m < more.length) m += fs.readSync(r, more, m, more.length - m, null);
    expect(more.toString()).toBe('x'.repeat(STRING_AT_ONCE + 1));
    expect(l.writeString(Buffer.from('bytes') as unknown as string)).toBe(-22);
    expect(l.writeString(undefined as unknown as string)).toBe(-22);
    args[1] = gen + 1;
    expect(l.writeString('stale')).toBe(-9);
    args[1] = -1;
    expect(l.writeString('bad')).toBe(-22);
  });

  it('refuses pollOnce from inside a callback and defers close() until the batch is done', () => {
    const { r, w } = pipes.one();
    const other = pipes.one();
    const inner: number[] = [];
    let counted = 0;
    const l = new NativeLoop(backend, (count) => {
      counted += count;
      inner.push(l.pollOnce(0));
      l.close();
      inner.push(l.addRaw(other.r, READABLE, false, false));
    });
    try {
      fill(w);
      fill(other.w);
      l.addRaw(r, READABLE, false, false);
      l.addRaw(other.r, READABLE, false, false);
      expect(l.pollOnce(0)).toBe(2);
      expect(counted).toBe(2);
      expect(inner).toEqual([-16, -9]); // EBUSY, then EBADF once closed
      expect(l.pollOnce(0)).toBe(-9);
    } finally {
      l.close();
    }
  });

  it('a callback exception from pollOnce() is thrown to its caller; the loop stays usable', () => {
    const { r, w } = pipes.one();
    let crossings = 0;
    const l = new NativeLoop(backend, () => {
      if (crossings++ === 0) throw new Error('from the callback');
    });
    try {
      fill(w);
      l.addRaw(r, READABLE, false, false);
      expect(() => l.pollOnce(0)).toThrow('from the callback');
      expect(l.pollOnce(0)).toBe(1);
      expect(crossings).toBe(2);
    } finally {
      l.close();
    }
  });
});

describe('fd limits', () => {
  it('raises the soft RLIMIT_NOFILE to the hard limit and remembers the original', () => {
    const { original, current, hard } = loadNative().fdLimits();
    expect(current).toBe(hard === Infinity ? current : hard);
    expect(original).toBeLessThanOrEqual(current);
    expect(current).toBeGreaterThan(1024);
  });

  it('remembers the soft limit the process started with, though Node raises it before the addon loads', () => {
    const probe = `node -e 'console.log(JSON.stringify(require("node-gyp-build")(".").fdLimits()))'`;
    // `; true` keeps bash as the parent instead of exec'ing node in its place.
    const out = execFileSync('bash', ['-c', `ulimit -Sn 1024; ${probe}; true`], { cwd: ROOT, encoding: 'utf8', timeout: 10000 });
    const { original, current, hard } = JSON.parse(out) as { original: number; current: number; hard: number };
    expect(original).toBe(1024);
    expect(current).toBe(hard === Infinity ? current : hard);
    expect(current).toBeGreaterThan(1024);
  });
});
