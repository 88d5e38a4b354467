/** Clock, DelayedCall, LoopingCall and deferLater, after twisted/test/test_task.py. */
import { Clock, LoopingCall, deferLater, realClock } from '../lib/task';
import { Deferred } from '../lib/defer';
import { Failure } from '../lib/failure';
import { AlreadyCalled, AlreadyCancelled, CancelledError, TimeoutError } from '../lib/errors';

describe('Clock', () => {
  test('seconds starts at 0 and advance moves it', () => {
    const c = new Clock();
    expect(c.seconds()).toBe(0);
    c.advance(1.5);
    expect(c.seconds()).toBe(1.5);
    c.pump([1, 2, 0.5]);
    expect(c.seconds()).toBe(5);
  });

  test('callLater runs when time reaches it, never early, with its args', () => {
    const c = new Clock();
    const got: unknown[] = [];
    const call = c.callLater(2, (a: string, b: number) => got.push([a, b]), 'x', 1);
    expect(call.getTime()).toBe(2);
    c.advance(1.999);
    expect(got).toEqual([]);
    expect(call.active()).toBe(true);
    c.advance(0.001);
    expect(got).toEqual([['x', 1]]);
    expect(call.active()).toBe(false);
  });

  test('non-finite times are refused: delay(Infinity) then delay(-Infinity) cannot freeze it', () => {
    const c = new Clock();
    const stuck = c.callLater(10, () => undefined);
    expect(() => stuck.delay(Infinity)).toThrow(RangeError);
    expect(() => stuck.delay(-Infinity)).toThrow(RangeError);
    expect(() => stuck.reset(NaN)).toThrow(RangeError);
    expect(() => c.callLater(NaN, () => undefined)).toThrow(RangeError);
    for (const bad of [NaN, Infinity, -1]) expect(() => c.advance(bad)).toThrow(RangeError);
    expect(() => {
      c.rightNow = NaN;
    }).toThrow(RangeError);
    expect(c.seconds()).toBe(0);
    let ran = false;
    c.callLater(0, () => (ran = true));
    c.advance(0);
    expect(ran).toBe(true);
    c.advance(10);
    expect(stuck.active()).toBe(false);
  });

  test('equal deadlines fire in scheduling order', () => {
    const c = new Clock();
    const order: number[] = [];
    for (let i = 0; i < 10; i++) c.callLater(1, () => order.push(i));
    c.advance(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('a zero-delay call made during advance fires in that advance', () => {
    const c = new Clock();
    const order: string[] = [];
    c.callLater(1, () => {
      order.push('a');
      c.callLater(0, () => order.push('b'));
    });
    c.advance(5);
    expect(order).toEqual(['a', 'b']);
  });

  test('getDelayedCalls lists the waiting calls, earliest first', () => {
    const c = new Clock();
    const b = c.callLater(2, () => undefined);
    const a = c.callLater(1, () => undefined);
    const x = c.callLater(3, () => undefined);
    x.cancel();
    expect(c.getDelayedCalls()).toEqual([a, b]);
  });

  test('DelayedCall cancel, reset, delay and their errors', () => {
    const c = new Clock();
    const ran: number[] = [];
    const call = c.callLater(1, () => ran.push(c.seconds()));
    call.delay(1);
    c.advance(1);
    expect(ran).toEqual([]);
    call.reset(3);
    expect(call.getTime()).toBe(4);
    c.advance(3);
    expect(ran).toEqual([4]);
    expect(() => call.cancel()).toThrow(AlreadyCalled);
    const other = c.callLater(1, () => ran.push(-1));
    other.cancel();
    expect(() => other.cancel()).toThrow(AlreadyCancelled);
    c.advance(10);
    expect(ran).toEqual([4]);
  });

  test('an error in a call propagates out of advance at once; the other due call runs at the next advance', () => {
    const c = new Clock();
    const ran: number[] = [];
    const boom = new Error('boom');
    const first = c.callLater(1, () => {
      throw boom;
    });
    c.callLater(1, () => ran.push(2));
    expect(() => c.advance(1)).toThrow(boom);
    expect(first.active()).toBe(false);
    expect(ran).toEqual([]);
    expect(c.getDelayedCalls()).toHaveLength(1);
    c.advance(0);
    expect(ran).toEqual([2]);
  });
});

describe('LoopingCall', () => {
  function looping(fn: () => unknown) {
    const clock = new Clock();
    const lc = new LoopingCall(fn);
    lc.clock = clock;
    return { clock, lc };
  }

  test('calls at once, then every interval; stop fires the Deferred with the LoopingCall', () => {
    const times: number[] = [];
    const { clock, lc } = looping(() => times.push(clock.seconds()));
    const d = lc.start(1);
    expect(times).toEqual([0]);
    clock.pump([1, 1, 0.5, 0.5]);
    expect(times).toEqual([0, 1, 2, 3]);
    let stoppedWith: unknown;
    d.addCallback((r) => {
      stoppedWith = r;
    });
    lc.stop();
    expect(stoppedWith).toBe(lc);
    expect(lc.running).toBe(false);
    clock.advance(10);
    expect(times).toEqual([0, 1, 2, 3]);
  });

  test('start(interval, false) waits an interval first; args reach fn', () => {
    const clock = new Clock();
    const got: unknown[] = [];
    const lc = new LoopingCall((a: string) => got.push([a, clock.seconds()]), 'arg');
    lc.clock = clock;
    lc.start(2, false);
    expect(got).toEqual([]);
    clock.advance(2);
    expect(got).toEqual([['arg', 2]]);
    lc.stop();
  });

  test('an error stops the loop and errbacks the Deferred', () => {
    const boom = new Error('boom');
    let n = 0;
    const { clock, lc } = looping(() => {
      if (++n === 3) throw boom;
    });
    let failure: Failure | undefined;
    lc.start(1).addErrback((f) => {
      failure = f;
    });
    clock.pump([1, 1, 1, 1]);
    expect(n).toBe(3);
    expect(failure?.value).toBe(boom);
    expect(lc.running).toBe(false);
  });

  test('a fn returning a Deferred is waited for before the next call', () => {
    const pending: Deferred<void>[] = [];
    const { clock, lc } = looping(() => {
      const d = new Deferred<void>();
      pending.push(d);
      return d;
    });
    lc.start(1);
    clock.pump([1, 1, 1]);
    expect(pending.length).toBe(1);
    pending[0].callback();
    expect(pending.length).toBe(1);
    clock.advance(1);
    expect(pending.length).toBe(2);
    lc.stop();
    pending[1].callback();
    clock.advance(5);
    expect(pending.length).toBe(2);
  });

  test('stop while a returned Deferred is pending fires the start Deferred when it settles', () => {
    const inner = new Deferred<void>();
    const { lc } = looping(() => inner);
    let fired = false;
    lc.start(1).addCallback(() => {
      fired = true;
    });
    lc.stop();
    expect(fired).toBe(false);
    inner.callback();
    expect(fired).toBe(true);
  });

  test('withCount reports skipped intervals', () => {
    const clock = new Clock();
    const counts: number[] = [];
    const lc = LoopingCall.withCount((n) => counts.push(n));
    lc.clock = clock;
    lc.start(1);
    expect(counts).toEqual([1]);
    clock.advance(1);
    expect(counts).toEqual([1, 1]);
    clock.advance(3);
    expect(counts).toEqual([1, 1, 3]);
    clock.advance(1.5);
    clock.advance(0.5);
    expect(counts).toEqual([1, 1, 3, 1, 1]);
    lc.stop();
  });

  test('interval 0 runs again within the same advance until stopped', () => {
    const clock = new Clock();
    const counts: number[] = [];
    const lc = LoopingCall.withCount((n) => {
      counts.push(n);
      if (counts.length > 4) lc.stop();
    });
    lc.clock = clock;
    let stopped = false;
    lc.start(0, false).addCallback(() => {
      stopped = true;
    });
    clock.advance(0);
    expect(counts).toEqual([1, 1, 1, 1, 1]);
    expect(stopped).toBe(true);
  });

  test('reset restarts the interval from now', () => {
    const times: number[] = [];
    const { clock, lc } = looping(() => times.push(clock.seconds()));
    lc.start(2, false);
    clock.advance(1);
    lc.reset();
    clock.advance(1.5);
    expect(times).toEqual([]);
    clock.advance(0.5);
    expect(times).toEqual([3]);
    lc.stop();
  });

  test('a slow call skips missed intervals instead of drifting', () => {
    const times: number[] = [];
    const { clock, lc } = looping(() => times.push(clock.seconds()));
    lc.start(1);
    clock.advance(2.5);
    clock.advance(0.5);
    expect(times).toEqual([0, 2.5, 3]);
    lc.stop();
  });

  test('bad use raises', () => {
    const { lc } = looping(() => undefined);
    expect(() => lc.start(-1)).toThrow(RangeError);
    for (const bad of [NaN, Infinity]) expect(() => lc.start(bad)).toThrow(RangeError);
    expect(() => lc.stop()).toThrow();
    lc.start(1);
    expect(() => lc.start(1)).toThrow();
    lc.stop();
  });
});

describe('deferLater', () => {
  test('a non-finite delay is refused and schedules nothing', () => {
    const clock = new Clock();
    for (const bad of [NaN, Infinity, -Infinity]) expect(() => deferLater(clock, bad)).toThrow(RangeError);
    expect(clock.getDelayedCalls()).toEqual([]);
  });

  test('fires with fn(...args) after the delay', () => {
    const clock = new Clock();
    let got: unknown;
    deferLater(clock, 3, (a: number, b: number) => a * b, 6, 7).addCallback((r) => {
      got = r;
    });
    clock.advance(2.9);
    expect(got).toBeUndefined();
    clock.advance(0.1);
    expect(got).toBe(42);
  });

  test('without fn fires with undefined; an error in fn fails it', () => {
    const clock = new Clock();
    const seen: unknown[] = [];
    deferLater(clock, 1).addCallback((r) => seen.push(['ok', r]));
    const boom = new Error('in fn');
    deferLater(clock, 1, () => {
      throw boom;
    }).addErrback((f) => seen.push(['err', f.value]));
    clock.advance(1);
    expect(seen).toEqual([['ok', undefined], ['err', boom]]);
  });

  test('cancel stops the timer and fails with CancelledError', () => {
    const clock = new Clock();
    let ran = false;
    const d = deferLater(clock, 1, () => {
      ran = true;
    });
    let f: Failure | undefined;
    d.addErrback((x) => {
      f = x;
    });
    d.cancel();
    expect(f?.value).toBeInstanceOf(CancelledError);
    expect(clock.getDelayedCalls()).toEqual([]);
    clock.advance(2);
    expect(ran).toBe(false);
  });
});

describe('Deferred.addTimeout with a Clock', () => {
  test('a non-finite timeout is refused and schedules nothing', () => {
    const clock = new Clock();
    for (const bad of [NaN, Infinity, -Infinity]) expect(() => new Deferred<number>().addTimeout(bad, clock)).toThrow(RangeError);
    expect(clock.getDelayedCalls()).toEqual([]);
  });

  test('times out with TimeoutError', () => {
    const clock = new Clock();
    const d = new Deferred<number>();
    d.addTimeout(5, clock);
    let f: Failure | undefined;
    d.addErrback((x) => {
      f = x;
    });
    clock.advance(4.9);
    expect(f).toBeUndefined();
    clock.advance(0.1);
    expect(f?.value).toBeInstanceOf(TimeoutError);
  });

  test('a result before the timeout cancels the timer', () => {
    const clock = new Clock();
    const d = new Deferred<number>();
    d.addTimeout(5, clock);
    d.callback(3);
    expect(clock.getDelayedCalls()).toEqual([]);
    expect(d.result).toBe(3);
  });

  test('onTimeoutCancel(result, timeout) decides the result', () => {
    const clock = new Clock();
    const d = new Deferred<string>();
    const calls: unknown[] = [];
    d.addTimeout(2, clock, (result, timeout) => {
      calls.push([result instanceof Failure, timeout]);
      return 'replaced';
    });
    clock.advance(2);
    expect(calls).toEqual([[true, 2]]);
    expect(d.result).toBe('replaced');
  });

  test('a canceller that fires with a value is left alone by the timeout', () => {
    const clock = new Clock();
    const d = new Deferred<string>((me) => me.callback('from canceller'));
    d.addTimeout(1, clock);
    clock.advance(1);
    expect(d.result).toBe('from canceller');
  });

  test('user cancel before the timeout stays a CancelledError', () => {
    const clock = new Clock();
    const d = new Deferred<string>();
    d.addTimeout(1, clock);
    d.cancel();
    let f: Failure | undefined;
    d.addErrback((x) => {
      f = x;
    });
    expect(f?.value).toBeInstanceOf(CancelledError);
    expect(clock.getDelayedCalls()).toEqual([]);
  });
});

describe('realClock (Node timers, the default clock)', () => {
  test('callLater never fires early; equal deadlines keep order; cancel works', async () => {
    const start = realClock.seconds();
    const order: string[] = [];
    const cancelled = realClock.callLater(0.01, () => order.push('cancelled'));
    realClock.callLater(0.02, () => order.push('a'));
    const done = new Promise<number>((resolve) => realClock.callLater(0.02, () => resolve(realClock.seconds())));
    cancelled.cancel();
    const firedAt = await done;
    expect(firedAt - start).toBeGreaterThanOrEqual(0.02);
    expect(order).toEqual(['a']);
  });

  test('a call further away than one Node timer can wait is armed within setTimeout\'s range', () => {
    // setTimeout turns delays above 2^31-1 ms into 1 ms: passing one through
    // would wake the process every millisecond until the deadline.
    const arms = jest.spyOn(global, 'setTimeout');
    const far = realClock.callLater(40 * 24 * 3600, () => undefined);
    const delays = arms.mock.calls.map((call) => Number(call[1] ?? 0));
    far.cancel();
    arms.mockRestore();
    expect(delays.length).toBeGreaterThan(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  test('seconds is epoch seconds and never goes back', () => {
    const a = realClock.seconds();
    const b = realClock.seconds();
    expect(Math.abs(a - Date.now() / 1000)).toBeLessThan(5);
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
