/**
 * Broadcast (Autobahn's prepareMessage / sendPreparedMessage): a message is
 * framed once, and the same Buffer is written to every connection. Sent
 * uncompressed even where permessage-deflate was agreed (RFC 7692 lets
 * any message go uncompressed), since compressing per connection is the
 * cost a broadcast exists to avoid. Server connections only: a client's
 * frames are masked with a fresh key each, so cannot be shared.
 */
import { encodeFrame, firstByte, Opcode } from './frame-encoder';
import { toBuffer } from '../transport/bytes';

/** A message framed once, for sendPreparedMessage. */
export class PreparedMessage {
  /** The frame: one Buffer, or header and payload. */
  readonly frame: Buffer | [Buffer, Buffer];
  /** Payload bytes. */
  readonly length: number;

  /** Frames `payload` (a string as UTF-8 text unless `isBinary`). */
  constructor(payload: Buffer | Uint8Array | string, isBinary = false) {
    const data = toBuffer(payload, 'prepareMessage');
    this.length = data.length;
    this.frame = encodeFrame(firstByte(true, false, isBinary ? Opcode.Binary : Opcode.Text), data);
  }
}

/** What broadcast needs of a connection. */
export interface PreparedMessageSink {
  /** Writes a prepared message's frame (ignored unless open). */
  sendPreparedMessage(message: PreparedMessage): void;
}

/** Frames `payload` once and sends it to every connection in `connections`; returns the message. */
export function broadcast(connections: Iterable<PreparedMessageSink>, payload: Buffer | Uint8Array | string, isBinary = false): PreparedMessage {
  const m = new PreparedMessage(payload, isBinary);
  for (const c of connections) c.sendPreparedMessage(m);
  return m;
}
