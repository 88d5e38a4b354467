/**
 * mergeSmallPieces (lib/transport/pieces.ts): a message kept as the pieces
 * it came in has each run of small pieces merged, large ones left alone,
 * bytes and order kept, and a window looked at once.
 */
import { MERGE_PIECES, mergeSmallPieces } from '../lib/transport/pieces';

const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 256));

describe('mergeSmallPieces', () => {
  it('merges a window of tiny pieces into one', () => {
    const pieces = Array.from({ length: MERGE_PIECES }, (_, i) => bytes(1, i));
    const whole = Buffer.concat(pieces);
    expect(mergeSmallPieces(pieces, 0)).toBe(1);
    expect(pieces[0].equals(whole)).toBe(true);
  });

  it('merges the tiny pieces beside a large one, which stays the same Buffer', () => {
    const large = bytes(256 * 1024, 1);
    const pieces = [large, ...Array.from({ length: MERGE_PIECES - 1 }, (_, i) => bytes(1, i))];
    const whole = Buffer.concat(pieces);
    expect(mergeSmallPieces(pieces, 0)).toBe(2);
    expect(pieces[0]).toBe(large);
    expect(Buffer.concat(pieces).equals(whole)).toBe(true);
  });

  it('keeps order around several large pieces and leaves a lone small piece as it is', () => {
    const lone = bytes(10, 3);
    const pieces = [bytes(5, 1), bytes(6, 2), bytes(2048, 4), lone, bytes(4096, 5), bytes(7, 6), bytes(8, 7), bytes(9, 8)];
    const whole = Buffer.concat(pieces);
    expect(mergeSmallPieces(pieces, 0)).toBe(5);
    expect(pieces.map((p) => p.length)).toEqual([11, 2048, 10, 4096, 24]);
    expect(pieces[2]).toBe(lone);
    expect(Buffer.concat(pieces).equals(whole)).toBe(true);
  });

  it('does not look before `from`: pieces already looked at are not copied again', () => {
    const before = [bytes(3, 1), bytes(4, 2)];
    const pieces = [...before, ...Array.from({ length: MERGE_PIECES }, (_, i) => bytes(2, i))];
    expect(mergeSmallPieces(pieces, 2)).toBe(3);
    expect(pieces[0]).toBe(before[0]);
    expect(pieces[1]).toBe(before[1]);
    expect(pieces[2].length).toBe(2 * MERGE_PIECES);
  });
});
