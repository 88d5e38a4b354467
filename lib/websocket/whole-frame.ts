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
 * A short read usually comes as a range of the transport's keep chunk
 * (memory, offset, length: StreamTransport.onDataKept) rather than a Buffer:
 * the *In functions work on that range through one Uint8Array kept over the
 * chunk, so the read itself never becomes a typed array (one of three per
 * echoed message, ~215 instructions each, and the `buffer` getter's ~150).
 *
 * On a server's connection the bridge does the unmasking itself, in the copy
 * it makes of each short read anyway (native/ws_frames.cc): a read that is
 * exactly one whole masked data frame arrives as Rec.FrameKept, payload
 * unmasked, header and key as sent (openWholeFrameIn, masked false). The
 * bridge looks at the read's bytes alone; the protocol, which knows whether the read begins
 * at a frame boundary, masks it again when it does not
 * (lib/reactor/frame-kept.ts), so the peer's bytes are never lost.
 *
 * The reply in place: while onMessage runs on a payload delivered here, the
 * bytes just before it in the read are the frame's own header and mask key,
 * already used and seen by nobody (the handler's view starts after them). A
 * sendMessage of that very Buffer on a server connection writes the reply's
 * header there and sends header and payload as one range of that memory
 * (StreamTransport.writeAt: not even a view is made): no allocation for the
 * frame and no copy of the payload. Only while onMessage runs: after it,
 * the payload is the handler's to keep, and sendMessage copies as usual.
 */
import { Buffer } from 'buffer';
import { SlabView } from '../reactor/received';
import { keptFrameHead } from '../reactor/frame-kept';
import { applyMask } from '../reactor/mask';

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

/** The last memory read from, and a Uint8Array over all of it. */
let bytesMemory: ArrayBuffer | null = null;
let bytes = new Uint8Array(0);

/** A Uint8Array over all of `memory`, made once per memory in a row. */
function bytesOver(memory: ArrayBuffer): Uint8Array {
  if (memory !== bytesMemory) {
    bytesMemory = memory;
    bytes = new Uint8Array(memory);
  }
  return bytes;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The header length when `data` is exactly one whole data frame (FIN, no
 * reserved bits, text or binary, masked iff `masked`, a 7- or 16-bit length
 * of at most `maxPayload`), else -1.
 */
export function wholeFrameHead(data: Buffer, masked: boolean, maxPayload: number): number {
  return headAt(data, 0, data.length, masked, maxPayload);
}

/** wholeFrameHead of the `length` bytes at `offset` of `memory`. */
export function wholeFrameHeadIn(memory: ArrayBuffer, offset: number, length: number, masked: boolean, maxPayload: number): number {
  return headAt(bytesOver(memory), offset, length, masked, maxPayload);
}

/** wholeFrameHead of the `length` bytes at `at` of `b`. */
function headAt(b: Uint8Array, at: number, length: number, masked: boolean, maxPayload: number): number {
  if (length < 2) return -1;
  const b0 = b[at];
  const b1 = b[at + 1];
  if (b0 !== 0x82 && b0 !== 0x81) return -1;
  if ((b1 & 0x80) !== (masked ? 0x80 : 0)) return -1;
  let len = b1 & 0x7f;
  let head = masked ? 6 : 2;
  if (len === 126) {
    if (length < 4) return -1;
    len = (b[at + 2] << 8) | b[at + 3];
    head += 2;
  } else if (len === 127) {
    return -1;
  }
  return len === length - head && len <= maxPayload ? head : -1;
}

/**
 * The header length (6 or 8) of the frame the bridge unmasked at `offset`
 * of `memory` (Rec.FrameKept: its form is already checked natively,
 * native/ws_frames.cc), or -1 when its payload is over `maxPayload`.
 */
export function keptFrameHeadIn(memory: ArrayBuffer, offset: number, length: number, maxPayload: number): number {
  const head = keptFrameHead(bytesOver(memory), offset);
  return length - head <= maxPayload ? head : -1;
}

/** Whether the frame at `offset` of `memory` (one wholeFrameHeadIn took) is binary. */
export function binaryFrameIn(memory: ArrayBuffer, offset: number): boolean {
  return bytesOver(memory)[offset] === 0x82;
}

/**
 * Unmasks (when `masked`) the whole frame `data` with header length `head`
 * in place and returns its payload as a view, noted as the one to lend next
 * (see lend).
 */
export function openWholeFrame(data: Buffer, head: number, masked: boolean): Buffer {
  return openWholeFrameIn(bufferGetter.call(data), offsetGetter.call(data), data.length, head, masked);
}

/** openWholeFrame of the frame of `length` bytes at `offset` of `memory`. */
export function openWholeFrameIn(memory: ArrayBuffer, offset: number, length: number, head: number, masked: boolean): Buffer {
  const at = offset + head;
  const end = offset + length;
  if (masked) unmask(memory, at, end);
  if (lentMemory !== memory) lentMemory = memory; // a store only when it changes: no write barrier per message
  lentAt = at;
  return new SlabView(memory, at, end - at) as unknown as Buffer;
}

/**
 * XORs bytes [at, end) of `memory` with the key in the 4 bytes before
 * them: single bytes up to a 4-aligned address, then 32-bit words through
 * an Int32Array kept over the memory (a new view per message costs more
 * than the XORs of a small one), then the tail.
 */
function unmask(memory: ArrayBuffer, at: number, end: number): void {
  const b = bytesOver(memory);
  const key = b[at - 4] | (b[at - 3] << 8) | (b[at - 2] << 16) | (b[at - 1] << 24);
  if (!LITTLE_ENDIAN) return applyMask(b, at, end, b, at - 4);
  let i = at;
  for (; i < end && (i & 3) !== 0; i++) b[i] ^= key >>> (((i - at) & 3) << 3);
  const count = (end - i) >> 2;
  if (count > 0) {
    if (memory !== wordsMemory) {
      wordsMemory = memory;
      words = new Int32Array(memory, 0, memory.byteLength >> 2);
    }
    const s = ((i - at) & 3) << 3;
    const w = s === 0 ? key : (key >>> s) | (key << (32 - s));
    const first = i >> 2;
    const stop = first + count;
    const v = words;
    for (let j = first; j < stop; j++) v[j] ^= w;
    i += count << 2;
  }
  for (; i < end; i++) b[i] ^= key >>> (((i - at) & 3) << 3);
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

/** Where replyInPlace framed the reply: `length` bytes at `at` of `memory`. */
export const reply = { memory: null as ArrayBuffer | null, at: 0, length: 0 };

/**
 * Frames `payload` in place in front of it when it is the payload lent now
 * and the room before it holds the header: true, and the frame is at
 * `reply`; else false. No typed array is made for the frame (the transport
 * writes it as a range: StreamTransport.writeAt).
 */
export function replyInPlace(payload: unknown, first: number): boolean {
  const p = lent;
  if (payload !== p || p === null) return false;
  const len = p.length;
  const h = len < 126 ? 2 : 4;
  if (h > lentRoom) return false;
  const memory = lentMemory!;
  const at = lentAt - h;
  const b = bytesOver(memory);
  b[at] = first;
  if (h === 2) {
    b[at + 1] = len;
  } else {
    b[at + 1] = 126;
    b[at + 2] = len >>> 8;
    b[at + 3] = len & 0xff;
  }
  if (reply.memory !== memory) reply.memory = memory;
  reply.at = at;
  reply.length = len + h;
  return true;
}
