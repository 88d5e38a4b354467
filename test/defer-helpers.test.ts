/** succeed, fail, maybeDeferred, DeferredList, gatherResults, locks and queues (test_defer.py). */
import {
  Deferred,
  DeferredList,
  DeferredLock,
  DeferredQueue,
  DeferredSemaphore,
  fail,
  gatherResults,
  maybeDeferred,
  succeed,
} from '../lib/defer';
import { Failure } from '../lib/failure';
import { CancelledError, FirstError, QueueOverflow, QueueUnderflow } from '../lib/errors';

/** Synchronously reads a fired Deferred's outcome (and consumes a failure). */
function outcome<T>(d: Deferred<T>): { ok: boolean; value: unknown } {
  let out: { ok: boolean; value: unknown } | undefined;
  d.addCallbacks(
    (v) => {
      out = { ok: true, value: v };
    },
    (f) => {
      out = { ok: false, value: f.value };
    },
  );
  if (!out) throw new Error('Deferred has not fired');
  return out;
}

describe('succeed / fail / maybeDeferred', () => {
  test('succeed and fail give fired Deferreds', () => {
    expect(outcome(succeed(3))).toEqual({ ok: true, value: 3 });
    const err = new Error('f');
    expect(outcome(fail(err))).toEqual({ ok: false, value: err });
  });

  test('maybeDeferred: throw, value, Deferred, Promise', async () => {
    const err = new Error('thrown');
    expect(outcome(maybeDeferred(() => {
      throw err;
    }))).toEqual({ ok: false, value: err });
    expect(outcome(maybeDeferred((a: number, b: number) => a + b, 2, 3))).toEqual({ ok: true, value: 5 });
    const d = new Deferred<number>();
    expect(maybeDeferred(() => d)).toBe(d);
    const fromFailure = maybeDeferred(() => new Failure(err));
    expect(outcome(fromFailure)).toEqual({ ok: false, value: err });
    const p = maybeDeferred(() => Promise.resolve('later'));
    expect(p.called).toBe(false);
    expect(await p).toBe('later');
  });
});

describe('DeferredList', () => {
  test('fires with [success, value] pairs in input order', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const dl = new DeferredList([a, b], { consumeErrors: true });
    const err = new Error('b');
    b.errback(err);
    expect(dl.called).toBe(false);
    a.callback(1);
    const r = outcome(dl).value as [boolean, unknown][];
    expect(r[0]).toEqual([true, 1]);
    expect(r[1][0]).toBe(false);
    expect((r[1][1] as Failure).value).toBe(err);
  });

  test('empty list fires at once with []', () => {
    expect(outcome(new DeferredList([]))).toEqual({ ok: true, value: [] });
  });

  test('fireOnOneCallback gives [result, index]', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const dl = new DeferredList<string, [string, number]>([a, b], { fireOnOneCallback: true });
    b.callback('second');
    expect(outcome(dl)).toEqual({ ok: true, value: ['second', 1] });
    a.callback('first');
  });

  test('fireOnOneErrback fails with FirstError carrying the failure and index', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const dl = new DeferredList([a, b], { fireOnOneErrback: true, consumeErrors: true });
    const err = new Error('boom');
    b.errback(err);
    const o = outcome(dl);
    expect(o.ok).toBe(false);
    const fe = o.value as FirstError;
    expect(fe).toBeInstanceOf(FirstError);
    expect(fe.index).toBe(1);
    expect((fe.subFailure as Failure).value).toBe(err);
  });

  test('consumeErrors switches the inputs back to success', () => {
    const a = new Deferred<number>();
    new DeferredList([a], { consumeErrors: true });
    a.errback(new Error('x'));
    expect(outcome(a)).toEqual({ ok: true, value: undefined });
    const b = new Deferred<number>();
    new DeferredList([b]);
    b.errback(new Error('y'));
    expect(outcome(b).ok).toBe(false);
  });

  test('cancel cancels every unfired Deferred', () => {
    const a = new Deferred<number>();
    const b = succeed(2);
    const dl = new DeferredList([a, b], { consumeErrors: true });
    dl.cancel();
    const r = outcome(dl).value as [boolean, unknown][];
    expect(r[0][0]).toBe(false);
    expect((r[0][1] as Failure).check(CancelledError)).toBe(CancelledError);
    expect(r[1]).toEqual([true, 2]);
  });
});

