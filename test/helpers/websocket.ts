/**
 * Shared pieces of the WebSocket tests: an echo server protocol that
 * records what happened, and a Site serving it on 127.0.0.1:0.
 */
import type { IPv4Address } from '../../lib/address';
import type { Reactor } from '../../lib/reactor';
import type { CertificateOptions } from '../../lib/tls';
import { Resource, Site } from '../../lib/web';
import { ConnectionDeny, ConnectionRequest, WebSocketOptions, WebSocketResource, WebSocketServerFactory, WebSocketServerProtocol } from '../../lib/websocket';

/** What the echo servers saw, for assertions. */
export interface EchoLog {
  opened: number;
  messages: Array<[string, boolean]>;
  closes: Array<[boolean, number, string]>;
  origins: Array<string | null>;
}

/** Echoes every message; chooses "chat" when offered; refuses Origin http://evil.example with 403. */
export class EchoServer extends WebSocketServerProtocol<WebSocketServerFactory & { log: EchoLog }> {
  override onConnect(request: ConnectionRequest): string | null {
    this.factory.log.origins.push(request.origin);
    if (request.origin === 'http://evil.example') throw new ConnectionDeny(403, 'origin not allowed');
    return request.protocols.includes('chat') ? 'chat' : null;
  }
  override onOpen(): void {
    this.factory.log.opened++;
  }
  override onMessage(payload: Buffer, isBinary: boolean): void {
    this.factory.log.messages.push([isBinary ? payload.toString('hex') : payload.toString('utf8'), isBinary]);
    if (!isBinary && payload.toString() === 'close-me') return this.sendClose(4000, 'asked');
    this.sendMessage(payload, isBinary);
  }
  override onClose(wasClean: boolean, code: number, reason: string): void {
    this.factory.log.closes.push([wasClean, code, reason]);
  }
}

/** A factory of EchoServers on `r` (for `url`), with an empty log. */
export function echoFactory(r: Reactor, url: string | null = null, options: WebSocketOptions = {}): WebSocketServerFactory & { log: EchoLog } {
  const factory = new WebSocketServerFactory(url, { reactor: r, ...options }) as WebSocketServerFactory & { log: EchoLog };
  factory.protocol = EchoServer as never;
  factory.log = { opened: 0, messages: [], closes: [], origins: [] };
  return factory;
}

/** An echo server at /ws (and a page at /), on `r` (over TLS with `secure`); returns its port and log. */
export function serveEcho(r: Reactor, options: WebSocketOptions = {}, page = '<p>hi</p>', secure?: CertificateOptions): { port: number; log: EchoLog; factory: WebSocketServerFactory } {
  const factory = echoFactory(r, null, options);
  const root = new Resource();
  root.putChild('ws', new WebSocketResource(factory));
  class Page extends Resource {
    override isLeaf = true;
    render_GET(): string {
      return page;
    }
  }
  root.putChild('', new Page());
  const site = new Site(root, { reactor: r });
  const listening = secure === undefined ? r.listenTCP(0, site, { interface: '127.0.0.1' }) : r.listenSSL(0, site, secure, { interface: '127.0.0.1' });
  return { port: (listening.getHost() as IPv4Address).port, log: factory.log, factory };
}
