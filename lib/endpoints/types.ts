/**
 * What endpoints promise (twisted IStreamServerEndpoint/IStreamClientEndpoint).
 * The slice of a reactor each kind needs is IReactorTCP or IReactorUNIX
 * (lib/interfaces.ts), so tests can pass a fake.
 */
import type { IAddress } from '../address';
import type { Deferred } from '../defer';
import type { IListeningPort } from '../interfaces';
import type { AnyProtocol, Factory } from '../protocol';

/** A place to listen: listen(factory) fires with the listening port, bound to an `A`. */
export interface IStreamServerEndpoint<A extends IAddress = IAddress> {
  /** Starts listening with factory; fires with the port, or fails (CannotListenError). */
  listen(factory: Factory): Deferred<IListeningPort<A>>;
}

/** A place to connect to: connect(factory) fires with the connected protocol. */
export interface IStreamClientEndpoint {
  /** Connects and fires with the protocol factory built; cancelling stops connecting. */
  connect<P extends AnyProtocol>(factory: Factory<P>): Deferred<P>;
}
