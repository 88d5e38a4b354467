/**
 * listenWS (Autobahn's): listens with a WebSocket factory on the port of its
 * URL (TLS for wss://). The factory answers the HTTP handshake itself
 * (direct.ts), as it does when given to listenTCP straight.
 */
import type { IListeningPort, IReactorSSL, IReactorTCP } from '../interfaces';
import { reactor as defaultReactor } from '../reactor/index';
import type { IOpenSSLContextFactory } from '../tls/options';
import type { WebSocketServerFactory } from './factory';

/** Where listenWS listens. */
export interface ListenWSOptions {
  /** The address to bind (default: all). */
  interface?: string;
  /** The listen backlog. */
  backlog?: number;
}

/** Listens on the port of `factory.url` (ws:// plain, wss:// with `contextFactory`); returns the port. */
export function listenWS(factory: WebSocketServerFactory, contextFactory?: IOpenSSLContextFactory, opts: ListenWSOptions = {}): IListeningPort {
  const u = factory.url;
  if (u === null) throw new TypeError('listenWS: the factory needs a URL (new WebSocketServerFactory("ws://host:port"))');
  const clock = factory.settings.clock as unknown as Partial<IReactorTCP & IReactorSSL>;
  const r = typeof clock.listenTCP === 'function' ? (clock as IReactorTCP & IReactorSSL) : defaultReactor;
  if (u.secure) {
    if (contextFactory === undefined) throw new TypeError('listenWS: a wss:// URL needs a context factory (CertificateOptions)');
    return r.listenSSL(u.port, factory, contextFactory, opts);
  }
  if (contextFactory !== undefined) throw new TypeError('listenWS: a context factory was given for a ws:// URL');
  return r.listenTCP(u.port, factory, opts);
}
