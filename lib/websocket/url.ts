/** WebSocket URLs (RFC 6455 3): ws:// and wss://, no fragment. */

/** A parsed ws:// or wss:// URL. */
export interface WsUrl {
  /** True for wss://. */
  readonly secure: boolean;
  /** The host name or address (IPv6 without brackets). */
  readonly host: string;
  /** The port (default 80 or 443). */
  readonly port: number;
  /** The path and query, e.g. "/chat?room=1". */
  readonly resource: string;
  /** The Host header value. */
  readonly hostHeader: string;
}

/** Parses `url`; TypeError when it is not a ws:// or wss:// URL. */
export function parseWsUrl(url: string): WsUrl {
  if (typeof url !== 'string') throw new TypeError('WebSocket URL must be a string');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`not a WebSocket URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`WebSocket URL must be ws:// or wss://, got ${JSON.stringify(url)}`);
  if (u.hash !== '') throw new TypeError(`a WebSocket URL cannot have a fragment: ${JSON.stringify(url)}`);
  const secure = u.protocol === 'wss:';
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { secure, host, port, resource: (u.pathname || '/') + u.search, hostHeader: u.host };
}
