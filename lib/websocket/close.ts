/**
 * Close frames (RFC 6455 5.5.1, 7.4): which status codes may be sent and
 * received, and the payload (a 2-byte code and a UTF-8 reason).
 */
import { isUtf8 } from 'buffer';

/** Close codes by name (RFC 6455 7.4.1). */
export const CloseCode = {
  /** The purpose of the connection was fulfilled. */
  NORMAL: 1000,
  /** An endpoint is going away (a server shutting down, a page navigated away). */
  GOING_AWAY: 1001,
  /** The peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** A message of a type the endpoint cannot accept. */
  UNSUPPORTED_DATA: 1003,
  /** A close frame without a code (never sent on the wire). */
  NO_STATUS: 1005,
  /** The connection dropped without a close frame (never sent on the wire). */
  ABNORMAL: 1006,
  /** Message data inconsistent with its type (text that is not UTF-8). */
  INVALID_PAYLOAD: 1007,
  /** A message that violates the endpoint's policy. */
  POLICY_VIOLATION: 1008,
  /** A message or frame over the configured limit. */
  MESSAGE_TOO_BIG: 1009,
  /** The client needed an extension the server did not agree. */
  MANDATORY_EXTENSION: 1010,
  /** The server met an unexpected condition. */
  INTERNAL_ERROR: 1011,
} as const;

/** True for a code a peer may put in a close frame (1004-1006 and 1015 never go on the wire). */
export function validWireCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** A received close payload: code and reason, or a close code to fail with. */
export type ParsedClose = { code: number; reason: string } | { error: number; why: string };

/** Decodes a close frame's payload (no code: 1005 and an empty reason). */
export function parseClose(payload: Buffer): ParsedClose {
  if (payload.length === 0) return { code: CloseCode.NO_STATUS, reason: '' };
  if (payload.length === 1) return { error: CloseCode.PROTOCOL_ERROR, why: 'close frame with a 1-byte payload' };
  const code = payload.readUInt16BE(0);
  if (!validWireCode(code)) return { error: CloseCode.PROTOCOL_ERROR, why: `invalid close code ${code}` };
  const reason = payload.subarray(2);
  if (!isUtf8(reason)) return { error: CloseCode.INVALID_PAYLOAD, why: 'close reason is not valid UTF-8' };
  return { code, reason: reason.toString('utf8') };
}

/** The payload of a close frame with `code` (none: empty) and `reason`. */
export function closePayload(code: number | undefined, reason: string): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const r = Buffer.from(reason, 'utf8');
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** Checks what sendClose was given (as Autobahn: 1000 or 3000-4999, a reason of at most 123 bytes, and only with a code). */
export function checkSendClose(code: number | undefined, reason: string | undefined): void {
  if (code !== undefined && !(code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999))) {
    throw new RangeError(`sendClose: code must be 1000 or 3000..4999, got ${String(code)}`);
  }
  if (reason === undefined) return;
  if (typeof reason !== 'string') throw new TypeError('sendClose: reason must be a string');
  if (code === undefined) throw new TypeError('sendClose: a reason needs a code');
  if (Buffer.byteLength(reason) > 123) throw new RangeError('sendClose: reason must be at most 123 bytes of UTF-8');
}
