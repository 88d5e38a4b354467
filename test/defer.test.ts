/** Core Deferred behaviour, after twisted/test/test_defer.py. */
import { Deferred } from '../lib/defer';
import { Failure } from '../lib/failure';
import { AlreadyCalledError, CancelledError } from '../lib/errors';

class MyError extends Error {}

describe('Deferred firing', () => {
  test('callback runs the success chain in order, results flowing on', () => {
    const d = new Deferred<number>();
    const seen: unknown[] = [];
    d.addCallback((r) => r + 1)
      .addCallback((r) => {
        seen.push(r);
        return String(r);
      })
      .addErrback(() => seen.push('eb'))
      .addCallback((r) => seen.push(r));
    expect(d.called).toBe(false);
    d.callback(1);
    expect(d.called).toBe(true);
    expect(seen).toEqual([2, '2']);
  });

  test('callbacks added after firing run at once', () => {
    const d = new Deferred<string>();
    d.callback('x');
    let got: string | undefined;
    d.addCallback((r) => {
      got = r;
    });
    expect(got).toBe('x');
  });

  test('extra arguments reach callbacks and errbacks', () => {
    const d = new Deferred<number>();
    const seen: unknown[] = [];
    d.addCallback((r, a: number, b: string) => seen.push([r, a, b]), 2, 'b');
    d.callback(1);
    const e = new Deferred<number>();
    e.addCallbacks(
      (r, x: number) => seen.push(['cb', r, x]),
      (f, y: string) => seen.push(['eb', f.getErrorMessage(), y]),
      { callbackArgs: [5], errbackArgs: ['why'] },
    );
    e.errback(new MyError('boom'));
    const g = new Deferred<number>();
    g.addBoth((r, z: number) => seen.push(['both', r, z]), 9);
    g.callback(3);
    expect(seen).toEqual([[1, 2, 'b'], ['eb', 'boom', 'why'], ['both', 3, 9]]);
  });

  test('a second fire throws AlreadyCalledError', () => {
    const d = new Deferred<number>();
    d.callback(1);
    expect(() => d.callback(2)).toThrow(AlreadyCalledError);
    expect(() => d.errback(new Error('x'))).toThrow(AlreadyCalledError);
  });

  test('callback(aDeferred) is an error', () => {
    const d = new Deferred<unknown>();
    expect(() => d.callback(new Deferred())).toThrow(TypeError);
    expect(d.called).toBe(false);
  });
});

describe('errors along the chain', () => {
  test('errback() with no reason fails with an Error that says so; errback(undefined) keeps the value', () => {
    const seen: Failure[] = [];
    const d = new Deferred<number>();
    d.addErrback((f: Failure) => void seen.push(f));
    d.errback();
    expect(seen[0].value).toBeInstanceOf(Error);
    expect(seen[0].getErrorMessage()).toBe('Deferred.errback() was called without a reason');
    const e = new Deferred<number>();
    e.addErrback((f: Failure) => void seen.push(f));
    e.errback(undefined);
    expect(seen[1].value).toBeUndefined();
  });

  test('errbacks get a Failure; a thrown error becomes a Failure with the same value', () => {
    const d = new Deferred<number>();
    const err = new MyError('bad');
    let got: Failure | undefined;
    d.addCallback(() => {
      throw err;
    })
      .addCallback(() => 'skipped')
      .addErrback((f) => {
        got = f;
      });
    d.callback(1);
    expect(got).toBeInstanceOf(Failure);
    expect(got?.value).toBe(err);
  });

  test('errback takes an Error, a Failure or any value', () => {
    const values: unknown[] = [];
    const e1 = new MyError('e');
    const f = new Failure(new MyError('f'));
    for (const v of [e1, f, 'str', 42]) {
      const d = new Deferred();
      d.addErrback((fail) => values.push(fail));
      d.errback(v);
    }
    expect((values[0] as Failure).value).toBe(e1);
    expect(values[1]).toBe(f);
    expect((values[2] as Failure).value).toBe('str');
    expect((values[3] as Failure).value).toBe(42);
  });

  test('an errback returning normally switches back to success', () => {
    const d = new Deferred<number>();
    const seen: unknown[] = [];
    d.addErrback(() => 'recovered').addCallback((r) => seen.push(r));
    d.errback(new Error('x'));
    expect(seen).toEqual(['recovered']);
  });

  test('trap that does not match keeps the chain failing with the same value', () => {
    const d = new Deferred();
    const err = new MyError('m');
    const seen: unknown[] = [];
    d.addErrback((f) => f.trap(CancelledError)).addErrback((f) => seen.push(f.value));
    d.errback(err);
    expect(seen).toEqual([err]);
  });

  test('a thrown Failure moves on as itself', () => {
    const d = new Deferred();
    const f = new Failure(new MyError('x'));
    let got: unknown;
    d.addCallback(() => {
      throw f;
    }).addErrback((g) => {
      got = g;
    });
    d.callback(0);
    expect(got).toBe(f);
  });
});

