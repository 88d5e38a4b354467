/**
 * The default reactor and createReactor. The default reactor loads the
 * native addon only when first used for I/O, so importing the package is cheap.
 */
import { resolveBackend } from '../poller';
import { checkReactorOptions } from './options';
import { Reactor, ReactorOptions } from './reactor';

/**
 * A new reactor with its own native loop: `createReactor({ backend: 'poll' })`.
 * Throws BackendUnavailableError naming the backends on offer when `backend` is unknown.
 */
export function createReactor(opts: ReactorOptions = {}): Reactor {
  const checked = checkReactorOptions(opts, 'createReactor');
  return new Reactor({ ...checked, backend: resolveBackend(checked.backend) });
}

/** The process-wide reactor on the default backend (the addon loads on first I/O). */
export const reactor = new Reactor();

export { Reactor, DEFAULT_SHUTDOWN_TIMEOUT, AUTO_COALESCE_MICROS } from './reactor';
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
