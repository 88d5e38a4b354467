/** deferLater: a Deferred that fires after a delay (twisted.internet.task.deferLater). */
import { Deferred } from '../defer/deferred';
import type { IReactorTime } from '../interfaces';

/**
 * After `seconds` on `clock`, calls `fn(...args)` (if given) and fires with its
 * result. Cancelling before then cancels the timer (CancelledError).
 */
export function deferLater<T = undefined, A extends unknown[] = []>(
  clock: IReactorTime,
  seconds: number,
  fn?: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Deferred<T> {
  const d = new Deferred<undefined>(() => call.cancel());
  const call = clock.callLater(seconds, () => d.callback(undefined));
  return d.addCallback(() => (fn ? fn(...args) : (undefined as T)));
}
