/**
 * Checks ReactorOptions where a reactor is made, so a bad value is a
 * TypeError (or BackendUnavailableError) at construction, whichever way the
 * reactor is made, instead of a ReactorLoopError at its first I/O.
 */
import { resolveBackend } from '../poller';
import { checkHighWaterMark } from '../transport/high-water';
import type { ReactorOptions } from './reactor';

/** `opts` checked field by field; errors name `who` (the caller users see). */
export function checkReactorOptions(opts: ReactorOptions, who: string): ReactorOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${who}: options must be an object`);
  const backend = opts.backend === undefined ? undefined : resolveBackend(opts.backend);
  const hwm = opts.highWaterMark === undefined ? undefined : checkHighWaterMark(opts.highWaterMark, who);
  const st = opts.shutdownTimeout;
  if (st !== undefined && (typeof st !== 'number' || !Number.isFinite(st) || st < 0)) {
    throw new TypeError(`${who}: shutdownTimeout must be a finite number of seconds >= 0, got ${String(st)}`);
  }
  const exact = opts.exactLoopUtilization;
  if (exact !== undefined && typeof exact !== 'boolean') {
    throw new TypeError(`${who}: exactLoopUtilization must be a boolean, got ${String(exact)}`);
  }
  const coalesceMicros = checkCoalesce(opts.coalesceMicros, exact, who);
  if (opts.corkWrites !== undefined && typeof opts.corkWrites !== 'boolean') {
    throw new TypeError(`${who}: corkWrites must be a boolean, got ${String(opts.corkWrites)}`);
  }
  return { ...opts, backend, highWaterMark: hwm, shutdownTimeout: st, exactLoopUtilization: exact, coalesceMicros };
}

/** ReactorOptions.coalesceMicros: `'auto'`, or a whole number of µs, 0..1000, above 0 only with the reactor's own wait. */
function checkCoalesce(us: unknown, exact: boolean | undefined, who: string): number | 'auto' | undefined {
  if (us === undefined || us === 'auto') return us;
  if (typeof us !== 'number' || !Number.isInteger(us) || us < 0 || us > 1000) {
    throw new TypeError(`${who}: coalesceMicros must be 'auto' or a whole number of microseconds from 0 to 1000, got ${String(us)}`);
  }
  if (us > 0 && exact !== false) {
    throw new TypeError(`${who}: coalesceMicros needs exactLoopUtilization: false (the window is part of the reactor's own wait)`);
  }
  return us;
}
