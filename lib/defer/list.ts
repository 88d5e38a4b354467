/**
 * DeferredList and gatherResults: wait for many Deferreds at once
 * (twisted.internet.defer.DeferredList).
 */
import { FirstError } from '../errors';
import { Failure } from '../failure';
import { log } from '../log';
import { Deferred } from './deferred';

/** One entry of a DeferredList result: `[true, value]` or `[false, failure]`. */
export type DeferredListEntry<T> = [true, T] | [false, Failure];

/** Options of a DeferredList, as Twisted's keyword arguments. */
export interface DeferredListOptions {
  /** Fire with `[result, index]` as soon as one Deferred succeeds. */
  fireOnOneCallback?: boolean;
  /** Fail with FirstError as soon as one Deferred fails. */
  fireOnOneErrback?: boolean;
  /** Swallow failures in the listed Deferreds (their chains continue with undefined). */
  consumeErrors?: boolean;
}

/**
 * Fires with `[[success, value], ...]` once every Deferred has fired; with
 * fireOnOneCallback its result is `[result, index]` (use `R = [T, number]`).
 */
export class DeferredList<T, R = DeferredListEntry<T>[]> extends Deferred<R> {
  /** The results so far, in the order of the Deferreds passed in. */
  readonly resultList: (DeferredListEntry<T> | undefined)[];
  /** How many of the Deferreds have fired. */
  finishedCount = 0;
  private readonly deferreds: Deferred<T>[];
  private readonly opts: DeferredListOptions;

  /** Watches `deferreds` (fired ones count at once). */
  constructor(deferreds: Iterable<Deferred<T>>, opts: DeferredListOptions = {}) {
    super();
    this.deferreds = Array.from(deferreds);
    this.opts = opts;
    this.resultList = new Array(this.deferreds.length).fill(undefined);
    if (this.deferreds.length === 0 && !opts.fireOnOneCallback) this.callback(this.resultList as unknown as R);
    this.deferreds.forEach((d, index) => {
      d.addCallbacks(
        (result) => this.onResult(true, result, index),
        (failure) => this.onResult(false, failure, index),
      );
    });
  }

  /** Cancels every Deferred in the list that has not fired; this list then fires as they report. */
  override cancel(): void {
    if (this.called) return;
    for (const d of this.deferreds) {
      try {
        d.cancel();
      } catch (e) {
        log.failure('Exception raised from user supplied canceller', new Failure(e));
      }
    }
  }

  private onResult(ok: boolean, result: unknown, index: number): unknown {
    this.resultList[index] = ok ? [true, result as T] : [false, result as Failure];
    this.finishedCount++;
    if (!this.called) {
      if (ok && this.opts.fireOnOneCallback) this.callback([result, index] as unknown as R);
      else if (!ok && this.opts.fireOnOneErrback) this.errback(new FirstError(result, index));
      else if (this.finishedCount === this.resultList.length) this.callback(this.resultList as unknown as R);
    }
    return !ok && this.opts.consumeErrors ? undefined : result;
  }
}

/**
 * Fires with the list of results once all succeed, or fails with FirstError
 * at the first failure; `consumeErrors` swallows failures in the inputs.
 */
export function gatherResults<T>(deferreds: Iterable<Deferred<T>>, consumeErrors = false): Deferred<T[]> {
  const list = new DeferredList<T>(deferreds, { fireOnOneErrback: true, consumeErrors });
  return list.addCallback((entries) => entries.map((e) => e[1] as T));
}
