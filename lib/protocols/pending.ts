/**
 * The partial tail a parser keeps between chunks. Only the bytes kept are
 * copied; once handed out (detach) the memory is never written again.
 * Memory follows the bytes that arrived, never a length the peer announced:
 * a frame's length only caps the growth, so a prefix alone costs nothing.
 */
import type { ITransport } from '../interfaces';
import type { BaseProtocol } from '../protocol';

/** A shared empty Buffer (zero bytes cannot alias anything). */
export const EMPTY: Buffer = Buffer.alloc(0);

/** An owned, growable byte buffer for a parser's partial frame. */
export class PendingBuffer {
  private store: Buffer | null = null;
  /** Where growth stops (the frame's announced size), 0 for none. */
  private ceiling = 0;
  /** How many bytes are held. */
  length = 0;

  /** Copies src[start, end) onto the end, growing (doubling) the store if needed. */
  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= 0) return;
    const need = this.length + n;
    if (this.store === null || this.store.length < need) this.grow(need);
    (this.store as Buffer).set(src.subarray(start, end), this.length);
    this.length = need;
  }

  /**
   * The held frame will be `total` bytes: growth (still by doubling, as bytes
   * arrive) stops there, so the finished frame is exact-size. Allocates nothing.
   */
  expect(total: number): void {
    this.ceiling = total;
  }

  /** The byte at index i (0 <= i < length). */
  at(i: number): number {
    return (this.store as Buffer)[i];
  }

  /** Returns the held bytes and forgets them; the memory now belongs to the caller. */
  detach(): Buffer {
    const out = this.store === null ? EMPTY : this.store.subarray(0, this.length);
    this.store = null;
    this.length = 0;
    this.ceiling = 0;
    return out;
  }

  /** The held bytes as a view for reading only: never hand it out, the store is reused. */
  peek(): Buffer {
    return this.store === null ? EMPTY : this.store.subarray(0, this.length);
  }

  /** Keeps only the first n bytes. */
  truncate(n: number): void {
    if (n < this.length) this.length = n;
  }

  /** Drops the held bytes, keeping the store for reuse (nothing was handed out). */
  clear(): void {
    this.length = 0;
    this.ceiling = 0;
  }

  private grow(need: number): void {
    let cap = this.store === null ? 256 : this.store.length * 2;
    while (cap < need) cap *= 2;
    if (need <= this.ceiling && this.ceiling < cap) cap = this.ceiling;
    this.resize(cap);
  }

  private resize(cap: number): void {
    const next = Buffer.allocUnsafe(cap);
    if (this.store !== null && this.length > 0) this.store.copy(next, 0, 0, this.length);
    this.store = next;
  }
}

/**
 * True when the protocol has a transport and it is disconnecting (Twisted's
 * `self.transport and self.transport.disconnecting`): parsing stops there.
 */
export function isDisconnecting(protocol: BaseProtocol<ITransport>): boolean {
  const t = protocol.transportOrNull() as { disconnecting?: unknown } | null;
  return t !== null && t.disconnecting === true;
}
