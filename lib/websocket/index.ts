/**
 * WebSocket (RFC 6455, RFC 7692) with Autobahn|Python's names. Each part
 * lives in its own file; this one re-exports them.
 */
export { WebSocketProtocol, WebSocketState } from './protocol';
export type { WebSocketFactoryLike, Sendable } from './protocol';
export { WebSocketServerProtocol, ConnectionRequest, ConnectionDeny } from './server';
export type { ConnectAnswer } from './server';
export { WebSocketServerFactory, WebSocketClientFactory } from './factory';
export { WebSocketResource } from './resource';
export { CloseCode } from './close';
export type { WebSocketOptions, WebSocketSettings } from './options';
export type { DeflateOffer } from './deflate-params';
export type { WsUrl } from './url';
export { WebSocketClientProtocol, connectWS } from './client';
export type { ConnectionResponse } from './client';
export { broadcast, PreparedMessage } from './broadcast';
export type { PreparedMessageSink } from './broadcast';
export { listenWS } from './listen';
export type { ListenWSOptions } from './listen';
