/**
 * The per-message fast path (lib/websocket/whole-frame.ts): which reads it
 * takes (exactly one whole unfragmented data frame) and which it leaves to
 * the frame parser; its unmasking at every alignment and length; and, on
 * every backend against a raw client, messages of every header form echoed
 * with the reply framed in place, sendMessage of the payload twice, of a
 * part of it, with the other type, after onMessage returned, invalid UTF-8
 * on the fast path, a frame over the limit, and reads that are not one
 * whole frame (two frames, a frame cut in two, fragments) mixed in. The
 * bridge's unmasking (native/ws_frames.cc, Rec.FrameKept): whole frames
 * take it; a read that only looks like a whole frame, continuing one cut
 * by the previous read, is masked again and parsed as sent; a protocol
 * that takes no such reads gets the peer's bytes unchanged.
 */
import fc from 'fast-check';
import type { Reactor } from '../lib/reactor';
import { remaskFrame } from '../lib/reactor/frame-kept';
import { SlabView } from '../lib/reactor/received';
import { WebSocketServerProtocol } from '../lib/websocket';
import { binaryFrameIn, keptFrameHeadIn, openWholeFrame, openWholeFrameIn, wholeFrameHead, wholeFrameHeadIn } from '../lib/websocket/whole-frame';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import type { StreamTransport } from '../lib/transport/stream';
import { withTimeout } from './helpers/checks';
import { connectedPair, Recorder, until } from './helpers/tcp';
import { serveEcho } from './helpers/websocket';
import { clientFrame, RawClient } from './helpers/ws-raw';

jest.setTimeout(20000);

describe('websocket whole-frame fast path: recognising and unmasking', () => {
  const ok = (b: Buffer, masked = true, max = 1 << 20): number => wholeFrameHead(b, masked, max);

  it('takes exactly one whole text or binary frame, with a 7- or 16-bit length', () => {
    expect(ok(clientFrame(2, Buffer.alloc(0)))).toBe(6);
    expect(ok(clientFrame(1, 'hi'))).toBe(6);
    expect(ok(clientFrame(2, Buffer.alloc(125)))).toBe(6);
    expect(ok(clientFrame(2, Buffer.alloc(126)))).toBe(8);
    expect(ok(clientFrame(2, Buffer.alloc(65535)))).toBe(8);
    expect(ok(clientFrame(2, 'hi', { mask: false }), false)).toBe(2);
    expect(ok(clientFrame(2, Buffer.alloc(300), { mask: false }), false)).toBe(4);
  });

  it.each([
    ['an empty read', Buffer.alloc(0)],
    ['one byte', Buffer.from([0x82])],
    ['a 16-bit length cut', clientFrame(2, Buffer.alloc(200)).subarray(0, 3)],
    ['a frame missing its last byte', clientFrame(2, 'hello').subarray(0, 10)],
    ['two frames', Buffer.concat([clientFrame(2, 'a'), clientFrame(2, 'b')])],
    ['a frame and the start of another', Buffer.concat([clientFrame(2, 'a'), Buffer.from([0x82])])],
    ['a first fragment', clientFrame(1, 'a', { fin: false })],
    ['a continuation', clientFrame(0, 'a')],
    ['a ping', clientFrame(9, 'a')],
    ['a close', clientFrame(8, Buffer.from([3, 232]))],
    ['RSV1 (compressed)', clientFrame(1, 'a', { rsv: 4 })],
    ['RSV2', clientFrame(2, 'a', { rsv: 2 })],
    ['an unknown opcode', clientFrame(3, 'a')],
    ['an unmasked frame to a server', clientFrame(2, 'a', { mask: false })],
    ['a 64-bit length', clientFrame(2, Buffer.alloc(70000))],
  ])('leaves %s to the frame parser', (_what, b) => {
    expect(ok(b)).toBe(-1);
  });

  it('leaves a masked frame to a client, and a frame over the limit, to the parser', () => {
    expect(ok(clientFrame(2, 'a'), false)).toBe(-1);
    expect(ok(clientFrame(2, Buffer.alloc(100)), true, 99)).toBe(-1);
    expect(ok(clientFrame(2, Buffer.alloc(100)), true, 100)).toBe(6);
  });

  it('unmasks in place at every alignment and length, and hands a view of the payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(7), (data, shift) => {
        const frame = clientFrame(2, Buffer.from(data));
        const memory = new ArrayBuffer(frame.length + 8);
        const view = new SlabView(memory, shift, frame.length) as unknown as Buffer;
        view.set(frame);
        const head = wholeFrameHead(view, true, 1 << 20);
        const payload = openWholeFrame(view, head, true);
        expect(Buffer.from(payload).equals(Buffer.from(data))).toBe(true);
        expect(payload.buffer).toBe(memory);
        expect(payload.byteOffset).toBe(shift + head);
      }),
      { numRuns: 900 },
    );
  });

  it('does the same for a frame given as a range of a memory (a read from a keep chunk), leaving the bytes around it alone', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(7), fc.boolean(), (data, shift, binary) => {
        const frame = clientFrame(binary ? 2 : 1, Buffer.from(data));
        const memory = new ArrayBuffer(frame.length + 16);
        const all = new Uint8Array(memory);
        all.fill(0xee);
        all.set(frame, shift);
        const head = wholeFrameHeadIn(memory, shift, frame.length, true, 1 << 20);
        expect(head).toBe(wholeFrameHead(frame, true, 1 << 20));
        expect(wholeFrameHeadIn(memory, shift, frame.length - 1, true, 1 << 20)).toBe(-1);
        expect(binaryFrameIn(memory, shift)).toBe(binary);
        const payload = openWholeFrameIn(memory, shift, frame.length, head, true);
        expect(Buffer.from(payload).equals(Buffer.from(data))).toBe(true);
        expect([payload.buffer, payload.byteOffset, payload.length]).toEqual([memory, shift + head, data.length]);
        expect(all.subarray(0, shift).every((b) => b === 0xee) && all.subarray(shift + frame.length).every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 900 },
    );
  });

  it('keptFrameHeadIn, for a read the bridge unmasked (one whole masked data frame), agrees with the full test, the limit included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(7), fc.boolean(), fc.nat(420), (data, shift, binary, max) => {
        const frame = clientFrame(binary ? 2 : 1, Buffer.from(data));
        const memory = new ArrayBuffer(frame.length + 16);
        new Uint8Array(memory).set(frame, shift);
        expect(keptFrameHeadIn(memory, shift, frame.length, max)).toBe(wholeFrameHeadIn(memory, shift, frame.length, true, max));
      }),
      { numRuns: 900 },
    );
  });

  it('remaskFrame gives back the peer\'s bytes of a frame the bridge unmasked, at every alignment and length, touching nothing around it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(7), (data, shift) => {
        const frame = clientFrame(2, Buffer.from(data));
        const memory = new ArrayBuffer(frame.length + 16);
        const all = new Uint8Array(memory);
        all.fill(0xee);
        all.set(frame, shift);
        const head = wholeFrameHeadIn(memory, shift, frame.length, true, 1 << 20);
        openWholeFrameIn(memory, shift, frame.length, head, true); // unmasked in place, as the bridge's copy leaves it
        expect(Buffer.from(all.subarray(shift + head, shift + frame.length)).equals(Buffer.from(data))).toBe(true);
        remaskFrame(memory, shift, frame.length);
        expect(Buffer.from(all.subarray(shift, shift + frame.length)).equals(frame)).toBe(true);
        expect(all.subarray(0, shift).every((b) => b === 0xee) && all.subarray(shift + frame.length).every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 900 },
    );
  });
});

