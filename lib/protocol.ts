/**
 * Protocols and factories, as `twisted.internet.protocol`: user code
 * subclasses these; the reactor calls them.
 */
import type { IAddress } from './address';
import type { Failure } from './failure';
import type { IConnector, ITransport } from './interfaces';

/** Base of every protocol: holds the transport once connected. */
export class BaseProtocol {
  /** True between makeConnection() and connectionLost(). */
  connected = false;
  /** The transport, set by makeConnection(). */
  transport: ITransport | null = null;

  /** Called by the reactor: stores the transport, then calls connectionMade(). */
  makeConnection(transport: ITransport): void {
    this.connected = true;
    this.transport = transport;
    this.connectionMade();
  }

  /** The connection is up and `transport` is set. Override freely. */
  connectionMade(): void {}
}

/** A stream protocol: receives bytes and learns when the connection ends. */
export class Protocol extends BaseProtocol {
  /** The factory that built this protocol, if any. */
  factory: Factory | null = null;

  /** Bytes arrived; the Buffer is the protocol's to keep. */
  dataReceived(_data: Buffer): void {}

  /** The connection ended: reason wraps ConnectionDone (clean) or ConnectionLost. */
  connectionLost(_reason: Failure): void {}
}

/** A class whose instances are protocols, as Factory.protocol holds. */
export type ProtocolClass<P extends Protocol = Protocol> = new () => P;

/**
 * Builds a protocol per connection. startFactory/stopFactory bracket the
 * first port started and the last one stopped.
 */
export class Factory<P extends Protocol = Protocol> {
  /** The protocol class buildProtocol instantiates. */
  protocol: ProtocolClass<P> | null = null;
  /** How many ports or connectors currently use this factory. */
  numPorts = 0;
  /** When true, start and stop are logged. */
  noisy = false;

  /** Builds a factory of this class (constructed with `args`) for protocol class P. */
  static forProtocol<F extends Factory<Protocol>, A extends unknown[]>(
    this: new (...args: A) => F,
    protocol: ProtocolClass,
    ...args: A
  ): F {
    const factory = new this(...args);
    factory.protocol = protocol;
    return factory;
  }

  /** Called by ports and connectors when they start using this factory. */
  doStart(): void {
    if (this.numPorts === 0) this.startFactory();
    this.numPorts += 1;
  }

  /** Called by ports and connectors when they stop using this factory. */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts -= 1;
    if (this.numPorts === 0) this.stopFactory();
  }

  /** Runs before the first port starts. Override for setup. */
  startFactory(): void {}

  /** Runs after the last port stops. Override for teardown. */
  stopFactory(): void {}

  /** Makes a protocol for a connection from addr; return null to refuse it. */
  buildProtocol(_addr: IAddress): P | null {
    if (this.protocol === null) throw new TypeError(`${this.constructor.name}.protocol is not set`);
    const p = new this.protocol();
    p.factory = this;
    return p;
  }
}

/** A factory for outgoing connections, told how connecting went. */
export class ClientFactory<P extends Protocol = Protocol> extends Factory<P> {
  /** A connection attempt started. */
  startedConnecting(_connector: IConnector): void {}

  /** The attempt failed: ConnectionRefusedError, TimeoutError, DNSLookupError, ... */
  clientConnectionFailed(_connector: IConnector, _reason: Failure): void {}

  /** An established connection was lost. */
  clientConnectionLost(_connector: IConnector, _reason: Failure): void {}
}