describe('chaining', () => {
  test('a callback returning a Deferred pauses the chain until it fires', () => {
    const outer = new Deferred<number>();
    const inner = new Deferred<string>();
    const seen: unknown[] = [];
    outer.addCallback(() => inner).addCallback((r) => seen.push(r));
    outer.callback(1);
    expect(seen).toEqual([]);
    expect(outer.paused).toBe(1);
    inner.callback('inner');
    expect(seen).toEqual(['inner']);
    expect(outer.paused).toBe(0);
  });

  test('an already-fired inner Deferred hands over its result', () => {
    const outer = new Deferred<number>();
    const seen: unknown[] = [];
    const inner = new Deferred<number>();
    inner.errback(new MyError('in'));
    outer.addCallback(() => inner).addErrback((f) => seen.push(f.getErrorMessage()));
    outer.callback(1);
    expect(seen).toEqual(['in']);
    expect(inner.result).toBeUndefined();
  });

  test('a callback returning a Promise waits for it', async () => {
    const d = new Deferred<number>();
    const seen: unknown[] = [];
    const done = d.addCallback((r) => Promise.resolve(r * 10)).addCallback((r) => seen.push(r));
    d.callback(4);
    expect(seen).toEqual([]);
    await done;
    expect(seen).toEqual([40]);
  });

  test('chainDeferred passes the result to another Deferred', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    let got: unknown;
    b.addCallback((r) => {
      got = r;
    });
    a.chainDeferred(b);
    a.callback(7);
    expect(got).toBe(7);
    const c = new Deferred<number>();
    const e = new Deferred<number>();
    e.addErrback((f) => {
      got = f.getErrorMessage();
    });
    c.chainDeferred(e);
    c.errback(new Error('chained'));
    expect(got).toBe('chained');
  });

  test('pause and unpause hold and release the chain', () => {
    const d = new Deferred<number>();
    const seen: number[] = [];
    d.pause();
    d.addCallback((r) => seen.push(r));
    d.callback(1);
    expect(seen).toEqual([]);
    d.pause();
    d.unpause();
    expect(seen).toEqual([]);
    d.unpause();
    expect(seen).toEqual([1]);
  });
});

describe('no recursion limit', () => {
  test('100,000 callbacks on one Deferred', () => {
    const d = new Deferred<number>();
    for (let i = 0; i < 100_000; i++) d.addCallback((r) => r + 1);
    let got = 0;
    d.addCallback((r) => {
      got = r;
    });
    d.callback(0);
    expect(got).toBe(100_000);
  });

  test('10,000 Deferreds each waiting on the next', () => {
    const ds: Deferred<number>[] = [];
    for (let i = 0; i < 10_000; i++) ds.push(new Deferred<number>());
    for (let i = 0; i < ds.length - 1; i++) {
      const next = ds[i + 1];
      ds[i].addCallback(() => next);
    }
    let got: unknown;
    ds[0].addCallback((r) => {
      got = r;
    });
    for (let i = 0; i < ds.length - 1; i++) ds[i].callback(0);
    expect(got).toBeUndefined();
    ds[ds.length - 1].callback(99);
    expect(got).toBe(99);
  });

  test('10,000 Deferreds fired innermost-first collapse without overflow', () => {
    let d = new Deferred<number>();
    const first = d;
    const inners: Deferred<number>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const inner = new Deferred<number>();
      inners.push(inner);
      d.addCallback(() => inner);
      d = inner;
    }
    let got: unknown;
    first.addCallback((r) => {
      got = r;
    });
    inners[inners.length - 1].callback(5);
    for (let i = inners.length - 2; i >= 0; i--) inners[i].callback(0);
    first.callback(0);
    expect(got).toBe(5);
  });
});

