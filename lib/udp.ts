/**
 * UDP, as `twisted.internet.udp`: `listenUDP` binds a port, a
 * DatagramProtocol receives `datagramReceived(data, [host, port])`, and the
 * port is its transport (`write(data, [host, port])`, `connect`,
 * `stopListening`).
 *
 * The socket is read natively in batches (recvmmsg): each datagram arrives as
 * one record whose slab bytes hold the sender (family, port, address) and
 * then the payload, which is handed to the protocol as a Buffer view it may
 * keep. Datagrams longer than maxPacketSize are truncated to it, as Twisted's
 * recvfrom(maxPacketSize) does. Sends go out at once; a full send buffer
 * drops the datagram (write returns 0), which UDP allows.
 */
import * as net from 'net';
import * as os from 'os';
import { IPv4Address, IPv6Address } from './address';
import { Deferred } from './defer';
import { CannotListenError, DatagramSendError, InvalidAddressError, MessageLengthError, NotListeningError } from './errors';
import { Failure } from './failure';
import type { IListeningPort } from './interfaces';
import { log } from './log';
import { errnoError, errnoName } from './native';
import type { ReactorParts } from './reactor/core';
import { Handler } from './reactor/handler';
import { checkPort } from './transport/addresses';
import { Bytes, toBytes } from './transport/bytes';

/** A UDP peer as Twisted passes it: [host, port]. */
export type UDPAddress = [string, number];

/** Options of listenUDP. */
export interface ListenUDPOptions {
  /** Numeric address to bind: '' (every IPv4 address), '::' (IPv6 and IPv4), '127.0.0.1', '::1'... */
  interface?: string;
  /** Largest datagram delivered whole (8192); longer ones are truncated. At most 65536. */
  maxPacketSize?: number;
}

/**
 * Receives datagrams. `transport` is the port while it listens;
 * startProtocol/stopProtocol bracket the first start and the last stop.
 */
export class DatagramProtocol {
  /** The port, between makeConnection() and the stop. */
  transport: UDPPort | null = null;
  /** How many ports use this protocol. */
  numPorts = 0;
  /** When true, start and stop are logged. */
  noisy = false;

  /** Called by the port: stores it as the transport, then doStart(). */
  makeConnection(transport: UDPPort): void {
    if (this.transport !== null && this.transport !== transport) {
      throw new Error('DatagramProtocol.makeConnection: this protocol already has a transport');
    }
    this.transport = transport;
    this.doStart();
  }

  /** Runs startProtocol() for the first port. */
  doStart(): void {
    if (this.numPorts === 0) {
      if (this.noisy) log.msg(`Starting protocol ${this.constructor.name}`);
      this.startProtocol();
    }
    this.numPorts += 1;
  }

  /** Runs stopProtocol() after the last port stops. */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts -= 1;
    this.transport = null;
    if (this.numPorts === 0) {
      if (this.noisy) log.msg(`Stopping protocol ${this.constructor.name}`);
      this.stopProtocol();
    }
  }

  /** The port is listening. Override for setup. */
  startProtocol(): void {}

  /** The port has stopped. Override for teardown. */
  stopProtocol(): void {}

  /** A datagram arrived from addr. `data` is the protocol's to keep. */
  datagramReceived(_data: Buffer, _addr: UDPAddress): void {}

  /** A connected port's peer is not listening (ICMP port unreachable). */
  connectionRefused(): void {}
}

const ECONNREFUSED = os.constants.errno.ECONNREFUSED as number;
const DROPPED = new Set<number>([os.constants.errno.EAGAIN, os.constants.errno.EWOULDBLOCK, os.constants.errno.ENOBUFS].map((e) => -(e as number)));
const EMSGSIZE = -(os.constants.errno.EMSGSIZE as number);
const EAFNOSUPPORT = -(os.constants.errno.EAFNOSUPPORT as number);
const EACCES = -(os.constants.errno.EACCES as number);

