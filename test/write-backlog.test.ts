/** WriteBacklog: chunks of at most WRITE_CHUNK, in order; small writes copied, large ones kept by reference. */
import { WRITE_CHUNK, WriteBacklog } from '../lib/transport/write-backlog';

/** A native stand-in that takes everything and reports `pending` buffered after each call. */
function sink(pending: () => number): { calls: Uint8Array[][]; write: (chunks: Uint8Array[]) => number } {
  const calls: Uint8Array[][] = [];
  return { calls, write: (chunks) => (calls.push(chunks.map((c) => Uint8Array.from(c))), pending()) };
}

describe('WriteBacklog', () => {
  test('hands out at most WRITE_CHUNK bytes per call and stops when native buffers', () => {
    const b = new WriteBacklog();
    const big = new Uint8Array(2 * WRITE_CHUNK + 10).map((_, i) => i & 0xff);
    b.push(big);
    b.push(Uint8Array.of(1, 2, 3));
    expect(b.bytes).toBe(big.length + 3);
    const busy = sink(() => 7);
    expect(b.feed(busy.write)).toBe(7);
    expect(busy.calls).toHaveLength(1);
    expect(busy.calls[0][0].length).toBe(WRITE_CHUNK);
    const idle = sink(() => 0);
    expect(b.feed(idle.write)).toBe(0);
    expect(b.bytes).toBe(0);
    const sizes = idle.calls.map((c) => c.reduce((n, x) => n + x.length, 0));
    expect(sizes).toEqual([WRITE_CHUNK, 13]);
    const all = Buffer.concat([...busy.calls, ...idle.calls].flat());
    expect(all.equals(Buffer.concat([big, Uint8Array.of(1, 2, 3)]))).toBe(true);
  });

  test('a small write is copied, a large one is kept by reference; errors stop the feed', () => {
    const b = new WriteBacklog();
    const small = Uint8Array.of(9, 9);
    const large = new Uint8Array(WRITE_CHUNK + 1);
    b.push(small);
    b.push(large);
    small[0] = 0;
    large[0] = 5;
    const got = sink(() => 0);
    b.feed(got.write);
    expect(Array.from(got.calls[0][0])).toEqual([9, 9]);
    expect(got.calls[0][1][0]).toBe(5);
    b.push(Uint8Array.of(1));
    expect(b.feed(() => -32)).toBe(-32);
  });

  test('a small Buffer (whose slice() is a view, not a copy) is copied too', () => {
    const b = new WriteBacklog();
    const scratch = Buffer.from([7, 7, 7]);
    const view = Buffer.from([1, 2, 3, 4]).subarray(1, 3);
    b.push(scratch);
    b.push(view);
    scratch.fill(0);
    view.fill(0);
    const got = sink(() => 0);
    b.feed(got.write);
    expect(got.calls[0].map((c) => Array.from(c))).toEqual([[7, 7, 7], [2, 3]]);
  });

  test('many small writes go out in batches of at most 1024 buffers', () => {
    const b = new WriteBacklog();
    for (let i = 0; i < 5000; i++) b.push(Uint8Array.of(i & 0xff));
    let calls = 0;
    b.feed((chunks) => {
      calls++;
      expect(chunks.length).toBeLessThanOrEqual(1024);
      return 0;
    });
    expect(calls).toBe(5);
    expect(b.bytes).toBe(0);
  });
});
