/**
 * listenWS (Autobahn's): a WebSocket server on its own port, for a factory
 * not mounted in a larger Site. It is a Site whose every path upgrades
 * through a WebSocketResource, listening on the port of the factory's URL
 * (TLS for wss://).
 */
import type { IListeningPort, IReactorSSL, IReactorTCP } from '../interfaces';
import { reactor as defaultReactor } from '../reactor/index';
import type { IOpenSSLContextFactory } from '../tls/options';
import { Site } from '../web/site';
import type { WebSocketServerFactory } from './factory';
import { WebSocketResource } from './resource';

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
  const site = new Site(new WebSocketResource(factory), { reactor: factory.settings.clock });
  if (u.secure) {
    if (contextFactory === undefined) throw new TypeError('listenWS: a wss:// URL needs a context factory (CertificateOptions)');
    return r.listenSSL(u.port, site, contextFactory, opts);
  }
  if (contextFactory !== undefined) throw new TypeError('listenWS: a context factory was given for a ws:// URL');
  return r.listenTCP(u.port, site, opts);
}
