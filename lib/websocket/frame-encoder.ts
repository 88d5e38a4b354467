/**
 * The frame encoder (RFC 6455 5.2). A server frame is the header and the
 * payload copied into one Buffer below COPY_LIMIT (one allocation, one
 * write), or a header Buffer plus the caller's payload above it (no copy;
 * the two go out in one writev). A client frame is always copied, since its
 * payload is masked and the caller's Buffer must stay as it was; mask keys
 * come from a pool of random bytes refilled 4 KiB at a time.
 */
import { randomFillSync } from 'crypto';
import { applyMask } from '../reactor/mask';

/** Opcodes. */
export const enum Opcode {
  Continuation = 0,
  Text = 1,
  Binary = 2,
  Close = 8,
  Ping = 9,
  Pong = 10,
}

/** Below this payload size a server frame is one Buffer (copying is cheaper than a second iovec). */
const COPY_LIMIT = 16 * 1024;

/** The header length for a payload of `len` bytes (without a mask key). */
function headLength(len: number): number {
  return len < 126 ? 2 : len < 0x10000 ? 4 : 10;
}

/** Writes the header into `out` at 0; returns its length (mask key excluded). */
function writeHead(out: Buffer, first: number, len: number, masked: boolean): number {
  out[0] = first;
  const m = masked ? 0x80 : 0;
  if (len < 126) {
    out[1] = m | len;
    return 2;
  }
  if (len < 0x10000) {
    out[1] = m | 126;
    out.writeUInt16BE(len, 2);
    return 4;
  }
  out[1] = m | 127;
  out.writeUInt32BE(Math.floor(len / 0x100000000), 2);
  out.writeUInt32BE(len >>> 0, 6);
  return 10;
}

/** The first header byte: FIN, RSV1 and the opcode. */
export function firstByte(fin: boolean, rsv1: boolean, opcode: number): number {
  return (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
}

/** An unmasked (server) frame: one Buffer, or [header, payload] for a large payload. */
export function encodeFrame(first: number, payload: Buffer): Buffer | [Buffer, Buffer] {
  const len = payload.length;
  const h = headLength(len);
  if (len >= COPY_LIMIT) {
    const head = Buffer.allocUnsafe(h);
    writeHead(head, first, len, false);
    return [head, payload];
  }
  const out = Buffer.allocUnsafe(h + len);
  writeHead(out, first, len, false);
  payload.copy(out, h);
  return out;
}

/** A masked (client) frame: a copy of the payload, masked with a fresh random key. */
export function encodeMaskedFrame(first: number, payload: Buffer): Buffer {
  const len = payload.length;
  const h = headLength(len);
  const out = Buffer.allocUnsafe(h + 4 + len);
  writeHead(out, first, len, true);
  takeKey(out, h);
  payload.copy(out, h + 4);
  applyMask(out, h + 4, h + 4 + len, out, h);
  return out;
}

const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolAt = POOL_SIZE;

/** Copies 4 random bytes into `out` at `at`. */
function takeKey(out: Buffer, at: number): void {
  if (poolAt + 4 > pool.length) {
    if (pool.length === 0) pool = Buffer.allocUnsafe(POOL_SIZE);
    randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(out, at, poolAt, poolAt + 4);
  poolAt += 4;
}
