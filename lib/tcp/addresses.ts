/**
 * Address helpers for TCP and UNIX sockets: native addresses (family 4, 6,
 * or 0 for a UNIX path) to IPv4Address/IPv6Address/UNIXAddress.
 */
import { IAddress, IPv4Address, IPv6Address, UNIXAddress } from '../address';
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
