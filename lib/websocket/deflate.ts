/**
 * permessage-deflate (RFC 7692) on node:zlib's synchronous calls.
 *
 * Context takeover without a zlib stream per connection: the LZ77 history
 * a context would keep is exactly the last 2^windowBits bytes of plaintext
 * that went through it, so each message is compressed (or inflated) by a
 * fresh engine given that window as its preset dictionary. The peer's
 * engine holds the same history, so its references into it resolve the
 * same. What a connection keeps between messages is therefore only the
 * plaintext windows (at most 32 KiB each way, nothing with
 * no_context_takeover); the zlib engines (~256 KiB to compress, ~40 KiB to
 * inflate) live for one call. The price is priming the dictionary on each
 * message. On the sending side we choose how much history to use (any
 * suffix of it is valid), and 8 KiB of it compresses chat-sized messages as
 * well as 32 KiB at about half the time (measured: 80-byte JSON messages
 * went to 5 bytes either way, ~50 against ~90 us a message); the receiving
 * side must keep the peer's whole window.
 *
 * A window of 8 bits is declined when offered for our sending side (zlib's
 * raw deflate cannot make 256-byte windows), so such a client gets no
 * compression rather than a stream it cannot read.
 */
import { constants, deflateRawSync, inflateRawSync } from 'zlib';
import type { DeflateAgreement } from './deflate-params';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Most history a message is compressed against (see above). */
const SEND_HISTORY = 8 * 1024;

/** One connection's compression state. */
export class PerMessageDeflate {
  private sendWindow: Buffer | null = null;
  private recvWindow: Buffer | null = null;
  private readonly sendBits: number;
  private readonly sendTakeover: boolean;
  private readonly recvTakeover: boolean;

  /** The state for one side (`isServer`) of an agreement; messages under `threshold` bytes are not compressed. */
  constructor(agreement: DeflateAgreement, isServer: boolean, readonly threshold: number) {
    this.sendBits = Math.max(9, isServer ? agreement.serverMaxWindowBits : agreement.clientMaxWindowBits);
    this.sendTakeover = !(isServer ? agreement.serverNoContextTakeover : agreement.clientNoContextTakeover);
    this.recvTakeover = !(isServer ? agreement.clientNoContextTakeover : agreement.serverNoContextTakeover);
  }

  /** The compressed payload of a message (the trailing 00 00 ff ff removed). */
  compress(data: Buffer): Buffer {
    const opts: { windowBits: number; finishFlush: number; dictionary?: Buffer } = { windowBits: this.sendBits, finishFlush: constants.Z_SYNC_FLUSH };
    if (this.sendWindow !== null) opts.dictionary = this.sendWindow;
    const out = deflateRawSync(data, opts);
    if (this.sendTakeover) this.sendWindow = slide(this.sendWindow, data, Math.min(SEND_HISTORY, 1 << this.sendBits));
    return out.subarray(0, out.length - 4);
  }

  /** The message a compressed payload holds; null when it would exceed `max` bytes; throws on corrupt data. */
  decompress(data: Buffer, max: number): Buffer | null {
    const opts: { windowBits: number; finishFlush: number; dictionary?: Buffer; maxOutputLength?: number } = {
      windowBits: 15,
      finishFlush: constants.Z_SYNC_FLUSH,
    };
    if (this.recvWindow !== null) opts.dictionary = this.recvWindow;
    if (max < 0x7fffffff) opts.maxOutputLength = Math.max(1, max);
    let out: Buffer;
    try {
      out = inflateRawSync(Buffer.concat([data, TAIL]), opts);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return null;
      throw e;
    }
    if (out.length > max) return null;
    if (this.recvTakeover) this.recvWindow = slide(this.recvWindow, out, 1 << 15);
    return out;
  }
}

/** The last `size` bytes of `window` followed by `data` (a copy: received Buffers are views of reads). */
function slide(window: Buffer | null, data: Buffer, size: number): Buffer {
  if (data.length >= size) return Buffer.from(data.subarray(data.length - size));
  if (window === null || window.length === 0) return Buffer.from(data);
  const keep = Math.min(window.length, size - data.length);
  return Buffer.concat([window.subarray(window.length - keep), data]);
}
