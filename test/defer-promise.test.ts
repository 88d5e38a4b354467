/** Promise interop and ensureDeferred (Twisted's asFuture/fromFuture/ensureDeferred). */
import { Deferred, ensureDeferred, succeed } from '../lib/defer';
import { Failure } from '../lib/failure';
import { CancelledError, NotACoroutineError } from '../lib/errors';

describe('Deferred as a thenable', () => {
  test('await gives the result', async () => {
    const d = new Deferred<number>();
    setImmediate(() => d.callback(5));
    expect(await d).toBe(5);
  });

  test('await rejects with failure.value and counts as handling the error', async () => {
    const d = new Deferred<number>();
    const err = new Error('awaited');
    d.errback(err);
    await expect(d).rejects.toBe(err);
    expect(d.result).toBeUndefined();
  });

  test('then(onF, onR) returns a real Promise', async () => {
    const p = succeed(2).then((v) => v * 3);
    expect(p).toBeInstanceOf(Promise);
    expect(await p).toBe(6);
    const q = new Deferred<number>();
    q.errback(new Error('r'));
    expect(await q.then(undefined, (e: unknown) => (e as Error).message)).toBe('r');
  });

  test('asPromise rejects with the error, not the Failure', async () => {
    const err = new TypeError('t');
    const d = new Deferred<void>();
    const p = d.asPromise();
    d.errback(new Failure(err));
    await expect(p).rejects.toBe(err);
  });

  test('fromPromise fires when the Promise settles', async () => {
    const ok = Deferred.fromPromise(Promise.resolve('yes'));
    expect(ok.called).toBe(false);
    expect(await ok).toBe('yes');
    const err = new Error('no');
    const bad = Deferred.fromPromise(Promise.reject(err));
    const seen = await new Promise<unknown>((resolve) => bad.addErrback((f) => resolve(f.value)));
    expect(seen).toBe(err);
  });
});

describe('ensureDeferred', () => {
  test('a Promise or async function result becomes a Deferred', async () => {
    async function add(a: number, b: number) {
      await null;
      return a + b;
    }
    const d = ensureDeferred(add(1, 2));
    expect(d).toBeInstanceOf(Deferred);
    expect(await d).toBe(3);
  });

  test('a Deferred is returned as is', () => {
    const d = new Deferred<number>();
    expect(ensureDeferred(d)).toBe(d);
  });

  test('anything else raises NotACoroutineError', () => {
    expect(() => ensureDeferred(42 as unknown as Promise<number>)).toThrow(NotACoroutineError);
    expect(() => ensureDeferred((() => 1) as unknown as Promise<number>)).toThrow(NotACoroutineError);
  });

  test('a generator is driven: yielded Deferreds and Promises give their results, errors are thrown in', async () => {
    const inner = new Deferred<number>();
    const err = new Error('inside');
    function* gen(): Generator<unknown, string, unknown> {
      const a = (yield inner) as number;
      const b = (yield Promise.resolve(10)) as number;
      const c = (yield 100) as number;
      try {
        yield Promise.reject(err);
      } catch (e) {
        return `${a + b + c}:${(e as Error).message}`;
      }
      return 'not reached';
    }
    const d = ensureDeferred(gen());
    expect(d.called).toBe(false);
    inner.callback(1);
    expect(await d).toBe('111:inside');
  });

  test('a generator yielding 10,000 fired Deferreds runs without stack growth', () => {
    function* many(): Generator<unknown, number, unknown> {
      let total = 0;
      for (let i = 0; i < 10000; i++) total += (yield succeed(1)) as number;
      return total;
    }
    const d = ensureDeferred(many());
    expect(d.result).toBe(10000);
  });

  test('cancel throws CancelledError into the generator at its yield and cancels what it waits on', () => {
    let innerCancelled = false;
    const inner = new Deferred<number>(() => {
      innerCancelled = true;
    });
    const seen: unknown[] = [];
    function* gen(): Generator<unknown, string, unknown> {
      try {
        yield inner;
      } catch (e) {
        seen.push(e);
        return 'cleaned up';
      }
      return 'no';
    }
    const d = ensureDeferred(gen());
    d.cancel();
    expect(innerCancelled).toBe(true);
    expect(seen[0]).toBeInstanceOf(CancelledError);
    expect(d.result).toBe('cleaned up');
  });

  test('a generator that yields again after cancellation is closed and the Deferred fails', () => {
    const log: string[] = [];
    function* stubborn(): Generator<unknown, void, unknown> {
      try {
        try {
          yield new Deferred();
        } catch {
          log.push('caught');
        }
        yield new Deferred();
        log.push('not reached');
      } finally {
        log.push('finally');
      }
    }
    const d = ensureDeferred(stubborn());
    d.cancel();
    let f: Failure | undefined;
    d.addErrback((x) => {
      f = x;
    });
    expect(f?.value).toBeInstanceOf(CancelledError);
    expect(log).toEqual(['caught', 'finally']);
  });

  test('cancelling an async function result fails at once and drops its later outcome', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let finished = false;
    async function slow() {
      await gate;
      finished = true;
      return 'late';
    }
    const d = ensureDeferred(slow());
    d.cancel();
    let f: Failure | undefined;
    d.addErrback((x) => {
      f = x;
    });
    expect(f?.value).toBeInstanceOf(CancelledError);
    release();
    await gate;
    await new Promise((r) => setImmediate(r));
    expect(finished).toBe(true);
    expect(d.result).toBeUndefined();
  });
});
