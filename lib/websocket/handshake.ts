/**
 * The opening handshake (RFC 6455 4): the accept key, the checks a server
 * makes of an upgrade request (400 for a malformed one, 426 with the
 * version we speak for another version or a plain GET), the 101 response,
 * and, for the client, the request and the checks of the server's answer.
 */
import * as crypto from 'crypto';
import type { Headers } from '../web/headers';
import { checkHeader } from '../web/response-head';
import { hasToken } from '../web/tokens';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Node's one-shot digest (Node 20.12 and later): no Hash object per handshake. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  if (oneShot !== undefined) return oneShot('sha1', key + GUID, 'base64');
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

/** A fresh Sec-WebSocket-Key (16 random bytes, base64). */
export function newKey(): string {
  return crypto.randomBytes(16).toString('base64');
}

/** Where header values are read: Headers, or a Request (which reads them from its head without building its Headers). */
export interface HeaderFields {
  /** The values of the field named `lowerName` (lower-case), or undefined when absent. */
  getLower(lowerName: string): string[] | undefined;
}

/** The comma-separated tokens of every value of header `name` (lower-case), trimmed (case kept). */
export function headerTokens(headers: HeaderFields, name: string): string[] {
  const values = headers.getLower(name);
  if (values === undefined) return [];
  const out: string[] = [];
  for (const v of values) {
    for (const t of v.split(',')) {
      const s = t.trim();
      if (s !== '') out.push(s);
    }
  }
  return out;
}

/** Why a request cannot be upgraded: [status, message, extra headers], or null when it can. */
export type HandshakeRefusal = [number, string, Record<string, string>];

const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Checks an upgrade request's method, version and headers (read without building a Headers: a handshake is all garbage but its key). */
export function checkUpgradeRequest(method: string, clientproto: string, headers: HeaderFields): HandshakeRefusal | null {
  if (method !== 'GET') return [405, 'a WebSocket handshake must be a GET', { Allow: 'GET' }];
  if (!hasToken(headers.getLower('upgrade'), 'websocket')) return [426, 'this resource speaks WebSocket only', wanted()];
  if (clientproto !== 'HTTP/1.1') return [400, 'a WebSocket handshake needs HTTP/1.1', {}];
  if (!hasToken(headers.getLower('connection'), 'upgrade')) return [400, 'Connection: Upgrade is missing', {}];
  const version = headers.getLower('sec-websocket-version');
  if (version === undefined || version.length !== 1 || version[0].trim() !== '13') {
    return [426, 'unsupported Sec-WebSocket-Version (13 is spoken)', wanted()];
  }
  const key = headers.getLower('sec-websocket-key');
  if (key === undefined || key.length !== 1 || !KEY.test(key[0].trim())) return [400, 'missing or malformed Sec-WebSocket-Key', {}];
  return null;
}

/** The headers of a 426: what we speak. */
function wanted(): Record<string, string> {
  return { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' };
}

/**
 * The 101 response head: the factory's `headers`, then (replacing a factory
 * header of the same name) onConnect's `extra`. TypeError for a header
 * that could split the response.
 */
export function switchingProtocols(
  key: string,
  protocol: string | null,
  extensions: string | null,
  headers: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, string>> | null,
): Buffer {
  let head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + acceptKey(key) + '\r\n';
  if (protocol !== null) head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== null) head += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  for (const name in headers) {
    if (extra === null || !Object.prototype.hasOwnProperty.call(extra, name)) head += headerLine(name, headers[name]);
  }
  if (extra !== null) for (const name of Object.keys(extra)) head += headerLine(name, extra[name]);
  return Buffer.from(head + '\r\n', 'latin1');
}

/** "name: value\r\n", checked (TypeError for a name or value that could split the head). */
function headerLine(name: string, value: string): string {
  checkHeader(name, value);
  return `${name}: ${value}\r\n`;
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
