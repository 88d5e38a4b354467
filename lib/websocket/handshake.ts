/**
 * The opening handshake (RFC 6455 4): the accept key, the checks a server
 * makes of an upgrade request (400 for a malformed one, 426 with the
 * version we speak for another version or a plain GET), the 101 response,
 * and, for the client, the request and the checks of the server's answer.
 */
import { createHash, randomBytes } from 'crypto';
import type { Headers } from '../web/headers';
import { checkHeader } from '../web/response-head';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** A fresh Sec-WebSocket-Key (16 random bytes, base64). */
export function newKey(): string {
  return randomBytes(16).toString('base64');
}

/** The comma-separated tokens of every value of header `name`, trimmed (case kept). */
export function headerTokens(headers: Headers, name: string): string[] {
  const values = headers.getRawHeaders(name);
  if (values === null) return [];
  const out: string[] = [];
  for (const v of values) {
    for (const t of v.split(',')) {
      const s = t.trim();
      if (s !== '') out.push(s);
    }
  }
  return out;
}

function hasToken(headers: Headers, name: string, token: string): boolean {
  return headerTokens(headers, name).some((t) => t.toLowerCase() === token);
}

/** Why a request cannot be upgraded: [status, message, extra headers], or null when it can. */
export type HandshakeRefusal = [number, string, Record<string, string>];

const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Checks an upgrade request's method, version and headers. */
export function checkUpgradeRequest(method: string, clientproto: string, headers: Headers): HandshakeRefusal | null {
  const want = { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' };
  if (method !== 'GET') return [405, 'a WebSocket handshake must be a GET', { Allow: 'GET' }];
  if (!hasToken(headers, 'upgrade', 'websocket')) return [426, 'this resource speaks WebSocket only', want];
  if (clientproto !== 'HTTP/1.1') return [400, 'a WebSocket handshake needs HTTP/1.1', {}];
  if (!hasToken(headers, 'connection', 'upgrade')) return [400, 'Connection: Upgrade is missing', {}];
  const version = headers.getRawHeaders('sec-websocket-version');
  if (version === null || version.length !== 1 || version[0].trim() !== '13') {
    return [426, 'unsupported Sec-WebSocket-Version (13 is spoken)', want];
  }
  const key = headers.getRawHeaders('sec-websocket-key');
  if (key === null || key.length !== 1 || !KEY.test(key[0].trim())) return [400, 'missing or malformed Sec-WebSocket-Key', {}];
  return null;
}

/** The 101 response head; TypeError for an extra header that could split it. */
export function switchingProtocols(key: string, protocol: string | null, extensions: string | null, extra: Record<string, string>): Buffer {
  let head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
  head += `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
  if (protocol !== null) head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== null) head += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  for (const [name, value] of Object.entries(extra)) {
    checkHeader(name, value);
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(head + '\r\n', 'latin1');
}

/** What a client puts in its request. */
export interface ClientRequestSpec {
  host: string;
  path: string;
  key: string;
  origin: string | null;
  protocols: readonly string[];
  extensions: string | null;
  headers: Readonly<Record<string, string>>;
}

/** The client's upgrade request. */
export function upgradeRequest(spec: ClientRequestSpec): Buffer {
  let head = `GET ${spec.path} HTTP/1.1\r\nHost: ${spec.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
  head += `Sec-WebSocket-Key: ${spec.key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (spec.origin !== null) head += `Origin: ${spec.origin}\r\n`;
  if (spec.protocols.length !== 0) head += `Sec-WebSocket-Protocol: ${spec.protocols.join(', ')}\r\n`;
  if (spec.extensions !== null) head += `Sec-WebSocket-Extensions: ${spec.extensions}\r\n`;
  for (const [name, value] of Object.entries(spec.headers)) head += `${name}: ${value}\r\n`;
  return Buffer.from(head + '\r\n', 'utf8');
}

/** A server's answer to the upgrade request. */
export interface ParsedResponse {
  code: number;
  headers: Headers;
}

/** Most bytes of a server's handshake response head. */
export const MAX_RESPONSE_HEAD = 16384;
