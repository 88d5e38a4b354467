/**
 * Protocols and factories, as `twisted.internet.protocol`: user code
 * subclasses these; the reactor calls them.
 *
 * The types follow the connection: `this.transport` is typed as present (the
 * getter throws NotConnectedError before makeConnection()), a stream
 * protocol's transport is an ITCPTransport unless it asks for less, a
 * protocol may name its factory's class (`Protocol<ChatFactory>`), and
 * `Factory.forProtocol(P)` keeps `P`.
 */
import type { IAddress } from './address';
import { NoFactoryError, NotConnectedError } from './errors';
import type { Failure } from './failure';
import type { IConnector, IProtocol, IProtocolFactory, ITCPTransport, ITransport } from './interfaces';

/** The error for a transport read before makeConnection(), built apart so the getter stays small enough to inline. */
function notConnected(holder: object): NotConnectedError {
  return new NotConnectedError(`${holder.constructor.name}.transport was read before makeConnection(): the protocol has no transport yet`);
}

/**
 * What every protocol shares, stream or process: the transport once
 * connected, `connected`, and makeConnection() calling connectionMade().
 */
export class TransportHolder<T> {
  /** True from makeConnection() until the connection ends (connectionLost; a child's processEnded). */
  connected = false;
  private currentTransport: T | null = null;

  /**
   * The transport, from makeConnection() on (it stays set after the
   * connection is lost, as in Twisted). Reading it before makeConnection()
   * throws NotConnectedError.
   */
  get transport(): T {
    const t = this.currentTransport;
    if (t === null) throw notConnected(this);
    return t;
  }

  /** Sets the transport (makeConnection does; tests may, with a fake one). */
  set transport(transport: T) {
    this.currentTransport = transport;
  }

  /** True once makeConnection() (or an assignment) has given this protocol a transport. */
  get hasTransport(): boolean {
    return this.currentTransport !== null;
  }

  /**
   * @internal The transport, or null before makeConnection(): what a parser
   * checks per message without a throw path. It is the stored transport: a
   * subclass's override of the `transport` getter is not consulted (nor is
   * it by `hasTransport`).
   */
  transportOrNull(): T | null {
    return this.currentTransport;
  }

  /** Called by the reactor (or spawnProcess): stores the transport, then calls connectionMade(). */
  makeConnection(transport: T): void {
    this.connected = true;
    this.currentTransport = transport;
    this.connectionMade();
  }

  /** The connection is up and `transport` is set. Override freely. */
  connectionMade(): void {}
}

/** Base of every stream protocol: holds the transport once connected. */
export class BaseProtocol<T extends ITransport = ITCPTransport> extends TransportHolder<T> {}

/**
 * A stream protocol: receives bytes and learns when the connection ends.
 * `F` is the class of the factory that builds it (what `this.factory` is),
 * `T` what its transport offers (a TCP or UNIX stream gives ITCPTransport).
 */
export class Protocol<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport>
  extends BaseProtocol<T>
  implements IProtocol
{
  private builtBy: F | null = null;

  /** The factory that built this protocol; NoFactoryError when none did (a protocol made with `new`). */
  get factory(): F {
    if (this.builtBy === null) {
      throw new NoFactoryError(`${this.constructor.name}.factory was read, but no factory built this protocol`);
    }
    return this.builtBy;
  }

  /** Sets the factory (the factory's buildProtocol does). */
  set factory(factory: F) {
    this.builtBy = factory;
  }

  /** True when a factory built this protocol (or one was assigned). */
  get hasFactory(): boolean {
    return this.builtBy !== null;
  }

  /** Bytes arrived; the Buffer is the protocol's to keep. */
  dataReceived(_data: Buffer): void {}

  /** The connection ended: reason wraps ConnectionDone (clean) or ConnectionLost. */
  connectionLost(_reason: Failure): void {}
}

/** A protocol of any factory and any transport: what factories may build. */
export type AnyProtocol = Protocol<IProtocolFactory, ITransport>;

