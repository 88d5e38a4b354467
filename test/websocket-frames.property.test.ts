/**
 * Properties of the frame layer, without sockets: any stream of valid frames
 * split anywhere parses to the same frames and messages; the word-at-a-time
 * unmasking equals the byte loop at every alignment; the incremental UTF-8
 * check agrees with a whole-message check however the text is cut; and
 * garbage fed to a server connection never throws out of it: it either
 * fails the connection with a close code or waits for more.
 */
import fc from 'fast-check';
import { isUtf8 } from 'buffer';
import { Clock } from '../lib/task';
import { WebSocketServerFactory, WebSocketServerProtocol } from '../lib/websocket';
import { FrameParser } from '../lib/websocket/frame-parser';
import { applyMask } from '../lib/reactor/mask';
import { Utf8Validator } from '../lib/websocket/utf8';
import { clientFrame } from './helpers/ws-raw';

const RUNS = 300;

/** Cuts `b` at the given fractions. */
function cut(b: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((f) => Math.floor(f * b.length)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(b.subarray(prev, p));
    prev = p;
  }
  out.push(b.subarray(prev));
  return out.map((x) => Buffer.from(x)); // copies: the parser unmasks in place
}

const frameArb = fc.record({
  opcode: fc.constantFrom(1, 2, 9, 10),
  payload: fc.oneof({ arbitrary: fc.uint8Array({ maxLength: 130 }), weight: 20 }, { arbitrary: fc.uint8Array({ minLength: 65530, maxLength: 66000 }), weight: 1 }),
});

/** A connection with a fake transport, recording what it sends and whether it closed. */
function connection(): { p: WebSocketServerProtocol; out: Buffer[]; closed: () => boolean; messages: Buffer[] } {
  const factory = new WebSocketServerFactory(null, { reactor: new Clock(), maxMessagePayloadSize: 4096 });
  const messages: Buffer[] = [];
  class P extends WebSocketServerProtocol {
    override onMessage(payload: Buffer): void {
      messages.push(payload);
    }
  }
  factory.protocol = P as never;
  const p = factory.buildProtocol({} as never) as unknown as WebSocketServerProtocol;
  const out: Buffer[] = [];
  let closed = false;
  const transport = {
    write: (b: Buffer) => out.push(b),
    writeSequence: (bs: Buffer[]) => out.push(Buffer.concat(bs)),
    loseConnection: () => (closed = true),
    abortConnection: () => (closed = true),
    getPeer: () => ({}),
    getHost: () => ({}),
  };
  p.acceptUpgrade();
  p.makeConnection(transport as never);
  return { p, out, closed: () => closed, messages };
}

describe('websocket frames: properties', () => {
  it('a stream of valid frames split anywhere gives the same frames', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), (frames, at) => {
        const wire = Buffer.concat(frames.map((f) => clientFrame(f.opcode, Buffer.from(f.payload.subarray(0, f.opcode >= 8 ? 125 : undefined)))));
        const got: Array<[number, string]> = [];
        const errors: number[] = [];
        const parser = new FrameParser(
          { frameReceived: (_fin, _rsv1, op, payload) => got.push([op, payload.toString('hex')]), frameError: (code) => errors.push(code) },
          { expectMasked: true, maxFramePayload: 1 << 20, allowRsv1: false },
        );
        for (const piece of cut(wire, at)) parser.feed(piece);
        expect(errors).toEqual([]);
        expect(got).toEqual(frames.map((f) => [f.opcode, Buffer.from(f.payload.subarray(0, f.opcode >= 8 ? 125 : undefined)).toString('hex')]));
      }),
      { numRuns: RUNS },
    );
  });

  it('word-at-a-time unmasking equals the byte loop at every offset and length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), fc.uint8Array({ minLength: 4, maxLength: 4 }), (data, shift, key) => {
        const backing = Buffer.alloc(data.length + 8);
        const view = backing.subarray(shift, shift + data.length);
        view.set(data);
        applyMask(view, 0, view.length, key, 0);
        const want = Buffer.from(data.map((b, i) => b ^ key[i & 3]));
        expect(view.equals(want)).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('the incremental UTF-8 check agrees with a whole check, however the text is cut', () => {
    const bytes = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (b, at) => {
        const v = new Utf8Validator();
        const parts = cut(b, at);
        let ok = true;
        parts.forEach((p, i) => (ok = ok && v.feed(p, i === parts.length - 1)));
        expect(ok).toBe(isUtf8(b));
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('garbage never throws out of a connection: it closes with a valid code or waits', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const c = connection();
        for (const ch of chunks) c.p.dataReceived(Buffer.from(ch));
        if (c.closed()) {
          const close = c.out.find((b) => (b[0] & 0x0f) === 8);
          if (close !== undefined && close.length >= 4) expect([1000, 1002, 1007, 1009]).toContain(close.readUInt16BE(2));
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('valid messages fragmented at random and interleaved with pings arrive whole', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }), { minLength: 1, maxLength: 5 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (texts, at) => {
        const frames: Buffer[] = [];
        for (const t of texts) {
          const parts = cut(Buffer.from(t), at);
          parts.forEach((p, i) => {
            frames.push(clientFrame(i === 0 ? 1 : 0, p, { fin: i === parts.length - 1 }));
            if (i === 0) frames.push(clientFrame(9, 'ping'));
          });
        }
        const c = connection();
        for (const piece of cut(Buffer.concat(frames), at)) c.p.dataReceived(piece);
        expect(c.closed()).toBe(false);
        expect(c.messages.map((m) => m.toString())).toEqual(texts);
      }),
      { numRuns: RUNS },
    );
  });
});
