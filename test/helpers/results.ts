/**
 * Reading a Deferred's result synchronously, as Twisted's successResultOf /
 * failureResultOf: for tests where nothing asynchronous should be needed.
 */
import type { Deferred } from '../../lib/defer';
import { Failure } from '../../lib/failure';

/** What a Deferred has produced so far. */
export type Outcome<T> = { state: 'pending' } | { state: 'success'; value: T } | { state: 'failure'; failure: Failure };

/** Watches d (consuming a failure, so nothing is logged as unhandled) and reports its outcome on demand. */
export function watch<T>(d: Deferred<T>): () => Outcome<T> {
  let outcome: Outcome<T> = { state: 'pending' };
  d.addCallbacks(
    (value: T) => {
      outcome = { state: 'success', value };
      return value;
    },
    (failure: Failure) => {
      outcome = { state: 'failure', failure };
      return null;
    },
  );
  return () => outcome;
}

/** The value d has already fired with; throws if it is pending or failed. */
export function successResultOf<T>(d: Deferred<T>): T {
  const o = watch(d)();
  if (o.state === 'success') return o.value;
  if (o.state === 'failure') throw new Error(`expected a result, got a failure: ${o.failure.getErrorMessage()}`);
  throw new Error('expected a result, the Deferred has not fired');
}

/** The Failure d has already failed with; throws if it is pending or succeeded. */
export function failureResultOf<T>(d: Deferred<T>): Failure {
  const o = watch(d)();
  if (o.state === 'failure') return o.failure;
  throw new Error(`expected a failure, got ${o.state === 'success' ? 'a result' : 'nothing yet'}`);
}

/** Fails if d has fired. */
export function assertNoResult<T>(d: Deferred<T>): void {
  const d2 = d as Deferred<T> & { called: boolean };
  if (d2.called) throw new Error('expected no result, but the Deferred has fired');
}

export { Failure };
