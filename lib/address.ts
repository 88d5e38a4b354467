/**
 * Socket addresses, as `twisted.internet.address`: what getHost()/getPeer()
 * return and what buildProtocol(addr) receives.
 */

/** TCP or UDP: which kind of socket an address belongs to. */
export type AddressType = 'TCP' | 'UDP';

/** An IPv4 address with port. */
export class IPv4Address {
  constructor(
    /** 'TCP' or 'UDP'. */
    readonly type: AddressType,
    /** Dotted-quad host. */
    readonly host: string,
    /** Port number. */
    readonly port: number,
  ) {}

  /** Twisted's repr: `IPv4Address(type='TCP', host='127.0.0.1', port=80)`. */
  toString(): string {
    return `IPv4Address(type='${this.type}', host='${this.host}', port=${this.port})`;
  }
}

/** An IPv6 address with port. */
export class IPv6Address {
  constructor(
    /** 'TCP' or 'UDP'. */
    readonly type: AddressType,
    /** Textual IPv6 host, such as `::1`. */
    readonly host: string,
    /** Port number. */
    readonly port: number,
    /** IPv6 flow info. */
    readonly flowInfo = 0,
    /** IPv6 scope id. */
    readonly scopeID: number | string = 0,
  ) {}

  /** Twisted's repr. */
  toString(): string {
    return `IPv6Address(type='${this.type}', host='${this.host}', port=${this.port})`;
  }
}

/** A UNIX socket path (`name` as in Twisted; `path` as an alias). */
export class UNIXAddress {
  constructor(
    /** The socket's path, or null for an unnamed socket. */
    readonly name: string | null,
  ) {}

  /** Same as `name`. */
  get path(): string | null {
    return this.name;
  }

  /** Twisted's repr. */
  toString(): string {
    return `UNIXAddress(${JSON.stringify(this.name)})`;
  }
}

/** Any address a transport can report. */
export type IAddress = IPv4Address | IPv6Address | UNIXAddress;
