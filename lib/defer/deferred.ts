/**
 * Deferred: a result that is not there yet, with a chain of callbacks and
 * errbacks run synchronously when it arrives (twisted.internet.defer.Deferred).
 *
 * Design notes:
 * - One small `Step` record per addCallbacks; no closure is made per call.
 * - No recursion: when a callback returns an unfired Deferred, the outer one
 *   pauses and a "continue" Step is appended to the inner one. Firing walks an
 *   explicit stack (shared by all runs; nested runs only use the part above
 *   their base), so 100,000 callbacks or 10,000 nested Deferreds never grow
 *   the JS stack.
 * - A Deferred that ends a run holding a Failure registers a tiny record with
 *   ./unhandled.ts; handling the failure unregisters it.
 */
import { AlreadyCalledError, CancelledError, TimeoutError } from '../errors';
import { Failure } from '../failure';
import { log } from '../log';
import type { IReactorTime } from '../interfaces';
import { trackFailure, untrackFailure, type PendingFailure } from './unhandled';

/** A value, or something that will produce it (a Deferred or a Promise). */
export type Awaitable<U> = U | PromiseLike<U>;

/** Extra arguments for `addCallbacks`. */
export interface AddCallbacksOptions<CA extends unknown[], EA extends unknown[]> {
  /** Passed to the callback after the result. */
  callbackArgs?: CA;
  /** Passed to the errback after the Failure. */
  errbackArgs?: EA;
}

type StepFn = (result: unknown, ...args: unknown[]) => unknown;

/** One link of the chain: a callback/errback pair, or a "continue" into a waiting Deferred. */
class Step {
  constructor(
    readonly cb: StepFn | null,
    readonly eb: StepFn | null,
    readonly cbArgs: unknown[] | null,
    readonly ebArgs: unknown[] | null,
    readonly chainee: Deferred<unknown> | null,
  ) {}
}

/** The explicit run stack shared by every `_runCallbacks` (see design notes). */
const runStack: Deferred<unknown>[] = [];

/** True for anything with a callable `then` (Promises, Deferreds, other thenables). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** Turns a CancelledError into TimeoutError once `addTimeout` fired (Twisted's default). */
function cancelledToTimedOut(value: unknown, timeout: number): unknown {
  if (value instanceof Failure) {
    value.trap(CancelledError);
    throw new TimeoutError(`Deferred timed out after ${timeout} seconds`);
  }
  return value;
}

/**
 * A canceller as stored: a method's parameter type, so a Deferred stays
 * covariant in T (a `Deferred<Echo>` is a `Deferred<Protocol>`, as with Promise).
 */
type Canceller<T> = { cancel(d: Deferred<T>): void }['cancel'];

/**
 * A result that is not there yet; callbacks run synchronously when it arrives.
 * Covariant in T (`out`), as Promise is. A failure no errback took is logged
 * ("Unhandled error in Deferred:") when the Deferred is garbage-collected, or
 * at exit if it is still held; the exit code is not changed (README).
 */
export class Deferred<out T = unknown> implements PromiseLike<T> {
  /** True once `callback` or `errback` was called. */
  called = false;
  /** How many times `pause()` is in force; callbacks do not run while above 0. */
  paused = 0;
  /** The current result: a value, a Failure, or the Deferred this one waits on. */
  result: unknown = undefined;

  private _steps: Step[] = [];
  private _next = 0;
  private _runningCallbacks = false;
  private _suppressAlreadyCalled = false;
  private _pending: PendingFailure | null = null;
  private readonly _canceller: Canceller<T> | undefined;

  /** `canceller(d)` runs on `cancel()`; it may fire `d` itself, else CancelledError is used. */
  constructor(canceller?: (d: Deferred<T>) => void) {
    this._canceller = canceller;
  }

  /** Wraps a Promise (or any thenable); cancelling only stops listening to it. */
  static fromPromise<T>(p: PromiseLike<T>): Deferred<T> {
    const d = new Deferred<T>();
    const settle = (fire: () => void): void => {
      try {
        fire();
      } catch (e) {
        log.failure('Deferred.fromPromise: could not fire the Deferred', new Failure(e));
      }
    };
    p.then(
      (v) => settle(() => d.callback(v)),
      (e) => settle(() => d.errback(e)),
    );
    return d;
  }

