/**
 * What a transport's write() accepts, and its one conversion to bytes
 * (shared by stream transports, UDP and process pipes). Import these from
 * here, not through a re-export: TypeScript's CommonJS output re-exports
 * with an accessor on the re-exporting module's exports, and loads from
 * that module then went through V8's generic LoadIC (lib/protocols/
 * pending.ts re-exporting toBuffer cost LineReceiver ~80 instructions a
 * line: its per-line isDisconnecting is loaded from pending's exports).
 */

/** Bytes as write() takes them: a string is UTF-8 encoded. */
export type Bytes = Buffer | Uint8Array | string;

/** `data` as bytes (a string as UTF-8); a TypeError naming `what` for anything else. */
export function toBytes(data: unknown, what: string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`${what}: data must be a Buffer, Uint8Array or string, got ${data === null ? 'null' : typeof data}`);
}

/**
 * `data` as a Buffer: a Buffer as it is, a string as UTF-8, a Uint8Array as
 * a Buffer over the same memory (no copy); a TypeError naming `what` for
 * anything else (sendLine(42) says so, not Buffer.from's "Received undefined").
 */
export function toBuffer(data: unknown, what: string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const bytes = toBytes(data, what);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
