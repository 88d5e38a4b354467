/**
 * The per-message fast path: a read that is exactly one whole, unfragmented
 * data frame (what a chat or echo peer sends nearly every time), and the
 * reply framed in place when the handler sends that same payload back.
 *
 * wholeFrameHead recognises such a read from its first bytes; the protocol
 * then unmasks it in place and hands on a view of the payload, with no
 * parser lent, no reassembly state and no frame callback. Anything else
 * (several frames, a frame cut by the read, a control frame, a fragment,
 * reserved bits, a 64-bit length, a masking mistake, a frame over the limit)
 * returns -1 and goes through FrameParser, which makes every check and
 * reports every error: the fast path never decides that a frame is bad.
 *
 * The reply in place: while onMessage runs on a payload delivered here, the
 * bytes just before it in the read are the frame's own header and mask key,
 * already used and seen by nobody (the handler's view starts after them). A
 * sendMessage of that very Buffer on a server connection writes the reply's
 * header there and sends header and payload as one view: no allocation for
 * the frame and no copy of the payload. Only while onMessage runs: after it,
 * the payload is the handler's to keep, and sendMessage copies as usual.
 */
import { Buffer } from 'buffer';
import { SlabView } from '../reactor/received';
import { applyMask } from './mask';

/**
 * TypedArray's own getters, called directly: a received Buffer's prototype
 * chain was set by hand (SlabView), so `data.buffer` and `data.byteOffset`
 * went through V8's generic load IC on every message (~45 ns a pair here).
 */
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const bufferGetter = Object.getOwnPropertyDescriptor(typedArrayProto, 'buffer')!.get as (this: Uint8Array) => ArrayBuffer;
const offsetGetter = Object.getOwnPropertyDescriptor(typedArrayProto, 'byteOffset')!.get as (this: Uint8Array) => number;

/** The payload lent to the onMessage running now (null outside one), where it lies, and the header room before it. */
let lent: Buffer | null = null;
let lentMemory: ArrayBuffer | null = null;
let lentAt = 0;
let lentRoom = 0;

/** The last memory unmasked in, and an Int32Array over all of it (reads come from a few chunks in turn). */
let wordsMemory: ArrayBuffer | null = null;
let words = new Int32Array(0);

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The header length when `data` is exactly one whole data frame (FIN, no
 * reserved bits, text or binary, masked iff `masked`, a 7- or 16-bit length
 * of at most `maxPayload`), else -1.
 */
export function wholeFrameHead(data: Buffer, masked: boolean, maxPayload: number): number {
  const end = data.length;
  if (end < 2) return -1;
  const b0 = data[0];
  const b1 = data[1];
  if (b0 !== 0x82 && b0 !== 0x81) return -1;
  if ((b1 & 0x80) !== (masked ? 0x80 : 0)) return -1;
  let len = b1 & 0x7f;
  let head = masked ? 6 : 2;
  if (len === 126) {
    if (end < 4) return -1;
    len = (data[2] << 8) | data[3];
    head += 2;
  } else if (len === 127) {
    return -1;
  }
  return len === end - head && len <= maxPayload ? head : -1;
}

/**
 * Unmasks (when `masked`) the whole frame `data` with header length `head`
 * in place and returns its payload as a view, noted as the one to lend next
 * (see lend).
 */
export function openWholeFrame(data: Buffer, head: number, masked: boolean): Buffer {
  const memory = bufferGetter.call(data);
  const at = offsetGetter.call(data) + head;
  if (masked) unmask(data, head, memory, at);
  lentMemory = memory;
  lentAt = at;
  return new SlabView(memory, at, data.length - head) as unknown as Buffer;
}

/**
 * XORs the payload (from `head` of `data`, at byte `at` of `memory`) with
 * the key in the 4 bytes before it: single bytes up to a 4-aligned address,
 * then 32-bit words through an Int32Array kept over the memory (a new view
 * per message costs more than the XORs of a small one), then the tail.
 */
function unmask(data: Buffer, head: number, memory: ArrayBuffer, at: number): void {
  const end = data.length;
  const key = data[head - 4] | (data[head - 3] << 8) | (data[head - 2] << 16) | (data[head - 1] << 24);
  if (!LITTLE_ENDIAN) return applyMask(data, head, end, data, head - 4);
  let i = head;
  for (; i < end && ((at + i - head) & 3) !== 0; i++) data[i] ^= key >>> (((i - head) & 3) << 3);
  const count = (end - i) >> 2;
  if (count > 0) {
    if (memory !== wordsMemory) {
      wordsMemory = memory;
      words = new Int32Array(memory, 0, memory.byteLength >> 2);
    }
    const s = ((i - head) & 3) << 3;
    const w = s === 0 ? key : (key >>> s) | (key << (32 - s));
    const first = (at + i - head) >> 2;
    const stop = first + count;
    const v = words;
    for (let j = first; j < stop; j++) v[j] ^= w;
    i += count << 2;
  }
  for (; i < end; i++) data[i] ^= key >>> (((i - head) & 3) << 3);
}

/** Marks `payload` (from openWholeFrame, with `room` free bytes before it) as lent to an onMessage about to run; returns what was lent before. */
export function lend(payload: Buffer, room: number): Buffer | null {
  const was = lent;
  lent = payload;
  lentRoom = room;
  return was;
}

/** Ends a lending begun by lend (`was`: its return value). A lending it ended inside frames by copying from then on. */
export function endLend(was: Buffer | null): void {
  lent = was;
  lentRoom = 0;
}

/**
 * The unmasked frame of `payload` built in place in front of it, when it is
 * the payload lent now and the room before it holds the header; else null.
 */
export function replyInPlace(payload: unknown, first: number): Buffer | null {
  const p = lent;
  if (payload !== p || p === null) return null;
  const len = p.length;
  const h = len < 126 ? 2 : 4;
  if (h > lentRoom) return null;
  const frame = new SlabView(lentMemory!, lentAt - h, len + h) as unknown as Buffer;
  frame[0] = first;
  if (h === 2) {
    frame[1] = len;
  } else {
    frame[1] = 126;
    frame[2] = len >>> 8;
    frame[3] = len & 0xff;
  }
  return frame;
}
