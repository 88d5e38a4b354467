/**
 * Options of listenTCP/connectTCP/listenUNIX/connectUNIX and their checks:
 * each turns user arguments into a Port or Connector config, or throws a
 * typed error naming what was wrong.
 */
import * as net from 'net';
import { CannotListenError } from '../errors';
import type { Factory } from '../protocol';
import { checkPort, Family } from '../transport/addresses';
import type { ConnectorConfig } from './connector';
import type { PortConfig } from './port';

/** Options of listenTCP. */
export interface ListenTCPOptions {
  /** listen() backlog (50). */
  backlog?: number;
  /** Numeric address to bind: '' = every IPv4 address, '::' = IPv6 (and IPv4), 'localhost'. */
  interface?: string;
  /** Most connections accepted per wake-up; 1 pins one accept per wake-up. */
  acceptBatch?: number;
  /** SO_REUSEPORT, so several listeners can share the port. */
  reusePort?: boolean;
}

/** Options of connectTCP. */
export interface ConnectTCPOptions {
  /** Seconds before the attempt fails with TimeoutError (30); null for none. */
  timeout?: number | null;
  /** Local [host, port] to bind before connecting. */
  bindAddress?: [string, number] | null;
}

/** Options of listenUNIX. */
export interface ListenUNIXOptions {
  /** listen() backlog (50). */
  backlog?: number;
  /** File mode for the socket file (e.g. 0o660). */
  mode?: number;
  /**
   * Hold `<path>.lock` with this process's pid while listening (Twisted's
   * wantPID): a second server on the path fails with CannotListenError, a
   * dead server's lock is taken over, and stopListening removes it (false).
   */
  wantPID?: boolean;
}

/** Options of connectUNIX. */
export interface ConnectUNIXOptions {
  /** Seconds before the attempt fails with TimeoutError (30); null for none. */
  timeout?: number | null;
}

const DEFAULT_BACKLOG = 50;
const DEFAULT_TIMEOUT = 30;

/** Throws unless `value` is a non-negative finite number (an integer when asked). */
function checkNonNegative(value: unknown, what: string, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${what} must be a non-negative ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  }
  return value;
}

function checkFactory(factory: unknown, what: string): void {
  if (factory === null || typeof factory !== 'object' || typeof (factory as { buildProtocol?: unknown }).buildProtocol !== 'function') {
    throw new TypeError(`${what}: factory must be a Factory (an object with buildProtocol), got ${String(factory)}`);
  }
}

function checkOptions<T extends object>(opts: T | undefined, what: string): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${what}: options must be an object`);
  return opts;
}

function checkTimeout(opts: { timeout?: number | null }, what: string): number | null {
  if (opts.timeout === undefined) return DEFAULT_TIMEOUT;
  if (opts.timeout === null || opts.timeout === Infinity) return null;
  return checkNonNegative(opts.timeout, `${what}: timeout`);
}

function checkPath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${what}: path must be a non-empty string, got ${String(path)}`);
  return path;
}

/**
 * The (family, numeric host) to listen on for a listenTCP interface: '' is
 * every IPv4 address, 'localhost' is 127.0.0.1, else a numeric IPv4/IPv6 address.
 */
function listenInterface(iface: unknown, port: number): { family: Family; host: string } {
  if (iface === undefined || iface === '') return { family: Family.V4, host: '0.0.0.0' };
  if (typeof iface !== 'string') throw new TypeError(`listenTCP: interface must be a string, got ${String(iface)}`);
  if (iface === 'localhost') return { family: Family.V4, host: '127.0.0.1' };
  const v = net.isIP(iface);
  if (v === 4) return { family: Family.V4, host: iface };
  if (v === 6) return { family: Family.V6, host: iface };
  throw new CannotListenError(iface, port, 'interface must be a numeric IPv4/IPv6 address or "localhost"', 'EINVAL');
}

/** Checks listenTCP's arguments; returns the Port config. */
export function tcpPortConfig(port: number, factory: Factory, opts: ListenTCPOptions | undefined): PortConfig {
  checkPort(port, 'listenTCP');
  checkFactory(factory, 'listenTCP');
  const o = checkOptions(opts, 'listenTCP');
  const { family, host } = listenInterface(o.interface, port);
  const backlog = checkNonNegative(o.backlog ?? DEFAULT_BACKLOG, 'listenTCP: backlog', true);
  let acceptBatch: number | undefined;
  if (o.acceptBatch !== undefined) {
    acceptBatch = checkNonNegative(o.acceptBatch, 'listenTCP: acceptBatch', true);
    if (acceptBatch < 1 || acceptBatch > 65536) throw new RangeError(`listenTCP: acceptBatch must be in 1..65536, got ${acceptBatch}`);
  }
  return { family, host, port, backlog, reusePort: !!o.reusePort, acceptBatch };
}

/** Checks connectTCP's arguments; returns the Connector config. */
export function tcpConnectorConfig(host: string, port: number, factory: Factory, opts: ConnectTCPOptions | undefined): ConnectorConfig {
  if (typeof host !== 'string' || host === '') throw new TypeError(`connectTCP: host must be a non-empty string, got ${String(host)}`);
  checkPort(port, 'connectTCP');
  checkFactory(factory, 'connectTCP');
  const o = checkOptions(opts, 'connectTCP');
  let bindAddress: [string, number] | null = null;
  if (o.bindAddress !== undefined && o.bindAddress !== null) {
    const b = o.bindAddress;
    if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== 'string') throw new TypeError('connectTCP: bindAddress must be [host, port]');
    bindAddress = [b[0] === '' ? '0.0.0.0' : b[0], checkPort(b[1], 'connectTCP bindAddress')];
  }
  return { kind: Family.V4, host, port, timeout: checkTimeout(o, 'connectTCP'), bindAddress };
}

/** Checks listenUNIX's arguments; returns the Port config. */
export function unixPortConfig(path: string, factory: Factory, opts: ListenUNIXOptions | undefined): PortConfig {
  checkPath(path, 'listenUNIX');
  checkFactory(factory, 'listenUNIX');
  const o = checkOptions(opts, 'listenUNIX');
  const backlog = checkNonNegative(o.backlog ?? DEFAULT_BACKLOG, 'listenUNIX: backlog', true);
  if (o.mode !== undefined && (!Number.isInteger(o.mode) || o.mode < 0 || o.mode > 0o7777)) {
    throw new TypeError(`listenUNIX: mode must be an integer file mode such as 0o660, got ${String(o.mode)}`);
  }
  if (o.wantPID !== undefined && typeof o.wantPID !== 'boolean') {
    throw new TypeError(`listenUNIX: wantPID must be a boolean, got ${String(o.wantPID)}`);
  }
  return { family: Family.Unix, host: path, port: 0, backlog, reusePort: false, mode: o.mode, wantPID: o.wantPID };
}

/** Checks connectUNIX's arguments; returns the Connector config. */
export function unixConnectorConfig(path: string, factory: Factory, opts: ConnectUNIXOptions | undefined): ConnectorConfig {
  checkPath(path, 'connectUNIX');
  checkFactory(factory, 'connectUNIX');
  const timeout = checkTimeout(checkOptions(opts, 'connectUNIX'), 'connectUNIX');
  return { kind: Family.Unix, host: path, port: 0, timeout, bindAddress: null };
}