/** The key clientFrame masks with (test/helpers/ws-raw.ts). */
const KEY = [0x37, 0xfa, 0x21, 0x3d];

/**
 * A 200-byte payload whose masked frame ends in 16 bytes that are, on their
 * own, a whole masked binary frame of 10 bytes (with a key of their own).
 */
function payloadEndingInAFrame(): { payload: Buffer; tail: number } {
  const look = Buffer.from([0x82, 0x80 | 10, 1, 2, 3, 4, ...Array.from({ length: 10 }, (_, i) => 0x40 + i)]);
  const payload = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 5) & 0xff));
  const from = 200 - look.length;
  for (let i = 0; i < look.length; i++) payload[from + i] = look[i] ^ KEY[(from + i) & 3];
  return { payload, tail: look.length };
}

/** Echoes as told by the message's first bytes (text), else echoes it; records what it got. */
class Scripted extends WebSocketServerProtocol {
  static later: Array<() => void> = [];
  override onMessage(payload: Buffer, isBinary: boolean): void {
    const text = isBinary ? '' : payload.toString('latin1', 0, Math.min(6, payload.length));
    const is = (word: string): boolean => text.startsWith(word);
    if (is('twice:')) {
      this.sendMessage(payload, isBinary);
      this.sendMessage(payload, isBinary);
    } else if (is('part:')) {
      this.sendMessage(payload.subarray(2), isBinary);
    } else if (is('flip:')) {
      this.sendMessage(payload, !isBinary);
    } else if (is('later')) {
      Scripted.later.push(() => this.sendMessage(payload, isBinary));
    } else if (is('keep:')) {
      const kept = payload;
      this.sendMessage(kept, isBinary);
      kept[0] = 0x4b; // 'K': the handler owns its payload; the frame already went
      this.sendMessage(kept, isBinary);
    } else {
      this.sendMessage(payload, isBinary);
    }
  }
}