/** A class whose instances are protocols, as Factory.protocol holds. */
export type ProtocolClass<P extends AnyProtocol = Protocol> = new () => P;

/**
 * The factory class `F` building protocol `P`: `F` itself when it already
 * builds `P` (a subclass such as `class ChatFactory extends Factory<Chat>`),
 * otherwise the library's generic factory class `F` belongs to, given `P`
 * (`WebSocketServerFactory.forProtocol(Chat)` is a
 * `WebSocketServerFactory<Chat>`): each generic factory class names itself
 * in its `~withProtocol` member, read here with `~protocol` set to `P`.
 */
export type FactoryWithProtocol<F, P extends AnyProtocol> = F extends Factory<P>
  ? F
  : F extends Factory<AnyProtocol>
    ? NonNullable<(F & {
        /** The protocol asked about. */
        readonly '~protocol'?: P;
      })['~withProtocol']>
    : never;

/** The factory class protocol P declares it is built by (its `F`). */
export type DeclaredFactory<P> = P extends Protocol<infer G, ITransport> ? G : never;

/**
 * `unknown` when factory class `F` may build protocol `P` (P's declared
 * factory accepts it); otherwise a type no factory class has, so forProtocol
 * reports the mismatch at the call.
 */
export type FactoryFitsProtocol<F, P extends AnyProtocol> =
  FactoryWithProtocol<F, P> extends DeclaredFactory<P> ? unknown : {
      /** Present only on a mismatch, so that the compiler's message names the factory class the protocol expects. */
      'the protocol is declared for another factory class': DeclaredFactory<P>;
    };

/**
 * Builds a protocol per connection. startFactory/stopFactory bracket the
 * first port started and the last one stopped.
 */
export class Factory<P extends AnyProtocol = AnyProtocol> implements IProtocolFactory {
  /** The protocol class buildProtocol instantiates. */
  protocol: ProtocolClass<P> | null = null;
  /** How many ports or connectors currently use this factory. */
  numPorts = 0;
  /** When true, start and stop are logged. */
  noisy = false;
  /** Type-level only (never set): the protocol `~withProtocol` is asked about. */
  declare readonly '~protocol'?: unknown;
  /**
   * Type-level only (never set): this factory class building the protocol
   * `~protocol` names, which forProtocol returns; each generic subclass
   * declares its own (see FactoryWithProtocol).
   */
  declare readonly '~withProtocol'?: Factory<Extract<this['~protocol'], AnyProtocol>>;

  /**
   * Builds a factory of this class (constructed with `args`) for protocol
   * class P; its type keeps P (`Factory.forProtocol(Echo)` is a `Factory<Echo>`).
   */
  static forProtocol<F extends Factory<AnyProtocol>, P extends AnyProtocol, A extends unknown[]>(
    this: (new (...args: A) => F) & FactoryFitsProtocol<F, P>,
    protocol: ProtocolClass<P>,
    ...args: A
  ): FactoryWithProtocol<F, P> {
    const factory = new this(...args);
    factory.protocol = protocol;
    return factory as FactoryWithProtocol<F, P>;
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
    // P's declared factory class accepts this one: forProtocol checked it, or the subclass said so.
    (p as Protocol<IProtocolFactory, ITransport>).factory = this;
    return p;
  }
}

/** A factory for outgoing connections, told how connecting went. */
export class ClientFactory<P extends AnyProtocol = AnyProtocol> extends Factory<P> {
  /** Type-level only: see Factory's `~withProtocol`. */
  declare readonly '~withProtocol'?: ClientFactory<Extract<this['~protocol'], AnyProtocol>>;
  /** A connection attempt started. */
  startedConnecting(_connector: IConnector): void {}

  /** The attempt failed: ConnectionRefusedError, TimeoutError, DNSLookupError, ... */
  clientConnectionFailed(_connector: IConnector, _reason: Failure): void {}

  /** An established connection was lost. */
  clientConnectionLost(_connector: IConnector, _reason: Failure): void {}
}
