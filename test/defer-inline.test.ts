/** inlineCallbacks and race (twisted.internet.defer), driven by hand and by task.Clock. */
import { Deferred, inlineCallbacks, race, succeed } from '../lib/defer';
import { CancelledError, FailureGroup, NotACoroutineError } from '../lib/errors';
import { Failure } from '../lib/failure';
import { Clock, deferLater } from '../lib/task';

/** Synchronously reads a Deferred's outcome; a result passes on, a failure is consumed. */
function outcome<T>(d: Deferred<T>): { ok: boolean; value: unknown } | 'pending' {
  let out: { ok: boolean; value: unknown } | 'pending' = 'pending';
  d.addCallbacks(
    (v) => {
      out = { ok: true, value: v };
      return v;
    },
    (f) => {
      out = { ok: false, value: f.value };
    },
  );
  return out;
}

describe('inlineCallbacks', () => {
  it('yields Deferreds and Promises, resumes with their results, and fires with the return value', async () => {
    const clock = new Clock();
    const add = inlineCallbacks(function* (a: number, b: number) {
      const x = (yield deferLater(clock, 1, () => a)) as number;
      const y = (yield Promise.resolve(b)) as number;
      const z = (yield 100) as number; // a plain value comes straight back
      return x + y + z;
    });
    const d = add(1, 2);
    expect(outcome(d)).toBe('pending');
    clock.advance(1);
    await expect(d.asPromise()).resolves.toBe(103);
  });

  it('throws a failure into the generator at the yield, where it can be caught', () => {
    const waited = new Deferred<number>();
    const seen: string[] = [];
    const f = inlineCallbacks(function* () {
      try {
        yield waited;
      } catch (e) {
        seen.push((e as Error).message);
        return 'recovered';
      }
      return 'not reached';
    });
    const d = f();
    waited.errback(new Error('boom'));
    expect(seen).toEqual(['boom']);
    expect(outcome(d)).toEqual({ ok: true, value: 'recovered' });
  });

  it('an uncaught throw, before or after the first yield, fails the Deferred', () => {
    const early = inlineCallbacks(function* (): Generator<unknown, void, unknown> {
      throw new Error('early');
    });
    const late = inlineCallbacks(function* () {
      yield succeed(1);
      throw new Error('late');
    });
    expect(outcome(early())).toEqual({ ok: false, value: new Error('early') });
    expect(outcome(late())).toEqual({ ok: false, value: new Error('late') });
  });

  it('cancelling the result cancels the Deferred being waited on; CancelledError reaches the generator', () => {
    const cancelled: string[] = [];
    const waited = new Deferred<void>(() => cancelled.push('waited'));
    let finallyRan = false;
    const f = inlineCallbacks(function* () {
      try {
        yield waited;
      } finally {
        finallyRan = true;
      }
    });
    const d = f();
    d.cancel();
    expect(cancelled).toEqual(['waited']);
    expect(finallyRan).toBe(true);
    const out = outcome(d);
    expect(out !== 'pending' && out.value).toBeInstanceOf(CancelledError);
  });

  it('keeps `this` for methods', () => {
    class Thing {
      n = 5;
      get = inlineCallbacks(function* (this: Thing) {
        return (yield succeed(this.n)) as number;
      });
    }
    expect(outcome(new Thing().get())).toEqual({ ok: true, value: 5 });
  });

  it('refuses what does not make a generator with NotACoroutineError', () => {
    const asyncFn = async (): Promise<number> => 1;
    expect(() => inlineCallbacks(asyncFn as unknown as () => Generator<unknown, number, unknown>)).toThrow(NotACoroutineError);
    expect(() => inlineCallbacks(async function* () {} as unknown as () => Generator)).toThrow(NotACoroutineError);
    expect(() => inlineCallbacks(42 as unknown as () => Generator)).toThrow(NotACoroutineError);
    const plain = inlineCallbacks((() => 7) as unknown as () => Generator<unknown, number, unknown>);
    expect(() => plain()).toThrow(new NotACoroutineError('inlineCallbacks: anonymous returned a number, not a generator (write it as function*)'));
  });
});

describe('race', () => {
  it('the first success wins with its index; the others are cancelled', () => {
    const cancelled: number[] = [];
    const ds = [0, 1, 2].map((i) => new Deferred<string>(() => cancelled.push(i)));
    const r = race(ds);
    ds[1].callback('one');
    expect(outcome(r)).toEqual({ ok: true, value: [1, 'one'] });
    expect(cancelled).toEqual([0, 2]);
  });

  it('a failure does not end the race while another may still succeed', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const r = race([a, b]);
    a.errback(new Error('a failed'));
    expect(outcome(r)).toBe('pending');
    b.callback(2);
    expect(outcome(r)).toEqual({ ok: true, value: [1, 2] });
  });

  it('when all fail: FailureGroup with every Failure, by index', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const r = race([a, b]);
    b.errback(new Error('b'));
    a.errback(new Error('a'));
    const out = outcome(r);
    const err = out !== 'pending' ? (out.value as FailureGroup) : null;
    expect(err).toBeInstanceOf(FailureGroup);
    expect(err!.failures.map((f) => (f as Failure).getErrorMessage())).toEqual(['a', 'b']);
    expect(err!.message).toBe('race: all 2 failed: a; b');
  });

  it('cancelling the race cancels every Deferred and fails with CancelledError', () => {
    const cancelled: number[] = [];
    const ds = [0, 1].map((i) => new Deferred<number>(() => cancelled.push(i)));
    const r = race(ds);
    r.cancel();
    expect(cancelled).toEqual([0, 1]);
    const out = outcome(r);
    expect(out !== 'pending' && out.value).toBeInstanceOf(CancelledError);
  });

  it('takes Promises too; an empty race fails at once', async () => {
    await expect(race([new Promise<number>(() => undefined), Promise.resolve(9)]).asPromise()).resolves.toEqual([1, 9]);
    const out = outcome(race([]));
    expect(out !== 'pending' && out.value).toBeInstanceOf(FailureGroup);
  });
});