describe('gatherResults', () => {
  test('values in order', () => {
    const a = new Deferred<number>();
    const g = gatherResults([a, succeed(2)]);
    a.callback(1);
    expect(outcome(g)).toEqual({ ok: true, value: [1, 2] });
  });

  test('first failure gives FirstError; consumeErrors controls the inputs', () => {
    const err = new Error('bad');
    const a = fail<number>(err);
    const g = gatherResults([a, new Deferred<number>()], true);
    const o = outcome(g);
    expect(o.value).toBeInstanceOf(FirstError);
    expect(((o.value as FirstError).subFailure as Failure).value).toBe(err);
    expect(outcome(a)).toEqual({ ok: true, value: undefined });
  });
});

describe('DeferredLock', () => {
  test('acquire, wait in order, release', () => {
    const lock = new DeferredLock();
    const order: number[] = [];
    lock.acquire().addCallback(() => order.push(1));
    expect(lock.locked).toBe(true);
    lock.acquire().addCallback(() => order.push(2));
    lock.acquire().addCallback(() => order.push(3));
    expect(order).toEqual([1]);
    lock.release();
    expect(order).toEqual([1, 2]);
    lock.release();
    lock.release();
    expect(order).toEqual([1, 2, 3]);
    expect(lock.locked).toBe(false);
    expect(() => lock.release()).toThrow();
  });

  test('run holds the lock across a Deferred and releases on failure', () => {
    const lock = new DeferredLock();
    const inner = new Deferred<string>();
    const r = lock.run(() => inner);
    expect(lock.locked).toBe(true);
    inner.callback('done');
    expect(outcome(r)).toEqual({ ok: true, value: 'done' });
    expect(lock.locked).toBe(false);
    const err = new Error('in run');
    const r2 = lock.run(() => {
      throw err;
    });
    expect(outcome(r2)).toEqual({ ok: false, value: err });
    expect(lock.locked).toBe(false);
  });

  test('a cancelled acquire leaves the waiters list', () => {
    const lock = new DeferredLock();
    lock.acquire();
    const waiter = lock.acquire();
    expect(lock.waitingCount).toBe(1);
    waiter.cancel();
    expect(outcome(waiter).value).toBeInstanceOf(CancelledError);
    expect(lock.waitingCount).toBe(0);
    lock.release();
    expect(lock.locked).toBe(false);
  });
});

describe('DeferredSemaphore', () => {
  test('tokens, limit, waiting and release', () => {
    const sem = new DeferredSemaphore(2);
    expect(sem.limit).toBe(2);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) sem.acquire().addCallback(() => got.push(i));
    expect(got).toEqual([0, 1]);
    expect(sem.tokens).toBe(0);
    expect(sem.locked).toBe(true);
    sem.release();
    expect(got).toEqual([0, 1, 2]);
    sem.release();
    sem.release();
    expect(sem.tokens).toBe(2);
    expect(() => sem.release()).toThrow();
    expect(() => new DeferredSemaphore(0)).toThrow(RangeError);
  });

  test('run limits concurrency; a cancelled acquire leaves the queue', () => {
    const sem = new DeferredSemaphore(1);
    const first = new Deferred<number>();
    const r1 = sem.run(() => first);
    let ran = false;
    const r2 = sem.run(() => {
      ran = true;
      return 2;
    });
    const waiter = sem.acquire();
    waiter.cancel();
    outcome(waiter);
    expect(ran).toBe(false);
    first.callback(1);
    expect(ran).toBe(true);
    expect(outcome(r1).value).toBe(1);
    expect(outcome(r2).value).toBe(2);
    expect(sem.tokens).toBe(1);
  });
});

describe('DeferredQueue', () => {
  test('put then get, get then put', () => {
    const q = new DeferredQueue<number>();
    q.put(1);
    expect(outcome(q.get()).value).toBe(1);
    const g = q.get();
    expect(g.called).toBe(false);
    q.put(2);
    expect(outcome(g).value).toBe(2);
  });

  test('size and backlog bounds raise QueueOverflow / QueueUnderflow', () => {
    const q = new DeferredQueue<number>(1, 1);
    q.put(1);
    expect(() => q.put(2)).toThrow(QueueOverflow);
    q.get();
    q.get();
    expect(() => q.get()).toThrow(QueueUnderflow);
  });

  test('a cancelled get leaves the waiters list', () => {
    const q = new DeferredQueue<string>();
    const g1 = q.get();
    const g2 = q.get();
    g1.cancel();
    outcome(g1);
    expect(q.waiting).toEqual([g2]);
    q.put('x');
    expect(outcome(g2).value).toBe('x');
  });
});
