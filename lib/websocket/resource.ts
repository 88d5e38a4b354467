/**
 * WebSocketResource (Autobahn's): mounts a WebSocketServerFactory on a Site
 * path. It checks the upgrade request, builds the protocol, asks its
 * onConnect (which may answer later, with a Promise or Deferred), agrees on
 * permessage-deflate, answers 101 and hands the connection over
 * (HTTPChannel.upgrade). A refusal is an HTTP answer: ConnectionDeny's
 * status, 400/426 for a bad handshake, 500 when onConnect fails otherwise.
 */
import { Failure } from '../failure';
import { log } from '../log';
import { HTTPChannel } from '../web/channel';
import type { Request } from '../web/request';
import { NOT_DONE_YET, RenderResult, Resource } from '../web/resource';
import { reasonPhrase } from '../web/status';
import { PerMessageDeflate } from './deflate';
import { acceptOffer, parseExtensions } from './deflate-params';
import type { WebSocketServerFactory } from './factory';
import { checkUpgradeRequest, switchingProtocols } from './handshake';
import { ConnectAnswer, ConnectionDeny, ConnectionRequest, WebSocketServerProtocol } from './server';

/** A leaf resource upgrading every request to a WebSocket of `factory`. */
export class WebSocketResource extends Resource {
  override isLeaf = true;
  /** @internal Protocols already built for a connection (a factory listening straight on a port: direct.ts). */
  readonly prebuilt = new WeakMap<object, WebSocketServerProtocol>();

  /** A resource for `factory` (it builds WebSocketServerProtocols). */
  constructor(
    /** The factory building each connection's protocol. */
    readonly factory: WebSocketServerFactory,
  ) {
    super();
    if (factory === null || typeof factory !== 'object' || typeof factory.buildProtocol !== 'function' || !('settings' in factory)) {
      throw new TypeError('WebSocketResource: factory must be a WebSocketServerFactory');
    }
  }

  /** Performs the upgrade, or answers why it cannot. */
  override render(request: Request): RenderResult {
    const refusal = checkUpgradeRequest(request.method, request.clientproto, request);
    if (refusal !== null) return refuse(request, refusal[0], refusal[1], refusal[2]);
    if (!(request.channel instanceof HTTPChannel)) return refuse(request, 500, 'this connection cannot be upgraded', {});
    const protocol = this.prebuilt.get(request.channel) ?? (this.factory.buildProtocol(request.getClientAddress()) as unknown);
    if (!(protocol instanceof WebSocketServerProtocol)) {
      log.failure('WebSocketResource: the factory did not build a WebSocketServerProtocol', new Failure(new TypeError(String(protocol))));
      return refuse(request, 500, 'Internal Server Error', {});
    }
    const info = new ConnectionRequest(request);
    let answer;
    try {
      answer = protocol.onConnect(info);
    } catch (e) {
      return denial(request, e);
    }
    if (answer !== null && typeof answer === 'object' && !Array.isArray(answer) && typeof (answer as PromiseLike<unknown>).then === 'function') {
      (answer as PromiseLike<ConnectAnswer>).then(
        (a) => this.finish(request, protocol, info, a),
        (e: unknown) => {
          if (request.lostReason === null && !request.finished) connectFailed(request, e);
        },
      );
      return NOT_DONE_YET;
    }
    this.finish(request, protocol, info, answer as ConnectAnswer);
    return NOT_DONE_YET;
  }

  /** onConnect answered: agree on the rest and switch protocols. */
  private finish(request: Request, protocol: WebSocketServerProtocol, info: ConnectionRequest, answer: ConnectAnswer): void {
    if (request.lostReason !== null || request.finished) return;
    let chosen: string | null = null;
    let headers: Record<string, string> | null = null;
    if (Array.isArray(answer)) {
      chosen = answer[0] ?? null;
      headers = answer[1] ?? null;
    } else if (typeof answer === 'string') chosen = answer;
    if (chosen !== null && !info.protocols.includes(chosen)) {
      return connectFailed(request, new TypeError(`onConnect chose subprotocol ${JSON.stringify(chosen)}, which the client did not offer`));
    }
    const s = this.factory.settings;
    let extensions: string | null = null;
    if (s.deflate !== null) {
      const offers = parseExtensions(request.getLower('sec-websocket-extensions') ?? []);
      const agreed = offers === null ? null : acceptOffer(offers, s.deflate);
      if (agreed !== null) {
        protocol.deflate = new PerMessageDeflate(agreed[0], true, s.deflate.threshold);
        extensions = agreed[1];
      }
    }
    let head: Buffer;
    try {
      head = switchingProtocols(request.getLower('sec-websocket-key')![0].trim(), chosen, extensions, s.headers, headers);
    } catch (e) {
      return connectFailed(request, e);
    }
    protocol.websocketProtocolInUse = chosen;
    protocol.acceptUpgrade();
    (request.channel as HTTPChannel).upgrade(request, head, protocol);
  }
}

/** An HTTP error answer to a handshake. */
function refuse(request: Request, code: number, message: string, headers: Record<string, string>): string {
  request.setResponseCode(code);
  for (const [name, value] of Object.entries(headers)) request.setHeader(name, value);
  request.setHeader('Content-Type', 'text/plain; charset=utf-8');
  request.setHeader('Connection', 'close');
  return `${message || reasonPhrase(code)}\n`;
}

/** The answer when onConnect refused (ConnectionDeny's status) or failed (logged, 500). */
function denial(request: Request, e: unknown): string {
  if (e instanceof ConnectionDeny) return refuse(request, e.code, e.reason, {});
  log.failure('WebSocket onConnect failed', new Failure(e));
  return refuse(request, 500, 'Internal Server Error', {});
}

/** The same, sent later (onConnect answered asynchronously). */
function connectFailed(request: Request, e: unknown): void {
  request.respond(denial(request, e));
}
