/**
 * One frame whose payload comes a few bytes a read, without sockets: the
 * parser keeps the small pieces merged as they come (each kept alone is a
 * Buffer view of ~100 bytes that pins the read it came in: a 16 MiB frame
 * trickled a byte a read took about a gigabyte), leaves large reads as the
 * views they are, and hands on the payload whole, in order and unmasked.
 */
import { MERGE_PIECES } from '../lib/transport/pieces';
import { FrameParser, FrameSink } from '../lib/websocket/frame-parser';
import { clientFrame } from './helpers/ws-raw';

/** The frames a parser delivered, and the errors it reported. */
interface Delivered {
  frames: { fin: boolean; opcode: number; payload: Buffer }[];
  errors: number[];
}

/** A server-side parser (masked frames) delivering into a record. */
function serverParser(): { parser: FrameParser; got: Delivered } {
  const got: Delivered = { frames: [], errors: [] };
  const sink: FrameSink = {
    frameReceived: (fin, _rsv1, opcode, payload) => got.frames.push({ fin, opcode, payload: Buffer.from(payload) }),
    frameError: (code) => got.errors.push(code),
  };
  return { parser: new FrameParser(sink, { expectMasked: true, maxFramePayload: 1 << 24, allowRsv1: false }), got };
}

/** The pieces the parser holds for the frame still arriving. */
function piecesOf(parser: FrameParser): Buffer[] {
  return (parser as unknown as { partial: { pieces: Buffer[] } }).partial.pieces;
}

/** A payload whose every byte depends on its place. */
const payloadOf = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, k) => (k * 7 + 3) % 251));

describe('websocket: a frame trickled in tiny reads', () => {
  it('100,000 one-byte reads of one frame are held in a few hundred pieces and arrive byte-exact', () => {
    const N = 100000;
    const payload = payloadOf(N);
    const wire = clientFrame(2, payload);
    const { parser, got } = serverParser();
    const headEnd = wire.length - N;
    parser.feed(Buffer.from(wire.subarray(0, headEnd)));
    for (let i = headEnd; i < wire.length - 1; i++) parser.feed(Buffer.from(wire.subarray(i, i + 1)));
    const kept = piecesOf(parser);
    expect(kept.length).toBeLessThan(1000);
    expect(kept.reduce((sum, p) => sum + p.length, 0)).toBe(N - 1);
    expect(got.frames).toEqual([]);
    parser.feed(Buffer.from(wire.subarray(wire.length - 1)));
    expect(got.errors).toEqual([]);
    expect(got.frames).toHaveLength(1);
    expect(got.frames[0].fin).toBe(true);
    expect(got.frames[0].opcode).toBe(2);
    expect(got.frames[0].payload.equals(payload)).toBe(true);
    expect(parser.idle).toBe(true);
  });

  it('keeps large reads as the views they are and merges the tiny runs between them', () => {
    const N = 300000;
    const payload = payloadOf(N);
    const ping = clientFrame(9, 'after');
    const wire = Buffer.concat([clientFrame(2, payload), ping]);
    const { parser, got } = serverParser();
    const headEnd = wire.length - ping.length - N;
    parser.feed(Buffer.from(wire.subarray(0, headEnd)));
    const sizes = [4096, ...Array<number>(700).fill(1), 8192, ...Array<number>(300).fill(3), 20000];
    const large: Buffer[] = [];
    let reads = 0;
    let at = headEnd;
    for (let k = 0; at < headEnd + N / 2; k = (k + 1) % sizes.length, reads++) {
      const read = Buffer.from(wire.subarray(at, at + sizes[k]));
      if (read.length >= 4096) large.push(read);
      parser.feed(read);
      at += read.length;
    }
    const kept = piecesOf(parser);
    expect(reads).toBeGreaterThan(4000);
    // Each window of MERGE_PIECES reads leaves its large ones and a piece for each tiny run around them; the last window waits.
    expect(kept.length).toBeLessThan(3 * large.length + 2 * Math.ceil(reads / MERGE_PIECES) + MERGE_PIECES);
    for (const read of large) expect(kept).toContain(read);
    parser.feed(Buffer.from(wire.subarray(at)));
    expect(got.errors).toEqual([]);
    expect(got.frames.map((f) => f.opcode)).toEqual([2, 9]);
    expect(got.frames[0].payload.equals(payload)).toBe(true);
    expect(got.frames[1].payload.toString()).toBe('after');
  });
});
