/**
 * The client side (Autobahn's WebSocketClientProtocol and connectWS): on
 * connect it sends the upgrade request, reads the server's answer (within
 * openHandshakeTimeout), checks the accept key, the subprotocol and
 * permessage-deflate against what it offered, then frames flow. A failed
 * handshake drops the connection: onClose(false, 1006, why).
 */
import type { IConnector, IReactorSSL, IReactorTCP } from '../interfaces';
import type { Headers } from '../web/headers';
import type { IOpenSSLContextFactory } from '../tls/options';
import { optionsForClientTLS } from '../tls/options';
import { reactor as defaultReactor } from '../reactor/index';
import { PerMessageDeflate } from './deflate';
import { offerHeader, parseExtensions, readAgreement } from './deflate-params';
import type { WebSocketClientFactory } from './factory';
import { newKey, upgradeRequest } from './handshake';
import { WebSocketFactoryLike, WebSocketProtocol, WebSocketState } from './protocol';
import { checkResponse, readResponseHead } from './response';

/** What onConnect learns of the server's answer (Autobahn's ConnectionResponse). */
export interface ConnectionResponse {
  /** The response's header fields. */
  readonly headers: Headers;
  /** The subprotocol the server chose, or null. */
  readonly protocol: string | null;
  /** The Sec-WebSocket-Extensions the server agreed to (raw), or null. */
  readonly extensions: string | null;
}

/** A client connection; subclass it and override onConnect, onOpen, onMessage, onClose. */
export class WebSocketClientProtocol<F extends WebSocketFactoryLike = WebSocketClientFactory> extends WebSocketProtocol<F> {
  protected get isClient(): boolean {
    return true;
  }
  private key = '';
  private handshakeBytes: Buffer | null = null;

  /** The server accepted the handshake (before onOpen). */
  onConnect(_response: ConnectionResponse): void {}

  /** @internal Sends the upgrade request. */
  override connectionMade(): void {
    const s = this.settings;
    const url = (this.factory as unknown as WebSocketClientFactory).url;
    this.key = newKey();
    this.handshakeBytes = Buffer.alloc(0);
    this.transport.write(
      upgradeRequest({
        host: url.hostHeader,
        path: url.resource,
        key: this.key,
        origin: s.origin,
        protocols: s.protocols,
        extensions: s.deflate === null ? null : offerHeader(s.deflate),
        headers: s.headers,
      }),
    );
    this.setTimer(s.openHandshakeTimeout, () => this.dropConnection(true, 'opening handshake timed out'));
  }

  /** @internal The handshake answer, then frames. */
  override dataReceived(data: Buffer): void {
    if (this.state !== WebSocketState.Connecting) return this.framesIn(data);
    if (this.handshakeBytes === null) return;
    const all = this.handshakeBytes.length === 0 ? data : Buffer.concat([this.handshakeBytes, data]);
    const got = readResponseHead(all);
    if (got === 'more') {
      this.handshakeBytes = Buffer.from(all);
      return;
    }
    this.handshakeBytes = null;
    if (typeof got === 'string') return this.dropConnection(true, got);
    const [response, rest] = got;
    const s = this.settings;
    const bad = checkResponse(response, this.key, s.protocols);
    if (bad !== null) return this.dropConnection(true, bad);
    const ext = response.headers.getRawHeaders('sec-websocket-extensions');
    if (ext !== null) {
      const offers = parseExtensions(ext);
      const agreed = offers === null || s.deflate === null ? null : readAgreement(offers, s.deflate);
      if (agreed === null) return this.dropConnection(true, 'the server answered with an extension not offered');
      this.deflate = new PerMessageDeflate(agreed, false, s.deflate!.threshold);
    }
    this.cancelTimer();
    const protocol = response.headers.getRawHeaders('sec-websocket-protocol');
    this.websocketProtocolInUse = protocol === null ? null : protocol[0];
    this.onConnect({ headers: response.headers, protocol: this.websocketProtocolInUse, extensions: ext === null ? null : ext.join(', ') });
    if (this.state !== WebSocketState.Connecting) return;
    this.startFraming();
    // (onOpen may have closed the connection already)
    if (rest.length !== 0 && (this.state as WebSocketState) === WebSocketState.Open) this.framesIn(rest);
  }
}

/**
 * Connects `factory` to its URL: TCP for ws://, TLS for wss:// (with
 * `contextFactory`, by default optionsForClientTLS(host): the chain and the
 * host name are verified). The reactor is the factory's `reactor` option
 * (else the global one). Returns the connector.
 */
export function connectWS(factory: WebSocketClientFactory, contextFactory?: IOpenSSLContextFactory, timeout = 30): IConnector {
  const u = factory.url;
  const clock = factory.settings.clock as unknown as Partial<IReactorTCP & IReactorSSL>;
  const r = typeof clock.connectTCP === 'function' ? (clock as IReactorTCP & IReactorSSL) : defaultReactor;
  if (u.secure) return r.connectSSL(u.host, u.port, factory, contextFactory ?? optionsForClientTLS(u.host), { timeout });
  if (contextFactory !== undefined) throw new TypeError('connectWS: a context factory was given for a ws:// URL');
  return r.connectTCP(u.host, u.port, factory, { timeout });
}
