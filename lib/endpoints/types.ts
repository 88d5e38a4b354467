/**
 * What endpoints promise (twisted IStreamServerEndpoint/IStreamClientEndpoint)
 * and the slice of a reactor each kind needs, so tests can pass a fake.
 */
import type { Deferred } from '../defer';
import type { IConnector, IListeningPort } from '../interfaces';
import type { Factory, Protocol } from '../protocol';

/** A place to listen: listen(factory) fires with the listening port. */
export interface IStreamServerEndpoint {
  /** Starts listening with factory; fires with the port, or fails (CannotListenError). */
  listen(factory: Factory): Deferred<IListeningPort>;
}

/** A place to connect to: connect(factory) fires with the connected protocol. */
export interface IStreamClientEndpoint {
  /** Connects and fires with the protocol factory built; cancelling stops connecting. */
  connect<P extends Protocol>(factory: Factory<P>): Deferred<P>;
}

/** The TCP part of a reactor (listenTCP/connectTCP, as DESIGN.md). */
export interface IReactorTCP {
  /** Listens on port; throws CannotListenError. */
  listenTCP(port: number, factory: Factory, opts?: { backlog?: number; interface?: string }): IListeningPort;
  /** Connects to host:port; the factory hears startedConnecting/clientConnectionFailed. */
  connectTCP(host: string, port: number, factory: Factory, opts?: { timeout?: number | null; bindAddress?: [string, number] | null }): IConnector;
}

/** The UNIX-socket part of a reactor (listenUNIX/connectUNIX). */
export interface IReactorUNIX {
  /** Listens on a UNIX socket path; throws CannotListenError. */
  listenUNIX(path: string, factory: Factory, opts?: { backlog?: number; mode?: number }): IListeningPort;
  /** Connects to a UNIX socket path. */
  connectUNIX(path: string, factory: Factory, opts?: { timeout?: number | null }): IConnector;
}