forEachBackend('websocket whole-frame fast path: echo', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
    Scripted.later = [];
  });

  function open(maxFrame?: number): RawClient {
    const { port, factory } = serveEcho(r, maxFrame === undefined ? {} : { maxFramePayloadSize: maxFrame });
    factory.protocol = Scripted as never;
    const c = new RawClient(port);
    clients.push(c);
    return c;
  }

  /** Sends `frame` alone and waits for `replies` more frames. */
  async function exchange(c: RawClient, frame: Buffer, replies = 1): Promise<Buffer[]> {
    const before = c.frames.length;
    c.send(frame);
    await until(() => c.frames.length >= before + replies || c.ended, 5000, 'the echo');
    return c.frames.slice(before).map((f) => Buffer.concat([Buffer.from([f.opcode]), f.payload]));
  }

  it('echoes binary and text messages of every header form, one per read', async () => {
    const c = open();
    for (const n of [0, 1, 2, 3, 4, 5, 7, 63, 64, 65, 125, 126, 127, 1000, 4093, 4099, 65535, 65536, 70000]) {
      const body = Buffer.from(Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff));
      const [got] = await exchange(c, clientFrame(2, body));
      expect(got[0]).toBe(2);
      expect(got.subarray(1).equals(body)).toBe(true);
      const text = Buffer.from('é'.repeat(n >> 1) + 'x'.repeat(n & 1));
      const [t] = await exchange(c, clientFrame(1, text));
      expect(t[0]).toBe(1);
      expect(t.subarray(1).equals(text)).toBe(true);
    }
  });

  it('sendMessage of the payload twice, of a part, with the other type, after a change, and after onMessage returned', async () => {
    const c = open();
    expect(await exchange(c, clientFrame(1, 'twice: hello'), 2)).toEqual([Buffer.from('\x01twice: hello'), Buffer.from('\x01twice: hello')]);
    expect(await exchange(c, clientFrame(1, 'part: hello'))).toEqual([Buffer.from('\x01rt: hello')]);
    expect(await exchange(c, clientFrame(1, 'flip: hello'))).toEqual([Buffer.from('\x02flip: hello')]);
    expect(await exchange(c, clientFrame(1, 'keep: hello'), 2)).toEqual([Buffer.from('\x01keep: hello'), Buffer.from('\x01Keep: hello')]);
    const big = Buffer.concat([Buffer.from('twice:'), Buffer.alloc(300, 0x61)]);
    expect(await exchange(c, clientFrame(1, big), 2)).toEqual([Buffer.concat([Buffer.from([1]), big]), Buffer.concat([Buffer.from([1]), big])]);
    c.send(clientFrame(1, 'later, then another message'));
    await until(() => Scripted.later.length === 1, 5000, 'the message kept');
    expect(await exchange(c, clientFrame(2, Buffer.from([9, 9, 9])))).toEqual([Buffer.from([2, 9, 9, 9])]);
    Scripted.later[0]();
    await until(() => c.frames.length === 10, 5000, 'the late echo');
    expect(c.frames[9].payload.toString()).toBe('later, then another message');
  });

  it('a whole frame read into a keep chunk makes no Buffer of the read: dataReceived runs only for reads that are not one whole frame', async () => {
    const c = open();
    await exchange(c, clientFrame(2, Buffer.from([9]))); // the first read after the upgrade may come while the transport still holds reads
    const seen = jest.spyOn(Scripted.prototype, 'dataReceived');
    try {
      for (let i = 0; i < 5; i++) expect(await exchange(c, clientFrame(2, Buffer.from([i])))).toEqual([Buffer.from([2, i])]);
      expect(seen).not.toHaveBeenCalled();
      expect(await exchange(c, Buffer.concat([clientFrame(2, Buffer.from([1])), clientFrame(2, Buffer.from([2]))]), 2)).toEqual([Buffer.from([2, 1]), Buffer.from([2, 2])]);
      expect(seen).toHaveBeenCalledTimes(1);
    } finally {
      seen.mockRestore();
    }
  });

  it('reads that are not one whole frame go through the parser, between fast ones', async () => {
    const c = open();
    expect(await exchange(c, Buffer.concat([clientFrame(2, Buffer.from([1])), clientFrame(2, Buffer.from([2]))]), 2)).toEqual([Buffer.from([2, 1]), Buffer.from([2, 2])]);
    const frame = clientFrame(1, 'split across two reads');
    await exchange(c, Buffer.concat([clientFrame(9, 'p'), frame.subarray(0, 5)])); // the pong: the server has read the cut frame's start
    expect(await exchange(c, frame.subarray(5))).toEqual([Buffer.from('\x01split across two reads')]);
    expect(await exchange(c, Buffer.concat([clientFrame(1, 'frag', { fin: false }), clientFrame(0, 'mented')]))).toEqual([Buffer.from('\x01fragmented')]);
    expect(await exchange(c, clientFrame(2, Buffer.from([7])))).toEqual([Buffer.from([2, 7])]);
  });

  it('a first fragment read alone, then a whole data frame: 1002, not a fast-path message', async () => {
    const c = open();
    await exchange(c, clientFrame(2, Buffer.from([1])));
    await exchange(c, Buffer.concat([clientFrame(1, 'frag', { fin: false }), clientFrame(9, 'p')])); // the pong: the fragment was read
    c.send(clientFrame(1, 'whole'));
    await until(() => c.ended, 5000, 'the close');
    expect(c.closeCode()).toBe(1002);
    expect(c.frames.filter((f) => f.opcode !== 8 && f.opcode !== 10)).toHaveLength(1);
  });

  it('invalid UTF-8 in a whole text frame closes with 1007; the message is not delivered', async () => {
    const c = open();
    await exchange(c, clientFrame(1, 'fine'));
    c.send(clientFrame(1, Buffer.from([0x61, 0xc3, 0x28])));
    await until(() => c.ended, 5000, 'the close');
    expect(c.closeCode()).toBe(1007);
    expect(c.frames.filter((f) => f.opcode !== 8)).toHaveLength(1);
  });

  it('whole frames come unmasked from the bridge (Rec.FrameKept) and are echoed exactly, text and binary, 7- and 16-bit lengths', async () => {
    const c = open();
    await exchange(c, clientFrame(2, Buffer.from([0]))); // the first read may come before the upgrade asked for it
    const kept = jest.spyOn(Scripted.prototype, 'frameReceivedKept');
    try {
      for (const n of [0, 1, 7, 8, 15, 16, 17, 64, 125, 126, 1000, 4000]) {
        const body = Buffer.from(Uint8Array.from({ length: n }, (_, i) => (i * 11 + n) & 0xff));
        expect((await exchange(c, clientFrame(2, body)))[0].equals(Buffer.concat([Buffer.from([2]), body]))).toBe(true);
        const text = Buffer.from('ü'.repeat(n >> 1) + 'x'.repeat(n & 1));
        expect((await exchange(c, clientFrame(1, text)))[0].equals(Buffer.concat([Buffer.from([1]), text]))).toBe(true);
      }
      expect(kept).toHaveBeenCalledTimes(24);
    } finally {
      kept.mockRestore();
    }
  });

  it('a read that continues a cut frame but looks like one whole frame is masked again and parsed as the peer sent it', async () => {
    const c = open();
    await exchange(c, clientFrame(2, Buffer.from([0])));
    const { payload, tail } = payloadEndingInAFrame();
    const frame = clientFrame(2, payload);
    await exchange(c, Buffer.concat([clientFrame(9, 'p'), frame.subarray(0, frame.length - tail)])); // the pong: the cut frame's start was read
    const kept = jest.spyOn(Scripted.prototype, 'frameReceivedKept');
    try {
      const [echo] = await exchange(c, frame.subarray(frame.length - tail));
      expect(kept).toHaveBeenCalledTimes(1); // the bridge did unmask it
      expect(echo.equals(Buffer.concat([Buffer.from([2]), payload]))).toBe(true);
    } finally {
      kept.mockRestore();
    }
    expect(await exchange(c, clientFrame(2, Buffer.from([7])))).toEqual([Buffer.from([2, 7])]);
  });

  it('a protocol that takes no unmasked reads gets the peer bytes unchanged from a transport that asked for them', async () => {
    const { server, client } = await connectedPair(r, Recorder);
    (server.transport as unknown as StreamTransport).unmaskFrames(true);
    // 7- and 16-bit lengths: the masking again runs byte by byte, then by words from 128 bytes on.
    const frames = [clientFrame(2, Buffer.from('looks like a frame')), clientFrame(2, Buffer.alloc(301, 0x5a))];
    let expected = 0;
    for (const frame of frames) {
      client.transport!.write(frame);
      expected += frame.length;
      await withTimeout(server.waitForBytes(expected), 5000, 'the bytes');
    }
    expect(server.bytes.equals(Buffer.concat(frames))).toBe(true);
    client.transport!.loseConnection();
    await withTimeout(server.lost, 5000, 'the close');
  });

  it('a whole frame over maxFramePayloadSize closes with 1009', async () => {
    const c = open(100);
    await exchange(c, clientFrame(2, Buffer.alloc(100)));
    c.send(clientFrame(2, Buffer.alloc(101)));
    await until(() => c.ended, 5000, 'the close');
    expect(c.closeCode()).toBe(1009);
  });
});
