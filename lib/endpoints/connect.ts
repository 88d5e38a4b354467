/**
 * The plumbing every client endpoint shares (Twisted's _WrappingFactory):
 * a Deferred that fires with the protocol once connected, or fails, or is cancelled.
 */
import type { IAddress } from '../address';
import { Deferred } from '../defer';
import { ConnectError, ConnectingCancelledError } from '../errors';
import type { Failure } from '../failure';
import type { IConnector, ITransport } from '../interfaces';
import { ClientFactory, Factory } from '../protocol';
import type { AnyProtocol } from '../protocol';
import type { IStreamClientEndpoint } from './types';

/**
 * Wraps the user's factory for one connect(): fires `onConnection` with the
 * protocol after its makeConnection, fails it with the connect error.
 */
export class WrappingFactory<P extends AnyProtocol> extends ClientFactory<P> {
  /** Fires with the connected protocol; cancelling it stops connecting (ConnectingCancelledError). */
  readonly onConnection: Deferred<P>;
  private connector: IConnector | null = null;

  constructor(private readonly wrapped: Factory<P>) {
    super();
    this.onConnection = new Deferred<P>((d) => this.cancelConnecting(d));
  }

  /** Remembers the connector, so cancelling can stop it. */
  override startedConnecting(connector: IConnector): void {
    this.connector = connector;
  }

  /** Same as startedConnecting, for the connector returned by connectTCP/connectUNIX. */
  connectorStarted(connector: IConnector): void {
    this.connector ??= connector;
  }

  override doStart(): void {
    this.wrapped.doStart();
  }

  override doStop(): void {
    this.wrapped.doStop();
  }

  /** Builds the user's protocol and arranges for onConnection to fire once it is connected. */
  override buildProtocol(addr: IAddress): P | null {
    let proto: P | null;
    try {
      proto = this.wrapped.buildProtocol(addr);
      if (proto === null) throw new ConnectError(`${this.wrapped.constructor.name}.buildProtocol returned no protocol`);
    } catch (e) {
      if (!this.onConnection.called) this.onConnection.errback(e);
      return null;
    }
    announceWhenConnected(proto, this.onConnection);
    return proto;
  }

  /** The attempt failed: the Deferred fails with the reason. */
  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    if (!this.onConnection.called) this.onConnection.errback(reason);
  }

  private cancelConnecting(d: Deferred<P>): void {
    const c = this.connector;
    d.errback(new ConnectingCancelledError(c?.getDestination() ?? null));
    try {
      c?.stopConnecting();
    } catch {
      // already connected or already failed: the Deferred has its answer
    }
  }
}

/**
 * Fires d with proto right after proto.makeConnection runs (its connectionMade
 * included); the protocol itself is what the transport talks to, unwrapped.
 */
function announceWhenConnected<P extends AnyProtocol>(proto: P, d: Deferred<P>): void {
  const own = proto.makeConnection;
  const hook = (transport: ITransport): void => {
    delete (proto as { makeConnection?: unknown }).makeConnection;
    try {
      own.call(proto, transport);
    } catch (e) {
      if (!d.called) d.errback(e);
      throw e;
    }
    if (!d.called) d.callback(proto);
  };
  Object.defineProperty(proto, 'makeConnection', { value: hook, configurable: true, writable: true });
}

/** Runs connect(wrappingFactory) and returns the Deferred; a synchronous throw becomes a failed Deferred. */
export function connectWith<P extends AnyProtocol>(factory: Factory<P>, start: (wf: WrappingFactory<P>) => IConnector): Deferred<P> {
  const wf = new WrappingFactory(factory);
  try {
    wf.connectorStarted(start(wf));
  } catch (e) {
    if (!wf.onConnection.called) wf.onConnection.errback(e);
  }
  return wf.onConnection;
}

/** A factory that hands out one given protocol instance. */
class OneShotFactory<P extends AnyProtocol> extends Factory<P> {
  constructor(private readonly instance: P) {
    super();
  }

  override buildProtocol(_addr: IAddress): P {
    return this.instance;
  }
}

/**
 * Connects an endpoint to an already-made protocol instance (Twisted's connectProtocol).
 * Fires with that protocol once connected.
 */
export function connectProtocol<P extends AnyProtocol>(endpoint: IStreamClientEndpoint, protocol: P): Deferred<P> {
  return endpoint.connect(new OneShotFactory(protocol));
}
