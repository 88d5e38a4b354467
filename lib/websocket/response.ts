/**
 * The client's reading of the server's handshake response: the head is
 * gathered until its blank line (at most MAX_RESPONSE_HEAD bytes), parsed
 * into a status and Headers, and checked against what was asked.
 */
import { Headers } from '../web/headers';
import { hasToken } from '../web/tokens';
import { acceptKey, MAX_RESPONSE_HEAD, ParsedResponse } from './handshake';

/** The head if `data` holds all of it: [response, bytes after it]; 'more' if not yet; or an error message. */
export function readResponseHead(data: Buffer): [ParsedResponse, Buffer] | 'more' | string {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return data.length > MAX_RESPONSE_HEAD ? 'handshake response head too large' : 'more';
  const lines = data.toString('latin1', 0, end).split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})(?: .*)?$/.exec(lines[0]);
  if (status === null) return `malformed status line ${JSON.stringify(lines[0].slice(0, 80))}`;
  const headers = new Headers();
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) return 'malformed header line in the handshake response';
    headers.addRawHeader(lines[i].slice(0, colon).trim(), lines[i].slice(colon + 1).trim());
  }
  return [{ code: Number(status[1]), headers }, data.subarray(end + 4)];
}

/** Checks a 101 answer against the key and the subprotocols offered; the error message, or null. */
export function checkResponse(r: ParsedResponse, key: string, offered: readonly string[]): string | null {
  if (r.code !== 101) return `the server answered ${r.code}, not 101`;
  const h = r.headers;
  if (!hasToken(h.getLower('upgrade'), 'websocket')) return 'Upgrade: websocket missing in the response';
  if (!hasToken(h.getLower('connection'), 'upgrade')) return 'Connection: Upgrade missing in the response';
  const accept = h.getRawHeaders('sec-websocket-accept');
  if (accept === null || accept.length !== 1 || accept[0] !== acceptKey(key)) return 'wrong Sec-WebSocket-Accept';
  const protocol = h.getRawHeaders('sec-websocket-protocol');
  if (protocol !== null && (protocol.length !== 1 || !offered.includes(protocol[0]))) return 'the server chose a subprotocol not offered';
  return null;
}
