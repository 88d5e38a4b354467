/**
 * The options of WebSocket factories (Autobahn's setProtocolOptions names),
 * checked once when the factory is made and kept normalised, so a
 * connection reads plain numbers.
 */
import type { IReactorTime } from '../interfaces';
import { reactor as defaultReactor } from '../reactor/index';
import { checkHeader } from '../web/response-head';
import { DeflateOffer, normaliseDeflate } from './deflate-params';

/** Options of WebSocketServerFactory and WebSocketClientFactory. */
export interface WebSocketOptions {
  /** Most bytes of a message after reassembly (and decompression); 1009 beyond. 0: no limit. Default 16 MiB. */
  maxMessagePayloadSize?: number;
  /** Most payload bytes of one frame; 1009 beyond. 0: no limit. Default: maxMessagePayloadSize. */
  maxFramePayloadSize?: number;
  /** Seconds between pings sent to the peer; 0 (the default) sends none. */
  autoPingInterval?: number;
  /** Seconds a pong may take before the connection is dropped as dead (default: autoPingInterval). */
  autoPingTimeout?: number;
  /** Seconds to wait for the peer's close frame after sending ours, then drop (default 1). */
  closeHandshakeTimeout?: number;
  /** Client: seconds to wait for the handshake response, then drop (default 10). */
  openHandshakeTimeout?: number;
  /** Client: seconds to wait for the server to close TCP after the close handshake, then drop (default 1). */
  serverConnectionDropTimeout?: number;
  /** permessage-deflate (RFC 7692): off by default; true for the defaults, or the parameters. */
  perMessageDeflate?: boolean | DeflateOffer;
  /** Client: the subprotocols offered, in order of preference. */
  protocols?: string[];
  /** Client: the Origin header sent. */
  origin?: string;
  /** Client: extra request headers; server: extra 101 response headers. */
  headers?: Record<string, string>;
  /** The clock for timers (default: the global reactor); client: also the reactor connectWS uses. */
  reactor?: IReactorTime;
}

/** The normalised options a connection reads. */
export interface WebSocketSettings {
  /** Largest message payload accepted, in bytes (1009 past it). */
  maxMessage: number;
  /** Largest frame payload accepted, in bytes (1009 past it). */
  maxFrame: number;
  /** Seconds between automatic pings (0: none). */
  autoPingInterval: number;
  /** Seconds to wait for the pong before dropping the peer. */
  autoPingTimeout: number;
  /** Seconds to wait for the close handshake to finish. */
  closeHandshakeTimeout: number;
  /** Seconds the opening handshake may take. */
  openHandshakeTimeout: number;
  /** Seconds a client waits for the server to drop TCP after the close handshake. */
  serverConnectionDropTimeout: number;
  /** The permessage-deflate offer or limits, or null when it is off. */
  deflate: Required<DeflateOffer> | null;
  /** Subprotocols offered or accepted, in order of preference. */
  protocols: string[];
  /** The Origin a client sends, or null. */
  origin: string | null;
  /** Extra headers for the handshake. */
  headers: Record<string, string>;
  /** The clock timeouts run on. */
  clock: IReactorTime;
}

const DEFAULT_MAX = 16 * 1024 * 1024;

function seconds(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new TypeError(`WebSocket option ${name} must be a number of seconds >= 0, got ${String(v)}`);
  return v;
}

function size(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TypeError(`WebSocket option ${name} must be an integer >= 0, got ${String(v)}`);
  return v === 0 ? Number.MAX_SAFE_INTEGER : v;
}

/** Checks and normalises `opts`; TypeError naming the bad option. */
export function normaliseOptions(opts: WebSocketOptions): WebSocketSettings {
  if (opts === null || typeof opts !== 'object') throw new TypeError('WebSocket options must be an object');
  const maxMessage = size('maxMessagePayloadSize', opts.maxMessagePayloadSize, DEFAULT_MAX);
  const interval = seconds('autoPingInterval', opts.autoPingInterval, 0);
  const clock = opts.reactor ?? defaultReactor;
  if (clock === null || typeof clock !== 'object' || typeof clock.callLater !== 'function') throw new TypeError('WebSocket option reactor must provide callLater and seconds');
  const protocols = opts.protocols ?? [];
  if (!Array.isArray(protocols) || protocols.some((p) => typeof p !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(p))) {
    throw new TypeError('WebSocket option protocols must be an array of tokens');
  }
  const headers = { ...(opts.headers ?? {}) };
  for (const [name, value] of Object.entries(headers)) checkHeader(name, value);
  if (opts.origin !== undefined) checkHeader('Origin', opts.origin);
  return {
    maxMessage,
    maxFrame: Math.min(maxMessage, size('maxFramePayloadSize', opts.maxFramePayloadSize, maxMessage)),
    autoPingInterval: interval,
    autoPingTimeout: seconds('autoPingTimeout', opts.autoPingTimeout, interval),
    closeHandshakeTimeout: seconds('closeHandshakeTimeout', opts.closeHandshakeTimeout, 1),
    openHandshakeTimeout: seconds('openHandshakeTimeout', opts.openHandshakeTimeout, 10),
    serverConnectionDropTimeout: seconds('serverConnectionDropTimeout', opts.serverConnectionDropTimeout, 1),
    deflate: normaliseDeflate(opts.perMessageDeflate),
    protocols,
    origin: opts.origin ?? null,
    headers,
    clock,
  };
}