/** Text of a 16-byte IPv6 address (compressed; IPv4-mapped as ::ffff:a.b.c.d). */
export function formatIPv6(b: Uint8Array, at: number): string {
  let mapped = b[at + 10] === 0xff && b[at + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = b[at + i] === 0;
  if (mapped) return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[at + i] << 8) | b[at + i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** [family, host, port] of a write()/connect() address; InvalidAddressError for host names. */
function checkAddress(addr: unknown, what: string): [4 | 6, string, number] {
  if (!Array.isArray(addr) || addr.length !== 2) throw new TypeError(`${what}: address must be [host, port]`);
  const [host, port] = addr as [unknown, unknown];
  if (typeof host !== 'string') throw new TypeError(`${what}: host must be a string, got ${String(host)}`);
  const v = net.isIP(host);
  if (v === 0) throw new InvalidAddressError(host, 'please only pass IP addresses, not host names');
  return [v as 4 | 6, host, checkPort(port, what)];
}

/** A listening UDP port: the DatagramProtocol's transport. */
export class UDPPort extends Handler implements IListeningPort {
  /** Largest datagram delivered whole. */
  readonly maxPacketSize: number;
  private connectedAddr: UDPAddress | null = null;
  private listening = false;
  private stopped: Deferred<void> | null = null;
  private lastV4 = -1;
  private lastV4Host = '';

  /** Made by listenUDP, never by user code. */
  constructor(
    private readonly parts: ReactorParts,
    /** The port asked for (0 = any). */
    readonly port: number,
    /** The protocol receiving datagrams. */
    readonly protocol: DatagramProtocol,
    private readonly iface: { family: 4 | 6; host: string },
    maxPacketSize: number,
  ) {
    super();
    this.maxPacketSize = maxPacketSize;
  }

  /** Binds and starts reading (listenUDP already did); CannotListenError when it cannot bind. */
  startListening(): void {
    if (this.listening) return;
    const native = this.parts.core.nativeOr((e) => new CannotListenError(this.iface.host, this.port, e.message, e.code));
    const r = native.udpBind(this.iface.family, this.iface.host, this.port, this.maxPacketSize);
    if (r < 0) throw new CannotListenError(this.iface.host, this.port, errnoName(r), errnoName(r));
    this.takeSlot(native, r);
    this.parts.core.register(this);
    this.listening = true;
    try {
      this.protocol.makeConnection(this);
    } catch (e) {
      log.failure('Unhandled error in DatagramProtocol.startProtocol', new Failure(e));
    }
  }

  /**
   * Sends one datagram to addr ([host, port], numeric host), or to the
   * connected peer when connected. Returns the bytes sent, 0 when the send
   * buffer was full and the datagram was dropped. MessageLengthError when too long.
   */
  write(data: Bytes, addr?: UDPAddress | null): number {
    const bytes = toBytes(data, 'write');
    if (!this.listening) throw new NotListeningError('write: this UDP port is not listening');
    const native = this.loop!;
    let r: number;
    if (this.connectedAddr !== null) {
      if (addr !== undefined && addr !== null && (addr[0] !== this.connectedAddr[0] || addr[1] !== this.connectedAddr[1])) {
        throw new InvalidAddressError(addr, `this port is connected to ${this.connectedAddr.join(':')}`);
      }
      r = native.udpSend(this.slot, this.gen, bytes, 4, null, 0);
    } else {
      if (addr === undefined || addr === null) throw new TypeError('write: address [host, port] is required on a port that is not connected');
      const [family, host, port] = checkAddress(addr, 'write');
      r = native.udpSend(this.slot, this.gen, bytes, family, host, port);
    }
    return r >= 0 ? r : this.sendFailed(r, addr ?? this.connectedAddr);
  }

  /** Sends the concatenation of `seq` as one datagram. */
  writeSequence(seq: ReadonlyArray<Bytes>, addr?: UDPAddress | null): number {
    if (!Array.isArray(seq)) throw new TypeError('writeSequence: data must be an array of Buffers or strings');
    return this.write(Buffer.concat(seq.map((d) => toBytes(d, 'writeSequence'))), addr);
  }

  /** Connects to one peer: only its datagrams are received, write() needs no address. Once only. */
  connect(host: string, port: number): void {
    if (this.connectedAddr !== null) throw new Error('connect: already connected, reconnecting is not supported');
    if (!this.listening) throw new NotListeningError('connect: this UDP port is not listening');
    const [family] = checkAddress([host, port], 'connect');
    const r = this.loop!.udpConnect(this.slot, this.gen, family, host, port);
    if (r === EAFNOSUPPORT) throw new InvalidAddressError(host, `not reachable from this IPv${this.iface.family} port (EAFNOSUPPORT)`);
    if (r < 0) throw errnoError(r, 'connect', `${host}:${port}`);
    this.connectedAddr = [host, port];
  }

  /** The address actually bound (the real port after listenUDP(0)). */
  getHost(): IPv4Address | IPv6Address {
    const a = this.listening ? this.loop!.localAddress(this.slot, this.gen) : -1;
    if (typeof a === 'number') return this.iface.family === 6 ? new IPv6Address('UDP', this.iface.host, this.port) : new IPv4Address('UDP', this.iface.host, this.port);
    return a.family === 6 ? new IPv6Address('UDP', a.host, a.port) : new IPv4Address('UDP', a.host, a.port);
  }

  /** Closes the socket; the Deferred fires after the protocol's stopProtocol has run. */
  stopListening(): Deferred<void> {
    if (this.stopped !== null) return this.stopped;
    const d = new Deferred<void>();
    this.stopped = d;
    if (!this.listening) {
      d.callback(undefined);
      return d;
    }
    this.listening = false;
    this.parts.core.unregister(this);
    this.parts.core.atEndOfStep(() => {
      try {
        this.protocol.doStop();
      } catch (e) {
        log.failure('Unhandled error in DatagramProtocol.stopProtocol', new Failure(e));
      }
      d.callback(undefined);
    });
    return d;
  }

  /** Same as stopListening(). */
  loseConnection(): Deferred<void> {
    return this.stopListening();
  }

  /** ioreactor's own: true reads with recvmmsg batches (default), false one recvmsg per datagram. */
  setBatchReads(on: boolean): void {
    if (this.listening) this.loop!.udpSetBatch(this.slot, this.gen, !!on);
  }

  // ---- records ----

  /** @internal One datagram: sender header at slab[a], then b payload bytes. */
  override onDatagram(slab: Buffer, a: number, b: number): void {
    const port = (slab[a + 2] << 8) | slab[a + 3];
    let host: string;
    let start: number;
    if (slab[a] === 4) {
      const v4 = slab.readUInt32BE(a + 4);
      if (v4 !== this.lastV4) {
        this.lastV4 = v4;
        this.lastV4Host = `${slab[a + 4]}.${slab[a + 5]}.${slab[a + 6]}.${slab[a + 7]}`;
      }
      host = this.lastV4Host;
      start = a + 8;
    } else {
      host = formatIPv6(slab, a + 4);
      start = a + 20;
    }
    const data = this.parts.core.received.take(slab.buffer as ArrayBuffer, slab.byteOffset + start, b);
    this.protocol.datagramReceived(data, [host, port]);
  }

  /** @internal A receive error: ECONNREFUSED on a connected port, else logged. The port stays. */
  override onError(errno: number): void {
    if (errno === ECONNREFUSED) {
      if (this.connectedAddr !== null) this.protocol.connectionRefused();
      return;
    }
    log.emit('warn', `UDP port ${this.port}: receive error ${errnoName(-errno)}`, { errno });
  }

  /** @internal Reactor shutdown: stop listening. */
  override disconnect(): void {
    void this.stopListening();
  }

  /** @internal datagramReceived threw: it is logged; the port keeps listening, as in Twisted. */
  override failed(_failure: Failure): void {}

  private sendFailed(r: number, addr: UDPAddress | null): number {
    if (DROPPED.has(r)) return 0;
    if (r === EMSGSIZE) throw new MessageLengthError(`message too long for UDP (EMSGSIZE)`);
    if (r === -ECONNREFUSED && this.connectedAddr !== null) {
      this.protocol.connectionRefused();
      return 0;
    }
    const where = addr === null ? 'the connected peer' : `${addr[0]}:${addr[1]}`;
    if (r === EAFNOSUPPORT) throw new InvalidAddressError(addr?.[0], `not reachable from this IPv${this.iface.family} port (EAFNOSUPPORT)`);
    if (r === EACCES) throw new DatagramSendError(addr, 'EACCES', `sendto ${where}: a broadcast address, and broadcast is not allowed on this port (EACCES)`);
    throw new DatagramSendError(addr, errnoName(r), `sendto ${where}: ${errnoError(r, 'sendto').message}`);
  }
}

/** The (family, host) to bind for a listenUDP interface. */
function udpInterface(iface: unknown, port: number): { family: 4 | 6; host: string } {
  if (iface === undefined || iface === '') return { family: 4, host: '0.0.0.0' };
  if (typeof iface !== 'string') throw new TypeError(`listenUDP: interface must be a string, got ${String(iface)}`);
  const v = net.isIP(iface);
  if (v === 0) throw new CannotListenError(iface, port, 'interface must be a numeric IPv4/IPv6 address', 'EINVAL');
  return { family: v as 4 | 6, host: iface };
}

/** Binds a UDP port (0 = any free port) for protocol; CannotListenError when it cannot. */
export function listenUDP(parts: ReactorParts, port: number, protocol: DatagramProtocol, opts: ListenUDPOptions = {}): UDPPort {
  checkPort(port, 'listenUDP');
  if (protocol === null || typeof protocol !== 'object' || typeof protocol.datagramReceived !== 'function' || typeof protocol.makeConnection !== 'function') {
    throw new TypeError('listenUDP: protocol must be a DatagramProtocol');
  }
  if (opts === null || typeof opts !== 'object') throw new TypeError('listenUDP: options must be an object');
  const iface = udpInterface(opts.interface, port);
  const max = opts.maxPacketSize ?? 8192;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 65536) {
    throw new TypeError(`listenUDP: maxPacketSize must be an integer in 1..65536, got ${String(max)}`);
  }
  const p = new UDPPort(parts, port, protocol, iface, max);
  p.startListening();
  return p;
}
