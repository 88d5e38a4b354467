/**
 * The factories (Autobahn's WebSocketServerFactory and
 * WebSocketClientFactory): the URL, the options every connection reads,
 * and the protocol class to build.
 */
import { Factory, ClientFactory } from '../protocol';
import type { AnyProtocol } from '../protocol';
import { PreparedMessage } from './broadcast';
import { normaliseOptions, WebSocketOptions, WebSocketSettings } from './options';
import { parseWsUrl, WsUrl } from './url';

/** Builds WebSocketServerProtocols; mount it with WebSocketResource (or listenWS). */
export class WebSocketServerFactory<P extends AnyProtocol = AnyProtocol> extends Factory<P> {
  /** Type-level only: `WebSocketServerFactory.forProtocol(P)` is a `WebSocketServerFactory<P>` (see Factory's `~withProtocol`). */
  declare readonly '~withProtocol'?: WebSocketServerFactory<Extract<this['~protocol'], AnyProtocol>>;
  /** The normalised options. */
  readonly settings: WebSocketSettings;
  /** The URL the server is reached at (ws://host:port/path), if given. */
  readonly url: WsUrl | null;

  /** A factory for the server at `url` (optional) with `options`. TypeError for bad ones. */
  constructor(url?: string | null, options: WebSocketOptions = {}) {
    super();
    this.url = url === undefined || url === null ? null : parseWsUrl(url);
    this.settings = normaliseOptions(options);
  }

  /** Frames a message once, to send to many connections with sendPreparedMessage (see also broadcast). */
  prepareMessage(payload: Buffer | Uint8Array | string, isBinary = false): PreparedMessage {
    return new PreparedMessage(payload, isBinary);
  }
}

/** Builds WebSocketClientProtocols for connections to `url`; connect with connectWS. */
export class WebSocketClientFactory<P extends AnyProtocol = AnyProtocol> extends ClientFactory<P> {
  /** Type-level only: `WebSocketClientFactory.forProtocol(P)` is a `WebSocketClientFactory<P>` (see Factory's `~withProtocol`). */
  declare readonly '~withProtocol'?: WebSocketClientFactory<Extract<this['~protocol'], AnyProtocol>>;
  /** The normalised options. */
  readonly settings: WebSocketSettings;
  /** The server's URL. */
  readonly url: WsUrl;

  /** A factory for connections to `url` (ws:// or wss://) with `options`. TypeError for bad ones. */
  constructor(url: string, options: WebSocketOptions = {}) {
    super();
    this.url = parseWsUrl(url);
    this.settings = normaliseOptions(options);
  }
}
