/**
 * How received bytes become the Buffers handed to protocols, and what a kept
 * one holds alive. The native loop reads into 256 KiB slabs; a view of a slab
 * keeps the whole slab alive, so a protocol that keeps one short value per
 * connection would let a peer pin a slab per value by sending junk around it.
 *
 * The rule: a read of 32 KiB or more is handed out as a view of its slab (the
 * slab is at most 8x the read, and copying costs most there); a shorter read
 * is copied into a chunk shared only with reads of its own size class, at
 * most 4x the class's largest read and at least 16 KiB. So a kept Buffer of
 * n bytes holds at most max(16 KiB, 8n) bytes alive, whatever the peer sends
 * around it. Stream reads up to 4 KiB, the hot path, are copied by the native
 * bridge into its own 16 KiB chunks as it hands the records over (a memcpy,
 * no JS object: native/bridge_dispatch.cc) and arrive as Rec.DataKept; this
 * class copies the rest: longer stream reads, and any the bridge could not
 * (no memory for a chunk).
 *
 * Why chunks and not an exact-size copy per read (what Node's net does): an
 * ArrayBuffer costs about 1 us to allocate and collect, whatever its size,
 * against ~70 ns for the copy. Echo with 16 pipelined 64 B messages reads
 * ~1 KiB at a time at ~0.4 us of server CPU per message, so an ArrayBuffer
 * per read would cost ~15%; one per 16 reads costs ~1%. A copy here (a
 * second typed array and a set) costs ~650 instructions, in the bridge ~50
 * (bench/PERFORMANCE.md). The 16 KiB floor is that trade: the price of a kept
 * short value is a chunk, not a slab.
 * The attack: bench/attacks/slab-retention.js; the cost: bench/RESULTS.md.
 */

/**
 * The Buffer each received chunk becomes: a Uint8Array subclass whose prototype
 * chain runs through Buffer.prototype, so it is a Buffer in every way that
 * shows (instanceof, Buffer.isBuffer, methods, constructor, inspect). Node's
 * Buffer.prototype.subarray costs twice as much per call: it reads `buffer`
 * and `byteOffset` through getters (megamorphic ICs in Node's own code) on
 * every call, where the dispatch loop reads them once per batch.
 */
export class SlabView extends Uint8Array {
  /**
   * An explicit three-argument constructor: the implicit one forwards
   * `...args`, which TurboFan does not inline (~330 instructions a view
   * against ~290 this way, and ~810 for `Buffer.prototype.subarray`, which
   * looks up the species constructor and goes through Buffer.from).
   */
  constructor(memory: ArrayBuffer, offset: number, length: number) {
    super(memory, offset, length);
  }
}
Object.setPrototypeOf(SlabView.prototype, Buffer.prototype);
Object.defineProperty(SlabView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

/**
 * %TypedArray%.prototype's `buffer` and `byteOffset` getters, called with
 * `call`: optimized code reads `data.buffer` on a Buffer through the generic
 * LoadIC builtin (~70-90 instructions, and `buffer` a C++ builtin behind
 * it), where a call of a known getter is reduced to the field's load
 * (bench/PERFORMANCE.md, "A string written as it is, and the line ends
 * found in the text": 11 instructions a line of the kv server).
 */
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const bufferGetter = Object.getOwnPropertyDescriptor(typedArrayProto, 'buffer')!.get as (this: Uint8Array) => ArrayBuffer;
const byteOffsetGetter = Object.getOwnPropertyDescriptor(typedArrayProto, 'byteOffset')!.get as (this: Uint8Array) => number;

/** data.buffer, through the known getter. */
export function memoryOf(data: Uint8Array): ArrayBuffer {
  return bufferGetter.call(data);
}

/** data.byteOffset, the same way. */
export function offsetOf(data: Uint8Array): number {
  return byteOffsetGetter.call(data);
}

/**
 * data[start, end) as a Buffer sharing data's memory: what
 * `data.subarray(start, end)` returns, at about a third of its cost (a
 * protocol's per-message view: a line, a netstring). `memory` and `base` are
 * memoryOf(data) and offsetOf(data), read once per chunk by the caller.
 */
export function viewOf(memory: ArrayBuffer, base: number, start: number, end: number): Buffer {
  return new SlabView(memory, base + start, end - start) as unknown as Buffer;
}

/** Reads shorter than this are copied out of the slab; longer ones are views of it. */
export const COPY_BELOW = 32 * 1024;
/** The chunk for reads up to 4 KiB; each size class above doubles it. */
const SMALL_CHUNK = 16 * 1024;
/** Classes: up to 4 KiB, then (4, 8], (8, 16], (16, 32) KiB. */
const CLASSES = 4;

/** Copies short reads into per-size-class chunks; see the file comment for the bound. */
export class ReceivedCopier {
  /** Each class's current chunk, and a plain Uint8Array over it (`set` on it stays monomorphic). */
  private readonly chunks: (ArrayBuffer | null)[] = new Array<ArrayBuffer | null>(CLASSES).fill(null);
  private readonly bytes: Uint8Array[] = new Array<Uint8Array>(CLASSES);
  private readonly used: number[] = new Array<number>(CLASSES).fill(0);

  /** `length` bytes at `offset` of `memory`, as a Buffer that keeps at most max(16 KiB, 8 * length) alive. */
  take(memory: ArrayBuffer, offset: number, length: number): Buffer {
    if (length >= COPY_BELOW) return new SlabView(memory, offset, length) as unknown as Buffer;
    return this.copy(memory, offset, length);
  }

  /** A copy of `length` (< COPY_BELOW) bytes at `offset` of `memory`, in its class's chunk. */
  private copy(memory: ArrayBuffer, offset: number, length: number): Buffer {
    // Class 0 holds reads up to 4 KiB; class c > 0 reads in (2048 << c, 4096 << c].
    const c = length <= 4096 ? 0 : 20 - Math.clz32(length - 1);
    let chunk = this.chunks[c];
    let at = this.used[c];
    if (chunk === null || at + length > chunk.byteLength) {
      // Uninitialised: every byte handed out is written first.
      chunk = Buffer.allocUnsafeSlow(SMALL_CHUNK << c).buffer as ArrayBuffer;
      this.chunks[c] = chunk;
      this.bytes[c] = new Uint8Array(chunk);
      at = 0;
    }
    this.used[c] = at + length;
    this.bytes[c].set(new Uint8Array(memory, offset, length), at);
    return new SlabView(chunk, at, length) as unknown as Buffer;
  }
}
