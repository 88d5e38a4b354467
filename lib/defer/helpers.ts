/**
 * Small constructors of Deferreds: succeed, fail, maybeDeferred
 * (twisted.internet.defer's module-level helpers).
 */
import { Failure } from '../failure';
import { Deferred, isThenable } from './deferred';

/** A Deferred already fired with `value`. */
export function succeed<T>(value: T): Deferred<T> {
  const d = new Deferred<T>();
  d.callback(value);
  return d;
}

/** A Deferred already failed with `err` (an Error, a Failure or any value). */
export function fail<T = never>(err?: unknown): Deferred<T> {
  const d = new Deferred<T>();
  d.errback(err);
  return d;
}

/** True for Promises and other thenables that are not Deferreds. */
export function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return !(v instanceof Deferred) && isThenable(v);
}

/**
 * Calls `fn(...args)` and always gives a Deferred: a throw becomes a failed
 * one, a value a fired one, a Deferred itself, a Promise a wrapping one.
 */
export function maybeDeferred<T, A extends unknown[]>(
  fn: (...args: A) => T | Deferred<T> | PromiseLike<T>,
  ...args: A
): Deferred<T> {
  let result: T | Deferred<T> | PromiseLike<T>;
  try {
    result = fn(...args);
  } catch (e) {
    return fail<T>(e);
  }
  if (result instanceof Deferred) return result;
  if (result instanceof Failure) return fail<T>(result);
  if (isPromiseLike(result)) return Deferred.fromPromise(result as PromiseLike<T>);
  return succeed(result as T);
}

/** Removes `item` from `list` if there (how a cancelled waiter leaves its queue). */
export function removeItem<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
