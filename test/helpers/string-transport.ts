/**
 * StringTransport, after Twisted's `twisted.internet.testing.StringTransport`:
 * an in-memory transport that records writes, closes and producers for tests.
 */
import { IPv4Address } from '../../lib/address';
import type { IAddress } from '../../lib/address';
import { ConnectionDone } from '../../lib/errors';
import { Failure } from '../../lib/failure';
import type { IPullProducer, IPushProducer, ITCPTransport } from '../../lib/interfaces';
import type { Protocol } from '../../lib/protocol';

/** State of the transport as a producer: what pause/resume/stopProducing did last. */
export type ProducerState = 'producing' | 'paused' | 'stopped';

/** Options for a StringTransport. */
export interface StringTransportOptions {
  /** What getHost() returns (default 10.0.0.1:12345 TCP). */
  hostAddress?: IAddress;
  /** What getPeer() returns (default 192.168.1.1:54321 TCP). */
  peerAddress?: IAddress;
}

/**
 * A transport that keeps everything written in memory. loseConnection only
 * sets `disconnecting`; nothing is delivered to the protocol by itself.
 */
export class StringTransport implements ITCPTransport {
  /** Every chunk written, in order. */
  readonly writes: Buffer[] = [];
  /** True once loseConnection() or abortConnection() was called. */
  disconnecting = false;
  /** True once abortConnection() was called. */
  aborted = false;
  /** True once loseWriteConnection() was called. */
  writeConnectionLost = false;
  /** How many times loseConnection() was called. */
  loseConnectionCalls = 0;
  /** The producer registered with registerProducer, or null. */
  producer: IPushProducer | IPullProducer | null = null;
  /** Whether the registered producer is streaming (push), or null when none is registered. */
  streaming: boolean | null = null;
  /** Our own state as a push producer (the protocol may pause us). */
  producerState: ProducerState = 'producing';
  /** Last value given to setTcpNoDelay / setTcpKeepAlive. */
  tcpNoDelay = false;
  tcpKeepAlive = false;
  private readonly hostAddress: IAddress;
  private readonly peerAddress: IAddress;

  constructor(options: StringTransportOptions = {}) {
    this.hostAddress = options.hostAddress ?? new IPv4Address('TCP', '10.0.0.1', 12345);
    this.peerAddress = options.peerAddress ?? new IPv4Address('TCP', '192.168.1.1', 54321);
  }

  /** Everything written so far, as one Buffer. */
  value(): Buffer {
    return Buffer.concat(this.writes);
  }

  /** Forgets everything written so far. */
  clear(): void {
    this.writes.length = 0;
  }

  /** Records the bytes (a string is UTF-8 encoded; the data is copied). */
  write(data: Buffer | Uint8Array | string): void {
    if (typeof data === 'string') this.writes.push(Buffer.from(data, 'utf8'));
    else if (data instanceof Uint8Array) this.writes.push(Buffer.from(data));
    else throw new TypeError(`write() takes a Buffer, Uint8Array or string, not ${typeof data}`);
  }

  /** Records each chunk in order. */
  writeSequence(data: ReadonlyArray<Buffer | Uint8Array | string>): void {
    for (const d of data) this.write(d);
  }

  /** Marks the transport as disconnecting. */
  loseConnection(): void {
    this.loseConnectionCalls += 1;
    this.disconnecting = true;
  }

  /** Marks the transport as aborted (and disconnecting). */
  abortConnection(): void {
    this.aborted = true;
    this.disconnecting = true;
  }

  /** Marks the write side as closed. */
  loseWriteConnection(): void {
    this.writeConnectionLost = true;
  }

  /** The local address given at construction. */
  getHost(): IAddress {
    return this.hostAddress;
  }

  /** The remote address given at construction. */
  getPeer(): IAddress {
    return this.peerAddress;
  }

  /** Records the setting. */
  setTcpNoDelay(enabled: boolean): void {
    this.tcpNoDelay = enabled;
  }

  /** Records the setting. */
  setTcpKeepAlive(enabled: boolean): void {
    this.tcpKeepAlive = enabled;
  }

  /** Registers a producer; a second registration throws, as Twisted's does. */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.producer !== null) throw new Error('Cannot register two producers');
    this.producer = producer;
    this.streaming = streaming;
  }

  /** Unregisters the producer; throws when none is registered. */
  unregisterProducer(): void {
    if (this.producer === null) throw new Error('Cannot unregister a producer unless one is registered');
    this.producer = null;
    this.streaming = null;
  }

  /** Moves to 'paused'; throws once stopped. */
  pauseProducing(): void {
    this.checkNotStopped();
    this.producerState = 'paused';
  }

  /** Moves to 'producing'; throws once stopped. */
  resumeProducing(): void {
    this.checkNotStopped();
    this.producerState = 'producing';
  }

  /** Moves to 'stopped' for good. */
  stopProducing(): void {
    this.producerState = 'stopped';
  }

  private checkNotStopped(): void {
    if (this.producerState === 'stopped') throw new Error('Cannot resume or pause a stopped producer');
  }
}

/**
 * A StringTransport whose loseConnection tells the protocol at once
 * (connectionLost with ConnectionDone), like Twisted's StringTransportWithDisconnection.
 */
export class StringTransportWithDisconnection extends StringTransport {
  /** The protocol told about the disconnection. */
  protocol: Protocol | null = null;

  /** Marks disconnecting and calls protocol.connectionLost once. */
  override loseConnection(): void {
    const first = !this.disconnecting;
    super.loseConnection();
    if (first && this.protocol !== null && this.protocol.connected) {
      this.protocol.connected = false;
      this.protocol.connectionLost(new Failure(new ConnectionDone()));
    }
  }
}

/** Connects a protocol to a fresh StringTransport (makeConnection) and returns the transport. */
export function connectedTransport<T extends StringTransport>(protocol: Protocol, transport: T): T;
export function connectedTransport(protocol: Protocol): StringTransport;
export function connectedTransport(protocol: Protocol, transport: StringTransport = new StringTransport()): StringTransport {
  if (transport instanceof StringTransportWithDisconnection) transport.protocol = protocol;
  protocol.makeConnection(transport);
  return transport;
}
