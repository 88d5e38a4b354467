/**
 * Reports Failures nobody handled: a Deferred garbage-collected while holding
 * one, or still holding one when the process exits, logs it once. The exit
 * code is left alone, as in Twisted, which treats these as log lines, not as
 * the process's outcome (README; a log observer may set one).
 */
import { log } from '../log';
import type { Failure } from '../failure';

/** The small record a failed Deferred registers; it never references the Deferred. */
export interface PendingFailure {
  failure: Failure | null;
}

const live = new Set<PendingFailure>();
let exitHookInstalled = false;

function report(rec: PendingFailure): void {
  const failure = rec.failure;
  rec.failure = null;
  live.delete(rec);
  if (failure !== null) log.failure('Unhandled error in Deferred:', failure);
}

const registry = new FinalizationRegistry<PendingFailure>(report);

function reportAllAtExit(): void {
  for (const rec of Array.from(live)) report(rec);
}

/** Starts watching `owner`, which now holds `failure` with no errback left. */
export function trackFailure(owner: object, failure: Failure): PendingFailure {
  const rec: PendingFailure = { failure };
  registry.register(owner, rec, rec);
  live.add(rec);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', reportAllAtExit);
  }
  return rec;
}

/** Stops watching: the failure was handled or passed on. */
export function untrackFailure(rec: PendingFailure): void {
  rec.failure = null;
  live.delete(rec);
  registry.unregister(rec);
}
