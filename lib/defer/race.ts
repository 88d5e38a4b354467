/**
 * race (twisted.internet.defer.race): the first of several Deferreds to
 * succeed wins, and every other one is cancelled.
 */
import { FailureGroup } from '../errors';
import { Failure } from '../failure';
import { Deferred } from './deferred';
import { isPromiseLike } from './helpers';

/**
 * Fires with `[index, result]` of the first Deferred (or Promise) in `ds`
 * to succeed and cancels all the others. When every one fails, fails with
 * FailureGroup holding their Failures (at once for an empty list).
 * Cancelling the result cancels them all (CancelledError). race consumes
 * the results of the Deferreds passed in.
 */
export function race<T>(ds: Iterable<Deferred<T> | PromiseLike<T>>): Deferred<[number, T]> {
  const all = Array.from(ds, (d, i) => {
    if (isPromiseLike(d)) return Deferred.fromPromise(d as PromiseLike<T>);
    if (!((d as unknown as object) instanceof Deferred)) throw new TypeError(`race: item ${i} is not a Deferred or Promise`);
    return d;
  });
  let settled = false;
  const cancelAll = (except: number): void => {
    all.forEach((d, i) => {
      if (i !== except) d.cancel();
    });
  };
  const result = new Deferred<[number, T]>(() => {
    settled = true;
    cancelAll(-1);
  });
  const failures: Failure[] = new Array<Failure>(all.length);
  let failed = 0;
  all.forEach((d, i) => {
    d.addCallbacks(
      (value: T) => {
        if (settled) return undefined;
        settled = true;
        cancelAll(i);
        result.callback([i, value]);
        return undefined;
      },
      (failure: Failure) => {
        failures[i] = failure;
        failed++;
        if (!settled && failed === all.length) {
          settled = true;
          result.errback(new FailureGroup(failures));
        }
        return undefined;
      },
    );
  });
  if (all.length === 0) result.errback(new FailureGroup([]));
  return result;
}
