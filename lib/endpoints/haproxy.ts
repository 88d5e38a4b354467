/**
 * The `haproxy:` endpoint prefix (Twisted's haproxy endpoint): any server
 * endpoint whose connections each start with a PROXY protocol header, so
 * protocols see the client's address behind HAProxy, a cloud load balancer
 * or anything else speaking the PROXY protocol.
 */
import type { Deferred } from '../defer';
import type { IListeningPort, IReactorTime } from '../interfaces';
import type { Factory } from '../protocol';
import { HAProxyWrappingFactory } from '../protocols/haproxy/wrapper';
import type { IOpenSSLContextFactory } from '../tls/options';
import type { IStreamServerEndpoint } from './types';

/** Listens on `wrappedEndpoint`; each connection's PROXY header is read before `factory`'s protocol sees a byte. */
export class HAProxyServerEndpoint implements IStreamServerEndpoint {
  constructor(
    /** Where to listen (tcp:, unix:, systemd:, ...), in the clear. */
    readonly wrappedEndpoint: IStreamServerEndpoint,
    /** TLS to start after each header (`haproxy:ssl:`), or null. */
    readonly tls: IOpenSSLContextFactory | null = null,
    /** Where each connection's header timeout runs: the listening reactor (the default reactor unless given). */
    readonly clock?: IReactorTime,
  ) {}

  /** Listens with factory wrapped in HAProxyWrappingFactory; fires with the wrapped endpoint's port. */
  listen(factory: Factory): Deferred<IListeningPort> {
    return this.wrappedEndpoint.listen(new HAProxyWrappingFactory(factory, this.tls, undefined, this.clock));
  }
}
