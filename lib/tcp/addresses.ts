/**
 * Address helpers for TCP and UNIX sockets: native addresses to
 * IPv4Address/IPv6Address/UNIXAddress, and argument checks that throw a
 * typed error naming what was wrong.
 */
import * as net from 'net';
import { IAddress, IPv4Address, IPv6Address, UNIXAddress } from '../address';
import { CannotListenError } from '../errors';
import { NativeAddress } from '../native';

/** Native family numbers: 0 is a UNIX path. */
export const enum Family {
  Unix = 0,
  V4 = 4,
  V6 = 6,
}

/** A native address as the matching IAddress class. */
export function toAddress(a: NativeAddress): IAddress {
  if (a.family === Family.V6) return new IPv6Address('TCP', a.host, a.port);
  if (a.family === Family.V4) return new IPv4Address('TCP', a.host, a.port);
  return new UNIXAddress(a.host === '' ? null : a.host);
}

/** An address for a socket whose native address could not be read. */
export function unknownAddress(family: Family): IAddress {
  if (family === Family.Unix) return new UNIXAddress(null);
  return family === Family.V6 ? new IPv6Address('TCP', '::', 0) : new IPv4Address('TCP', '0.0.0.0', 0);
}

/** Throws a TypeError/RangeError unless `port` is an integer in 0..65535. */
export function checkPort(port: unknown, what: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port)) throw new TypeError(`${what}: port must be an integer, got ${String(port)}`);
  if (port < 0 || port > 65535) throw new RangeError(`${what}: port must be in 0..65535, got ${port}`);
  return port;
}

/** Throws unless `value` is a non-negative finite number (seconds, counts). */
export function checkNonNegative(value: unknown, what: string, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${what} must be a non-negative ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  }
  return value;
}

/** Throws unless `factory` looks like a Factory (has buildProtocol). */
export function checkFactory(factory: unknown, what: string): void {
  if (factory === null || typeof factory !== 'object' || typeof (factory as { buildProtocol?: unknown }).buildProtocol !== 'function') {
    throw new TypeError(`${what}: factory must be a Factory (an object with buildProtocol), got ${String(factory)}`);
  }
}

/**
 * The (family, numeric host) to listen on for a listenTCP interface: '' is
 * every IPv4 address, 'localhost' is 127.0.0.1, else a numeric IPv4/IPv6 address.
 */
export function listenInterface(iface: unknown, port: number): { family: Family; host: string } {
  if (iface === undefined || iface === '') return { family: Family.V4, host: '0.0.0.0' };
  if (typeof iface !== 'string') throw new TypeError(`listenTCP: interface must be a string, got ${String(iface)}`);
  if (iface === 'localhost') return { family: Family.V4, host: '127.0.0.1' };
  const v = net.isIP(iface);
  if (v === 4) return { family: Family.V4, host: iface };
  if (v === 6) return { family: Family.V6, host: iface };
  throw new CannotListenError(iface, port, 'interface must be a numeric IPv4/IPv6 address or "localhost"', 'EINVAL');
}