  /** Fires the success chain with `result`; a second fire throws AlreadyCalledError. */
  callback(result: T): void {
    if (result instanceof Deferred) throw new TypeError('Deferred.callback: the result may not be a Deferred');
    this._start(result);
  }

  /**
   * Fires the error chain; `err` may be an Error, a Failure or any value.
   * With none (Twisted's errback() takes the exception being handled, which
   * JavaScript has no notion of), the Failure is an Error that says so.
   */
  errback(err?: unknown): void {
    if (arguments.length === 0) err = new Error('Deferred.errback() was called without a reason');
    this._start(err instanceof Failure ? err : new Failure(err));
  }

  /** Adds a success callback `fn(result, ...args)`; failures pass it by. */
  addCallback<U, A extends unknown[] = []>(fn: (result: T, ...args: A) => Awaitable<U>, ...args: A): Deferred<U> {
    return this._add(new Step(fn as unknown as StepFn, null, args.length ? args : null, null, null)) as unknown as Deferred<U>;
  }

  /** Adds an errback `fn(failure, ...args)`; returning normally switches the chain back to success. */
  addErrback<U = T, A extends unknown[] = []>(fn: (failure: Failure, ...args: A) => Awaitable<U>, ...args: A): Deferred<T | U> {
    return this._add(new Step(null, fn as unknown as StepFn, null, args.length ? args : null, null)) as unknown as Deferred<T | U>;
  }

  /** Adds `fn` as both callback and errback; it gets the value or the Failure. */
  addBoth<U, A extends unknown[] = []>(fn: (result: T | Failure, ...args: A) => Awaitable<U>, ...args: A): Deferred<U> {
    const f = fn as unknown as StepFn;
    const a = args.length ? args : null;
    return this._add(new Step(f, f, a, a, null)) as unknown as Deferred<U>;
  }

  /** Adds a callback/errback pair at the same place in the chain, with optional extra args. */
  addCallbacks<U, V = never, CA extends unknown[] = [], EA extends unknown[] = []>(
    cb: ((result: T, ...args: CA) => Awaitable<U>) | null,
    eb?: ((failure: Failure, ...args: EA) => Awaitable<V>) | null,
    opts?: AddCallbacksOptions<CA, EA>,
  ): Deferred<U | V> {
    const ca = opts?.callbackArgs;
    const ea = opts?.errbackArgs;
    const step = new Step(
      (cb ?? null) as unknown as StepFn | null,
      (eb ?? null) as unknown as StepFn | null,
      ca && ca.length ? ca : null,
      ea && ea.length ? ea : null,
      null,
    );
    return this._add(step) as unknown as Deferred<U | V>;
  }

  /** Fires `d` with this chain's result at this point; the result becomes undefined, as in Twisted. */
  chainDeferred(d: Deferred<T>): Deferred<void> {
    return this.addCallbacks(
      (r) => d.callback(r),
      (f) => d.errback(f),
    );
  }

  /** Stops running callbacks until a matching `unpause()`. */
  pause(): void {
    this.paused++;
  }

  /** Undoes one `pause()`; at zero, runs any callbacks waiting on a result. */
  unpause(): void {
    this.paused--;
    if (this.paused > 0) return;
    if (this.called) this._runCallbacks();
  }

  /**
   * Cancels: runs the canceller (which may fire this Deferred itself), else
   * errbacks with CancelledError. A Deferred waiting on another cancels that one.
   */
  cancel(): void {
    if (!this.called) {
      const canceller = this._canceller;
      if (canceller) canceller(this);
      else this._suppressAlreadyCalled = true;
      if (!this.called) this.errback(new Failure(new CancelledError()));
    } else if (this.result instanceof Deferred) {
      this.result.cancel();
    }
  }

  /**
   * Cancels after `seconds` on `clock`; the CancelledError becomes TimeoutError,
   * or `onTimeoutCancel(result, seconds)` decides the result.
   */
  addTimeout(seconds: number, clock: IReactorTime, onTimeoutCancel?: (result: unknown, timeout: number) => unknown): Deferred<T> {
    let timedOut = false;
    const call = clock.callLater(seconds, () => {
      timedOut = true;
      this.cancel();
    });
    const convert = (value: unknown): unknown => (timedOut ? (onTimeoutCancel ?? cancelledToTimedOut)(value, seconds) : value);
    const stopTimer = (value: unknown): unknown => {
      if (call.active()) call.cancel();
      return value;
    };
    this._add(new Step(convert, convert, null, null, null));
    return this._add(new Step(stopTimer, stopTimer, null, null, null));
  }

