/**
 * ensureDeferred: turns a Promise, an async function's result or a generator
 * (driven by us, Twisted's cancellable coroutines) into a Deferred.
 *
 * What cancelling the returned Deferred does:
 * - generator: the Deferred (or Promise) it is waiting on is cancelled, so a
 *   CancelledError is thrown into the generator at its `yield`. If the
 *   generator then finishes at once, its result or error wins. If it yields
 *   again instead, it is closed with `return()` (its `finally` blocks run) and
 *   the Deferred fails with CancelledError.
 * - Promise / async function: JS cannot stop it. The Deferred fails with
 *   CancelledError at once; the function runs on and its outcome is dropped.
 */
import { NotACoroutineError } from '../errors';
import { Failure } from '../failure';
import { log } from '../log';
import { Deferred } from './deferred';
import { isPromiseLike } from './helpers';

/** True for (synchronous) generator objects: next and throw, and not an async generator. */
function isGenerator(v: unknown): v is Generator<unknown, unknown, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { next?: unknown }).next === 'function' &&
    typeof (v as { throw?: unknown }).throw === 'function' &&
    !(Symbol.asyncIterator in v)
  );
}

/** Runs a generator, resuming it with each yielded Deferred's or Promise's outcome. */
class GeneratorDriver<T> {
  readonly deferred: Deferred<T>;
  private waitingOn: Deferred<unknown> | null = null;
  private finished = false;
  private throwNext = false;
  private sendValue: unknown = undefined;

  constructor(private readonly gen: Generator<unknown, T, unknown>) {
    this.deferred = new Deferred<T>(() => this.cancel());
  }

  /** Steps the generator until it waits on something not yet fired, or ends. */
  run(): void {
    for (;;) {
      if (this.finished) return;
      let step: IteratorResult<unknown, T>;
      try {
        step = this.throwNext ? this.gen.throw(this.sendValue) : this.gen.next(this.sendValue);
      } catch (e) {
        this.finish(() => this.deferred.errback(e));
        return;
      }
      if (step.done) {
        const value = step.value;
        this.finish(() => this.deferred.callback(value));
        return;
      }
      if (!this.waitOn(step.value)) return;
    }
  }

  /** Arranges to resume on `yielded`; true when it has already settled (keep looping). */
  private waitOn(yielded: unknown): boolean {
    let awaited: Deferred<unknown>;
    if (yielded instanceof Deferred) awaited = yielded;
    else if (isPromiseLike(yielded)) awaited = Deferred.fromPromise(yielded);
    else {
      this.throwNext = false;
      this.sendValue = yielded;
      return true;
    }
    let synchronous = true;
    let settledNow = false;
    this.waitingOn = awaited;
    awaited.addBoth((result) => {
      this.waitingOn = null;
      this.throwNext = result instanceof Failure;
      this.sendValue = result instanceof Failure ? result.value : result;
      if (synchronous) settledNow = true;
      else this.run();
      return undefined;
    });
    synchronous = false;
    return settledNow;
  }

  private finish(fire: () => void): void {
    this.finished = true;
    fire();
  }

  /** The canceller: see the module note. */
  private cancel(): void {
    if (this.waitingOn !== null) this.waitingOn.cancel();
    if (this.deferred.called || this.finished) return;
    this.finished = true;
    try {
      this.gen.return(undefined as T);
    } catch (e) {
      log.failure('Cancelled generator raised while closing', new Failure(e));
    }
  }
}

/**
 * Wraps a Promise, a Deferred (returned as is) or a generator yielding
 * Deferreds/Promises into a Deferred; anything else throws NotACoroutineError.
 */
export function ensureDeferred<T>(coro: Deferred<T> | PromiseLike<T> | Generator<unknown, T, unknown>): Deferred<T> {
  if (coro instanceof Deferred) return coro;
  if (isPromiseLike(coro)) return Deferred.fromPromise(coro as PromiseLike<T>);
  if (isGenerator(coro)) {
    const driver = new GeneratorDriver<T>(coro as Generator<unknown, T, unknown>);
    driver.run();
    return driver.deferred;
  }
  throw new NotACoroutineError(`ensureDeferred: ${String(coro)} is not a Promise, Deferred or generator`);
}

/** A function made by inlineCallbacks: calls the generator function and drives what it makes. */
export type InlineCallbacksFunction<A extends unknown[], T> = (...args: A) => Deferred<T>;

/**
 * Twisted's `inlineCallbacks`: wraps a generator function that yields
 * Deferreds or Promises into a function returning a Deferred. Each yield
 * waits for what was yielded and resumes with its result; a failure is
 * thrown into the generator at the `yield`; the generator's return value is
 * the Deferred's result. Cancelling the Deferred cancels the one being
 * waited on (see ensureDeferred). An async function is refused at once and
 * any other function that does not return a generator when called, at that
 * call, with NotACoroutineError; a throw before the first yield fails the Deferred.
 */
export function inlineCallbacks<A extends unknown[], T>(fn: (...args: A) => Generator<unknown, T, unknown>): InlineCallbacksFunction<A, T> {
  if (typeof fn !== 'function') throw new NotACoroutineError(`inlineCallbacks: ${String(fn)} is not a function`);
  const kind = (fn as { constructor?: { name?: string } }).constructor?.name;
  if (kind === 'AsyncFunction' || kind === 'AsyncGeneratorFunction') {
    throw new NotACoroutineError(`inlineCallbacks: ${fn.name || 'the function'} is an ${kind}, not a generator function`);
  }
  const name = fn.name || 'anonymous';
  return function inlined(this: unknown, ...args: A): Deferred<T> {
    let made: unknown;
    try {
      made = fn.apply(this, args);
    } catch (e) {
      const d = new Deferred<T>();
      d.errback(e);
      return d;
    }
    if (!isGenerator(made)) {
      throw new NotACoroutineError(`inlineCallbacks: ${name} returned ${describe(made)}, not a generator (write it as function*)`);
    }
    const driver = new GeneratorDriver<T>(made as Generator<unknown, T, unknown>);
    driver.run();
    return driver.deferred;
  };
}

/** A short description of a value for an error message. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (isPromiseLike(v)) return 'a Promise';
  if (v instanceof Deferred) return 'a Deferred';
  return typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : `a ${typeof v}`;
}