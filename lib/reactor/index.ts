/**
 * The default reactor and createReactor. The default reactor loads the
 * native addon only when first used for I/O, so importing the package is cheap.
 */
import { resolveBackend } from '../poller';
import { checkHighWaterMark } from '../transport/high-water';
import { Reactor, ReactorOptions } from './reactor';

/**
 * A new reactor with its own native loop: `createReactor({ backend: 'poll' })`.
 * Throws BackendUnavailableError naming the backends on offer when `backend` is unknown.
 */
export function createReactor(opts: ReactorOptions = {}): Reactor {
  if (opts === null || typeof opts !== 'object') throw new TypeError('createReactor: options must be an object');
  const backend = resolveBackend(opts.backend);
  const hwm = opts.highWaterMark === undefined ? undefined : checkHighWaterMark(opts.highWaterMark, 'createReactor');
  const st = opts.shutdownTimeout;
  if (st !== undefined && (typeof st !== 'number' || !Number.isFinite(st) || st < 0)) {
    throw new TypeError(`createReactor: shutdownTimeout must be a finite number of seconds >= 0, got ${String(st)}`);
  }
  const exact = opts.exactLoopUtilization;
  if (exact !== undefined && typeof exact !== 'boolean') {
    throw new TypeError(`createReactor: exactLoopUtilization must be a boolean, got ${String(exact)}`);
  }
  const coalesceMicros = checkCoalesce(opts.coalesceMicros, exact);
  return new Reactor({ backend, highWaterMark: hwm, shutdownTimeout: st, exactLoopUtilization: exact, coalesceMicros });
}

/** ReactorOptions.coalesceMicros: a whole number of µs, 0..1000, only with the reactor's own wait. */
function checkCoalesce(us: unknown, exact: boolean | undefined): number | undefined {
  if (us === undefined) return undefined;
  if (typeof us !== 'number' || !Number.isInteger(us) || us < 0 || us > 1000) {
    throw new TypeError(`createReactor: coalesceMicros must be a whole number of microseconds from 0 to 1000, got ${String(us)}`);
  }
  if (us > 0 && exact !== false) {
    throw new TypeError('createReactor: coalesceMicros needs exactLoopUtilization: false (the window is part of the reactor\'s own wait)');
  }
  return us;
}

/** The process-wide reactor on the default backend (the addon loads on first I/O). */
export const reactor = new Reactor();

export { Reactor, DEFAULT_SHUTDOWN_TIMEOUT } from './reactor';
export type { ReactorOptions } from './reactor';
export type { ListenTCPOptions, ConnectTCPOptions, ListenUNIXOptions, ConnectUNIXOptions } from '../tcp/options';
export type { SocketFamily } from '../tcp/adopt';
export type { ReactorStats } from './core';
export type { IReadDescriptor, IWriteDescriptor } from '../interfaces';
export type { TriggerId, TriggerPhase } from './triggers';
export { Port } from '../tcp/port';
export type { PortStats } from '../tcp/port';
export { Connector } from '../tcp/connector';
export { StreamTransport } from '../transport/stream';
