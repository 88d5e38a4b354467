/**
 * The server side (Autobahn's WebSocketServerProtocol): onConnect(request)
 * sees the upgrade request before the handshake is answered, and may choose
 * a subprotocol, add response headers, or refuse with ConnectionDeny.
 */
import type { IAddress } from '../address';
import type { Failure } from '../failure';
import type { HTTPChannel } from '../web/channel';
import type { Request } from '../web/request';
import { directHandshake } from './direct';
import { headerTokens } from './handshake';
import { WebSocketProtocol, WebSocketFactoryLike } from './protocol';

/**
 * What onConnect learns of the upgrade request (Autobahn's
 * ConnectionRequest). Each field is read from the request when asked for:
 * most servers look at one or two, and whatever is read is garbage once the
 * handshake is answered.
 */
export class ConnectionRequest {
  /** The WebSocket protocol version (13). */
  readonly version = 13;

  /** @internal Made by WebSocketResource. */
  constructor(
    /** The HTTP request carrying the upgrade (headers: request.requestHeaders). */
    readonly request: Request,
  ) {}

  /** The request path, e.g. "/chat". */
  get path(): string {
    return this.request.path;
  }

  /** The query arguments. */
  get params(): Record<string, string[]> {
    return this.request.args;
  }

  /** The Host header, or null. */
  get host(): string | null {
    return this.request.getHeader('host');
  }

  /** The Origin header, or null (non-browser clients often send none). */
  get origin(): string | null {
    return this.request.getHeader('origin');
  }

  /** The subprotocols the client offered, in its order. */
  get protocols(): string[] {
    return headerTokens(this.request, 'sec-websocket-protocol');
  }

  /** The extensions the client offered (raw tokens). */
  get extensions(): string[] {
    return headerTokens(this.request, 'sec-websocket-extensions');
  }

  /** The client's address. */
  get peer(): IAddress {
    return this.request.getClientAddress();
  }
}

/** WebSocketServerProtocol.handshake once the 101 went out, before the hand-off. */
const UPGRADED: unique symbol = Symbol('upgraded');

/** Thrown (or returned rejected) from onConnect to refuse the connection with an HTTP status (Autobahn's ConnectionDeny). */
export class ConnectionDeny extends Error {
  /** 400 */
  static readonly BAD_REQUEST = 400;
  /** 403 */
  static readonly FORBIDDEN = 403;
  /** 404 */
  static readonly NOT_FOUND = 404;

  /** A refusal with HTTP status `code` (400..599) and `reason`. */
  constructor(
    /** The HTTP status answered. */
    readonly code: number,
    /** The text sent as the response body. */
    readonly reason = '',
  ) {
    super(`WebSocket connection denied: ${code} ${reason}`);
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'ConnectionDeny';
    if (!Number.isInteger(code) || code < 400 || code > 599) throw new RangeError(`ConnectionDeny: code must be an HTTP error status 400..599, got ${String(code)}`);
  }
}

/** What onConnect may return: a subprotocol (or null for none), optionally with extra response headers. */
export type ConnectAnswer = string | null | undefined | void | [string | null, Record<string, string>];

/** A server connection; subclass it and override onConnect, onOpen, onMessage, onClose. */
export class WebSocketServerProtocol<F extends WebSocketFactoryLike = WebSocketFactoryLike> extends WebSocketProtocol<F> {
  protected get isClient(): boolean {
    return false;
  }
  /**
   * The client asks to connect: return the subprotocol to speak (one of
   * request.protocols) or null, optionally with response headers, or a
   * Promise/Deferred of that; throw ConnectionDeny to refuse.
   */
  onConnect(_request: ConnectionRequest): ConnectAnswer | PromiseLike<ConnectAnswer> {
    return null;
  }

  /**
   * @internal Until frames start, openingHandshake holds the HTTPChannel
   * running the HTTP handshake of a factory listening straight on a port,
   * or UPGRADED once WebSocketResource answered 101 on a Site's channel
   * (in the connection's extras: an idle connection keeps neither).
   */
  private get handshake(): HTTPChannel | typeof UPGRADED | null {
    return this.openingHandshake as HTTPChannel | typeof UPGRADED | null;
  }

  /** @internal Sets or clears the opening handshake's state. */
  private set handshake(h: HTTPChannel | typeof UPGRADED | null) {
    this.openingHandshake = h;
  }

  /**
   * @internal WebSocketResource answered 101: the channel's hand-off
   * (makeConnection) starts the frames. Straight on a port the channel
   * already sits in `handshake`, which says as much.
   */
  acceptUpgrade(): void {
    if (this.handshake === null) this.handshake = UPGRADED;
  }

  /** @internal Frames start (after WebSocketResource's upgrade), or, straight on a port, the HTTP handshake does. */
  override connectionMade(): void {
    if (this.handshake !== null) {
      this.handshake = null;
      return this.startFraming();
    }
    this.handshake = directHandshake(this, this.transport);
  }

  /** @internal */
  override dataReceived(data: Buffer): void {
    const h = this.handshake;
    if (h !== null && h !== UPGRADED) h.dataReceived(data);
    else super.dataReceived(data);
  }

  /** @internal The TLS handshake finished: the HTTP handshake's requests are secure. */
  handshakeCompleted(): void {
    const h = this.handshake;
    if (h !== null && h !== UPGRADED) h.handshakeCompleted();
  }

  /** @internal */
  override connectionLost(reason: Failure): void {
    const h = this.handshake;
    this.handshake = null;
    if (h !== null && h !== UPGRADED) h.connectionLost(reason);
    super.connectionLost(reason);
  }
}
