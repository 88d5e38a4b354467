/**
 * Address helpers for every socket transport (TCP, UNIX, UDP, pipes): the
 * native family numbers (4, 6, or 0 for a UNIX path), native addresses as
 * IPv4Address/IPv6Address/UNIXAddress, and the port-number check.
 */
import { IAddress, IPv4Address, IPv6Address, UNIXAddress } from '../address';
import { NativeAddress } from '../native';

/** Native family numbers: 0 is a UNIX path. */
export const enum Family {
  Unix = 0,
  V4 = 4,
  V6 = 6,
}

/**
 * Host strings of recent addresses, each kept once. The native side makes
 * a new string for every address read, and a server's peers often share a
 * few hosts (a proxy, a load balancer, a benchmark's clients): every
 * accepted connection keeps its peer's address, so ten thousand copies of
 * "127.0.0.1" would be kept where one does. Bounded: emptied when full.
 */
const hosts = new Map<string, string>();
const MAX_HOSTS = 1024;

/** `host`, or the equal string already kept. */
export function sharedHost(host: string): string {
  const kept = hosts.get(host);
  if (kept !== undefined) return kept;
  if (hosts.size >= MAX_HOSTS) hosts.clear();
  hosts.set(host, host);
  return host;
}

/** Dotted IPv4 hosts by their 32-bit number (peerIPv4), each the string sharedHost keeps. Bounded as `hosts`. */
const ipv4Hosts = new Map<number, string>();

/** The host string of an IPv4 address given as a number (host byte order). */
export function ipv4Host(addr: number): string {
  const kept = ipv4Hosts.get(addr);
  if (kept !== undefined) return kept;
  if (ipv4Hosts.size >= MAX_HOSTS) ipv4Hosts.clear();
  const host = sharedHost(`${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`);
  ipv4Hosts.set(addr, host);
  return host;
}

/** A native address as the matching IAddress class. */
export function toAddress(a: NativeAddress): IAddress {
  if (a.family === Family.V6) return new IPv6Address('TCP', sharedHost(a.host), a.port);
  if (a.family === Family.V4) return new IPv4Address('TCP', sharedHost(a.host), a.port);
  return new UNIXAddress(a.host === '' ? null : a.host);
}

/**
 * An IP address's port with its family above bit 16: with the host string,
 * all a transport keeps of its peer (unpackAddress makes the IAddress).
 */
export function packedPort(a: NativeAddress): number {
  return (a.family << 16) | a.port;
}

/** The IAddress of a host and a packedPort (a TCP address: IPv4Address or IPv6Address). */
export function unpackAddress(host: string, packed: number): IAddress {
  const port = packed & 0xffff;
  return packed >>> 16 === Family.V6 ? new IPv6Address('TCP', host, port) : new IPv4Address('TCP', host, port);
}

/** An address for a socket whose native address could not be read. */
export function unknownAddress(family: Family): IAddress {
  if (family === Family.Unix) return new UNIXAddress(null);
  return family === Family.V6 ? new IPv6Address('TCP', '::', 0) : new IPv4Address('TCP', '0.0.0.0', 0);
}

/** Throws a TypeError/RangeError unless `port` is an integer in 0..65535. */
export function checkPort(port: unknown, what: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port)) throw new TypeError(`${what}: port must be an integer, got ${typeof port === 'string' ? `the string ${JSON.stringify(port)}` : String(port)}`);
  if (port < 0 || port > 65535) throw new RangeError(`${what}: port must be in 0..65535, got ${port}`);
  return port;
}
