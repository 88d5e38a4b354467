/** TimerQueue and DelayedCall: ordering, cancel, reset/delay, hooks, bounded memory. */
import fc from 'fast-check';
import { TimerQueue, type DelayedCall } from '../lib/timers';
import { AlreadyCalled, AlreadyCancelled } from '../lib/errors';

function makeQueue(opts: Partial<ConstructorParameters<typeof TimerQueue>[0]> = {}) {
  const state = { now: 0 };
  const q = new TimerQueue({ now: () => state.now, ...opts });
  return { q, state };
}

describe('TimerQueue', () => {
  test('runs due calls in deadline order; equal deadlines in scheduling order', () => {
    const { q } = makeQueue();
    const order: string[] = [];
    q.schedule(2, () => order.push('b'), []);
    q.schedule(1, () => order.push('a1'), []);
    q.schedule(1, () => order.push('a2'), []);
    q.schedule(3, () => order.push('c'), []);
    for (let i = 0; i < 20; i++) q.schedule(1.5, (n: number) => order.push(`m${n}`), [i]);
    expect(q.runUntil(2)).toBe(23);
    expect(order).toEqual(['a1', 'a2', ...Array.from({ length: 20 }, (_, i) => `m${i}`), 'b']);
    expect(q.size).toBe(1);
  });

  test('calls added during a run that are already due run in the same run', () => {
    const { q, state } = makeQueue();
    const order: string[] = [];
    state.now = 5;
    q.schedule(0, () => {
      order.push('first');
      q.schedule(0, () => order.push('zero-delay'), []);
      q.schedule(10, () => order.push('later'), []);
    }, []);
    q.runUntil(5);
    expect(order).toEqual(['first', 'zero-delay']);
  });

  test('cancel removes a call; cancel/reset/delay after run or cancel raise', () => {
    const { q } = makeQueue();
    const ran: number[] = [];
    const a = q.schedule(1, () => ran.push(1), []);
    const b = q.schedule(1, () => ran.push(2), []);
    a.cancel();
    expect(a.active()).toBe(false);
    expect(() => a.cancel()).toThrow(AlreadyCancelled);
    expect(() => a.reset(1)).toThrow(AlreadyCancelled);
    q.runUntil(1);
    expect(ran).toEqual([2]);
    expect(b.called).toBe(true);
    expect(() => b.cancel()).toThrow(AlreadyCalled);
    expect(() => b.delay(1)).toThrow(AlreadyCalled);
  });

  test('reset and delay reposition the call', () => {
    const { q, state } = makeQueue();
    const order: string[] = [];
    const a = q.schedule(1, () => order.push('a'), []);
    q.schedule(2, () => order.push('b'), []);
    a.delay(2);
    expect(a.getTime()).toBe(3);
    q.runUntil(2);
    expect(order).toEqual(['b']);
    state.now = 2;
    a.reset(5);
    expect(a.getTime()).toBe(7);
    q.runUntil(6.9);
    expect(order).toEqual(['b']);
    q.runUntil(7);
    expect(order).toEqual(['b', 'a']);
  });

  test('onEarliestChanged reports the earliest deadline as it changes', () => {
    const seen: (number | null)[] = [];
    const { q } = makeQueue({ onEarliestChanged: (d) => seen.push(d) });
    const a = q.schedule(5, () => undefined, []);
    q.schedule(7, () => undefined, []);
    const c = q.schedule(3, () => undefined, []);
    c.cancel();
    a.reset(10);
    q.runUntil(100);
    expect(seen).toEqual([5, 3, 5, 7, null]);
  });

  test('a throwing call is reported through onError and the others still run', () => {
    const errors: unknown[] = [];
    const { q } = makeQueue({ onError: (e) => errors.push(e) });
    const ran: number[] = [];
    const boom = new Error('boom');
    q.schedule(1, () => ran.push(1), []);
    q.schedule(1, () => {
      throw boom;
    }, []);
    q.schedule(1, () => ran.push(3), []);
    q.runUntil(1);
    expect(errors).toEqual([boom]);
    expect(ran).toEqual([1, 3]);
  });

  test('1,000,000 scheduled-then-cancelled timers leave nothing behind', () => {
    const { q } = makeQueue();
    const keep = q.schedule(1e9, () => undefined, []);
    let calls: DelayedCall[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      calls.push(q.schedule(i % 1000, () => undefined, []));
      if (calls.length === 1000) {
        for (const c of calls) c.cancel();
        calls = [];
      }
    }
    expect(q.size).toBe(1);
    expect(q.getDelayedCalls()).toEqual([keep]);
    expect(q.earliest()).toBe(1e9);
  });

  test('rejects a non-number delay and a non-function', () => {
    const { q } = makeQueue();
    expect(() => q.schedule('1' as unknown as number, () => undefined, [])).toThrow(TypeError);
    expect(() => q.schedule(1, 'x' as unknown as () => void, [])).toThrow(TypeError);
  });

  test('non-finite times are refused everywhere, so no deadline is ever NaN', () => {
    const { q, state } = makeQueue();
    for (const bad of [NaN, Infinity, -Infinity]) expect(() => q.schedule(bad, () => undefined, [])).toThrow(RangeError);
    const call = q.schedule(10, () => undefined, []);
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(() => call.delay(bad)).toThrow(RangeError);
      expect(() => call.reset(bad)).toThrow(RangeError);
    }
    // Finite arguments whose sum overflows are refused too, and leave the call where it was.
    expect(() => call.delay(Number.MAX_VALUE)).not.toThrow();
    expect(() => call.delay(Number.MAX_VALUE)).toThrow(RangeError);
    expect(() => q.schedule(Number.MAX_VALUE, () => undefined, [])).not.toThrow();
    state.now = 1e300;
    expect(() => call.reset(Number.MAX_VALUE)).toThrow(RangeError);
    expect(() => q.schedule(Number.MAX_VALUE, () => undefined, [])).toThrow(RangeError);
    expect(q.getDelayedCalls().every((c) => Number.isFinite(c.getTime()))).toBe(true);
    // The queue still runs what is due.
    let ran = false;
    q.schedule(0, () => (ran = true), []);
    q.runUntil(state.now);
    expect(ran).toBe(true);
  });

  test('property: any mix of schedule/cancel/reset runs in (deadline, last-scheduled) order', () => {
    type Op = { kind: 'add'; delay: number } | { kind: 'cancel'; pick: number } | { kind: 'reset'; pick: number; delay: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), delay: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('reset' as const), pick: fc.nat(), delay: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops: Op[]) => {
        const { q } = makeQueue();
        const ran: number[] = [];
        const live: { id: number; call: DelayedCall; time: number; order: number }[] = [];
        let order = 0;
        ops.forEach((o, id) => {
          if (o.kind === 'add') {
            live.push({ id, call: q.schedule(o.delay, () => ran.push(id), []), time: o.delay, order: order++ });
          } else if (live.length) {
            const i = o.pick % live.length;
            if (o.kind === 'cancel') {
              live[i].call.cancel();
              live.splice(i, 1);
            } else {
              live[i].call.reset(o.delay);
              live[i].time = o.delay;
              live[i].order = order++;
            }
          }
        });
        expect(q.size).toBe(live.length);
        q.runUntil(10);
        const expected = live.slice().sort((a, b) => a.time - b.time || a.order - b.order).map((e) => e.id);
        expect(ran).toEqual(expected);
        expect(q.size).toBe(0);
      }),
    );
  });
});