  /** Makes `await d` work; awaiting consumes a failure (the chain continues with undefined). */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.asPromise().then(onfulfilled, onrejected);
  }

  /** A native Promise of the result; it rejects with `failure.value`, not the Failure. */
  asPromise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const ok: StepFn = (v) => {
        resolve(v as T);
        return v;
      };
      const bad: StepFn = (f) => {
        reject((f as Failure).value);
        return undefined;
      };
      this._add(new Step(ok, bad, null, null, null));
    });
  }

  private _add(step: Step): this {
    this._steps.push(step);
    if (this.called) this._runCallbacks();
    return this;
  }

  private _start(result: unknown): void {
    if (this.called) {
      if (this._suppressAlreadyCalled) {
        this._suppressAlreadyCalled = false;
        return;
      }
      throw new AlreadyCalledError();
    }
    this.called = true;
    this.result = result;
    this._runCallbacks();
  }

  /** Runs as much of the chain as can run now (see design notes). */
  private _runCallbacks(): void {
    if (this._runningCallbacks) return;
    const base = runStack.length;
    runStack.push(this as Deferred<unknown>);
    while (runStack.length > base) {
      const current = runStack[runStack.length - 1];
      if (current.paused > 0) {
        runStack.length = base;
        return;
      }
      if (current._runSteps()) {
        current._settleTracking();
        runStack.pop();
      }
    }
  }

  /** Runs this Deferred's steps; false when it handed its result to a waiting Deferred. */
  private _runSteps(): boolean {
    const steps = this._steps;
    while (this._next < steps.length) {
      const step = steps[this._next++];
      const chainee = step.chainee;
      if (chainee !== null) {
        chainee.result = this.result;
        this.result = undefined;
        this._stopTracking();
        chainee.paused--;
        runStack.push(chainee);
        return false;
      }
      const previous = this.result;
      const failed = previous instanceof Failure;
      const fn = failed ? step.eb : step.cb;
      if (fn === null) continue;
      const args = failed ? step.ebArgs : step.cbArgs;
      this._runningCallbacks = true;
      try {
        this.result = args === null ? fn(previous) : fn(previous, ...args);
      } catch (e) {
        this.result = e instanceof Failure ? e : failed && (previous as Failure).value === e ? previous : new Failure(e);
      }
      this._runningCallbacks = false;
      if (this.result !== null && typeof this.result === 'object' && this._adoptResult()) break;
    }
    if (this._next >= steps.length) {
      steps.length = 0;
      this._next = 0;
    }
    return true;
  }

  /** The result is an object: when it is a Deferred or thenable, take its result or wait on it. */
  private _adoptResult(): boolean {
    let inner = this.result;
    if (!(inner instanceof Deferred)) {
      if (!isThenable(inner)) return false;
      inner = Deferred.fromPromise(inner);
      this.result = inner;
    }
    const d = inner as Deferred<unknown>;
    if (d === (this as Deferred<unknown>)) {
      this.result = new Failure(new TypeError('A Deferred callback returned the same Deferred'));
      return false;
    }
    if (!d.called || d.paused > 0 || d.result instanceof Deferred) {
      this.paused++;
      d._steps.push(new Step(null, null, null, null, this as Deferred<unknown>));
      return true;
    }
    this.result = d.result;
    d.result = undefined;
    d._stopTracking();
    return false;
  }

  /** After a run: watch a held Failure for being unhandled, or stop watching. */
  private _settleTracking(): void {
    if (this.result instanceof Failure) {
      if (this._pending === null) this._pending = trackFailure(this, this.result);
      else this._pending.failure = this.result;
    } else {
      this._stopTracking();
    }
  }

  /** The failure this Deferred held was handled or handed on. */
  private _stopTracking(): void {
    if (this._pending !== null) {
      untrackFailure(this._pending);
      this._pending = null;
    }
  }
}