describe('cancel', () => {
  test('without a canceller: CancelledError, and a later fire is ignored once', () => {
    const d = new Deferred<number>();
    let f: Failure | undefined;
    d.addErrback((x) => {
      f = x;
    });
    d.cancel();
    expect(f?.check(CancelledError)).toBe(CancelledError);
    expect(() => d.callback(1)).not.toThrow();
    expect(() => d.callback(2)).toThrow(AlreadyCalledError);
  });

  test('a canceller that fires the Deferred itself wins', () => {
    const d = new Deferred<string>((me) => me.callback('cancelled-by-canceller'));
    let got: unknown;
    d.addBoth((r) => {
      got = r;
    });
    d.cancel();
    expect(got).toBe('cancelled-by-canceller');
  });

  test('a canceller that does not fire leads to CancelledError, and a later fire is an error', () => {
    let ran = 0;
    const d = new Deferred<string>(() => {
      ran++;
    });
    let got: Failure | undefined;
    d.addErrback((f) => {
      got = f;
    });
    d.cancel();
    expect(ran).toBe(1);
    expect(got?.value).toBeInstanceOf(CancelledError);
    expect(() => d.callback('late')).toThrow(AlreadyCalledError);
  });

  test('cancel on a fired Deferred does nothing', () => {
    const d = new Deferred<number>(() => {
      throw new Error('should not run');
    });
    d.callback(1);
    expect(() => d.cancel()).not.toThrow();
    expect(d.result).toBe(1);
  });

  test('cancelling a Deferred that waits on another cancels the inner one', () => {
    let innerCancelled = false;
    const inner = new Deferred<number>(() => {
      innerCancelled = true;
    });
    const outer = new Deferred<number>();
    let got: Failure | undefined;
    outer.addCallback(() => inner).addErrback((f) => {
      got = f;
    });
    outer.callback(0);
    outer.cancel();
    expect(innerCancelled).toBe(true);
    expect(got?.value).toBeInstanceOf(CancelledError);
  });
});

describe('types flow through the chain', () => {
  test('addCallback infers the result of values, Deferreds and Promises', async () => {
    const d = new Deferred<number>();
    const asString: Deferred<string> = d.addCallback((n) => String(n));
    const fromDeferred: Deferred<boolean> = asString.addCallback((s) => {
      const inner = new Deferred<boolean>();
      inner.callback(s === '1');
      return inner;
    });
    const fromPromise: Deferred<number[]> = fromDeferred.addCallback((b) => Promise.resolve([Number(b)]));
    const recovered: Deferred<number[] | null> = fromPromise.addErrback(() => null);
    d.callback(1);
    expect(await recovered).toEqual([1]);
  });
});

describe('re-entrancy and paused chains (test_defer.py)', () => {
  test('a callback added by a running callback runs after the current chain, not inside it', () => {
    const d = new Deferred<void>();
    const called: number[] = [];
    d.addCallback(() => {
      called.push(1);
      d.addCallback(() => called.push(3));
      expect(called).toEqual([1]);
    });
    d.addCallback(() => called.push(2));
    d.callback();
    expect(called).toEqual([1, 2, 3]);
  });

  test('a callback that fires another Deferred whose chain touches this one', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const seen: string[] = [];
    b.addCallback((r) => {
      seen.push(`b:${r}`);
      a.addCallback((x) => seen.push(`a-late:${x}`));
    });
    a.addCallback((r) => {
      seen.push(`a:${r}`);
      b.callback('from-a');
      return 'a-result';
    });
    a.callback('go');
    expect(seen).toEqual(['a:go', 'b:from-a', 'a-late:a-result']);
  });

  test('a paused Deferred that another waits on holds the outer chain until unpaused', () => {
    const paused = new Deferred<string>();
    paused.callback('expected');
    paused.pause();
    const chained = new Deferred<void>();
    const after = chained.addCallback(() => paused);
    chained.callback();
    const result: string[] = [];
    after.addCallback((r) => result.push(r));
    expect(result).toEqual([]);
    paused.unpause();
    expect(result).toEqual(['expected']);
  });

  test('an outer Deferred paused after chaining gets the inner result only on unpause', () => {
    const first = new Deferred<void>();
    const second = new Deferred<string>();
    first.addCallback(() => second);
    first.callback();
    first.pause();
    const seen: unknown[] = [];
    first.addCallback((r) => seen.push(r));
    second.callback('inner');
    expect(seen).toEqual([]);
    first.unpause();
    expect(seen).toEqual(['inner']);
  });

  test('nested asynchronous chains with extra callbacks keep every result in order', () => {
    const inner = new Deferred<string>();
    const outer = new Deferred<string>();
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const start = new Deferred<string>();
    start.addCallback((r) => {
      results.push(['start', r]);
      return inner;
    });
    start.addCallback((r) => {
      results.push(['inner-done', r]);
      return outer.addCallback((o) => `${o}+${r}`);
    });
    start.addCallback((r) => results.push(['end', r]));
    start.addErrback((f) => failures.push(f));
    start.callback('s');
    inner.callback('i');
    expect(results).toEqual([['start', 's'], ['inner-done', 'i']]);
    outer.callback('o');
    expect(results).toEqual([['start', 's'], ['inner-done', 'i'], ['end', 'o+i']]);
    expect(failures).toEqual([]);
    expect(inner.result).toBeUndefined();
  });

  test('a canceller that throws propagates out of cancel', () => {
    const d = new Deferred<void>(() => {
      throw new Error('canceller broke');
    });
    expect(() => d.cancel()).toThrow('canceller broke');
  });
});
