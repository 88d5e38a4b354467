/**
 * What a stream transport was asked to write beyond what one call hands to
 * native. The native write path sends at once and copies only what the
 * kernel refused; without a bound, one 2 GiB write() was a 2 GiB copy made
 * synchronously. Here the bytes wait by reference (the caller's own Buffer,
 * as Node's streams keep it) and go to native at most WRITE_CHUNK at a time:
 * the next chunk when native reports its buffer drained. So one call copies
 * at most WRITE_CHUNK bytes however much it is given.
 */

/** The most bytes one write() or one drained event hands to native. */
export const WRITE_CHUNK = 1024 * 1024;

/** Most buffers handed to one writev (the kernel's IOV_MAX on Linux and macOS). */
const MAX_BATCH = 1024;

const NOTHING = new Uint8Array(0);

/** A FIFO of byte arrays fed to native in chunks of at most WRITE_CHUNK bytes. */
export class WriteBacklog {
  /** Bytes waiting. */
  bytes = 0;
  private readonly queue: Uint8Array[] = [];
  private head = 0;

  /**
   * Appends `data`: by reference when larger than a chunk (the caller must not
   * change it until it is sent), else copied, as a native write would have.
   * The copy is a plain Uint8Array: a Buffer's (or SlabView's) slice() is a
   * view of the same memory, which the caller may reuse as soon as we return.
   */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.queue.push(data.length > WRITE_CHUNK ? data : new Uint8Array(data));
    this.bytes += data.length;
  }

  /**
   * Hands up to WRITE_CHUNK bytes at a time to `write` (native write/writev:
   * bytes it buffered, or -errno) until it buffers something, fails or the
   * backlog is empty. Returns its last result: 0 means everything went out.
   */
  feed(write: (chunks: Uint8Array[]) => number): number {
    while (this.head < this.queue.length) {
      const r = write(this.take());
      if (r !== 0) return r;
    }
    return 0;
  }

  /** Drops everything (the connection closed). */
  clear(): void {
    this.queue.length = 0;
    this.head = 0;
    this.bytes = 0;
  }

  /** The next chunk: whole entries and the front of one, WRITE_CHUNK bytes at most. */
  private take(): Uint8Array[] {
    const batch: Uint8Array[] = [];
    let size = 0;
    while (this.head < this.queue.length && size < WRITE_CHUNK && batch.length < MAX_BATCH) {
      const data = this.queue[this.head];
      const n = Math.min(data.length, WRITE_CHUNK - size);
      batch.push(n === data.length ? data : data.subarray(0, n));
      size += n;
      if (n < data.length) {
        this.queue[this.head] = data.subarray(n);
      } else {
        this.queue[this.head++] = NOTHING;
      }
    }
    this.bytes -= size;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > MAX_BATCH && this.head * 2 > this.queue.length) {
      // Sent entries are dropped once they are most of the array: O(1) amortised.
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return batch;
  }
}
