/**
 * The frame parser (RFC 6455 5.2), fed the received Buffers as they come.
 *
 * A header is decoded with a few indexed reads and readUInt16BE/32BE, never
 * a loop over bytes. A frame whole in one read is handed on as a view of
 * that read, unmasked in place (no copy); a frame spread over reads keeps
 * its pieces (views) and joins them once, when its last byte arrives, so a
 * peer announcing a huge frame holds only what it really sent. Kept alone,
 * each view costs ~100 bytes and pins the read it came in, so a peer
 * trickling such a frame a byte a read would make the server keep tens of
 * bytes per byte sent: small pieces are merged as they come, as a
 * fragmented message's are (lib/transport/pieces.ts). Only a header cut by
 * a read boundary is copied (at most 13 bytes).
 *
 * What is checked here: reserved bits, opcodes, the mask bit required of one
 * side and forbidden to the other, control frames (at most 125 bytes, never
 * fragmented), lengths (minimal 64-bit form not required, but the top bit
 * must be 0) and the frame size limit. A violation stops the parser for good
 * and reports the close code: 1002, or 1009 for a frame over the limit.
 *
 * Between frames a parser holds nothing, so a connection need not keep one:
 * borrowParser/returnParser lend one for a read, and a connection keeps it
 * only while a frame is cut by the end of a read. Ten thousand idle
 * WebSockets then hold no parser at all (see WebSocketProtocol.framesIn).
 */
import { applyMask } from '../reactor/mask';
import { keepPiece } from '../transport/pieces';

/** Where the parser delivers frames and errors. */
export interface FrameSink {
  /** A whole frame, payload unmasked; the Buffer is the sink's. */
  frameReceived(fin: boolean, rsv1: boolean, opcode: number, payload: Buffer): void;
  /** The stream broke the protocol: fail the connection with `code`. */
  frameError(code: number, reason: string): void;
}

/** How a parser checks frames. */
export interface FrameParserOptions {
  /** True on a server: every frame must be masked; false on a client: none may be. */
  expectMasked: boolean;
  /** Most payload bytes of one frame (1009 beyond). */
  maxFramePayload: number;
  /** RSV1 may be set (permessage-deflate was negotiated). */
  allowRsv1: boolean;
}

/** Close codes the parser reports. */
export const PROTOCOL_ERROR = 1002;
export const MESSAGE_TOO_BIG = 1009;

const EMPTY = Buffer.alloc(0);

/** A frame whose payload is still arriving (kept apart: an idle connection has none). */
interface PartialFrame {
  pieces: Buffer[];
  /** pieces[0, merged) were looked at by mergeSmallPieces. */
  merged: number;
  got: number;
  want: number;
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  key: Buffer | null;
}

/** Parses a stream of frames. */
export class FrameParser {
  /** Stopped (an error, or the connection is closing): everything fed is ignored. */
  dead = false;
  /** A header cut by a read boundary, or null. */
  private partialHead: Buffer | null = null;
  /** The frame whose payload is arriving, or null. */
  private partial: PartialFrame | null = null;

  /** A parser delivering to `sink`. */
  constructor(
    private sink: FrameSink,
    /** The checks it makes (may be shared by many parsers: never changed). */
    public options: Readonly<FrameParserOptions>,
  ) {}

  /** True between frames (or once halted): the parser holds nothing of the stream. */
  get idle(): boolean {
    return this.partial === null && this.partialHead === null;
  }

  /** @internal Starts over for another stream (see borrowParser). */
  reuse(sink: FrameSink, options: Readonly<FrameParserOptions>): void {
    this.sink = sink;
    this.options = options;
    this.dead = false;
    this.partial = null;
    this.partialHead = null;
  }

  /** Stops parsing for good. */
  halt(): void {
    this.dead = true;
    this.partial = null;
    this.partialHead = null;
  }

  /** Parses `data` (it may be unmasked in place). */
  feed(data: Buffer): void {
    if (this.dead) return;
    let off = 0;
    if (this.partial !== null) {
      off = this.continuePayload(this.partial, data);
      if (off < 0) return;
    } else if (this.partialHead !== null) {
      data = Buffer.concat([this.partialHead, data]);
      this.partialHead = null;
    }
    const end = data.length;
    while (off < end && !this.dead) {
      const next = this.frameAt(data, off, end);
      if (next < 0) return;
      off = next;
    }
  }

  /** Reads the frame at `off`; returns where the next starts, or -1 when the read ended inside this one. */
  private frameAt(data: Buffer, off: number, end: number): number {
    if (end - off < 2) return this.keepHead(data, off);
    const b0 = data[off];
    const b1 = data[off + 1];
    let len = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const head = 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (end - off < head) return this.keepHead(data, off);
    if (len === 126) len = data.readUInt16BE(off + 2);
    else if (len === 127) {
      const hi = data.readUInt32BE(off + 2);
      if (hi > 0x1fffff) return this.fail(PROTOCOL_ERROR, 'frame length over 2^53');
      len = hi * 0x100000000 + data.readUInt32BE(off + 6);
    }
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const bad = this.check(b0, opcode, fin, rsv1, masked, len);
    if (bad !== null) return bad;
    const keyAt = off + head - 4;
    const start = off + head;
    if (end - start >= len) {
      const payload = len === 0 ? EMPTY : data.subarray(start, start + len);
      if (masked && len !== 0) applyMask(payload, 0, len, data, keyAt);
      this.sink.frameReceived(fin, rsv1, opcode, payload);
      return start + len;
    }
    const key = masked ? Buffer.from(data.subarray(keyAt, keyAt + 4)) : null;
    this.partial = { pieces: end === start ? [] : [data.subarray(start, end)], merged: 0, got: end - start, want: len, fin, rsv1, opcode, key };
    return -1;
  }

  /** Frame checks; null when it is fine, else -1 after reporting. */
  private check(b0: number, opcode: number, fin: boolean, rsv1: boolean, masked: boolean, len: number): number | null {
    const o = this.options;
    if ((b0 & 0x30) !== 0) return this.fail(PROTOCOL_ERROR, 'reserved bits RSV2/RSV3 set');
    if (rsv1 && !o.allowRsv1) return this.fail(PROTOCOL_ERROR, 'reserved bit RSV1 set without an extension');
    if (opcode >= 8) {
      if (opcode > 10) return this.fail(PROTOCOL_ERROR, `unknown control opcode ${opcode}`);
      if (!fin) return this.fail(PROTOCOL_ERROR, 'fragmented control frame');
      if (len > 125) return this.fail(PROTOCOL_ERROR, 'control frame over 125 bytes');
      if (rsv1) return this.fail(PROTOCOL_ERROR, 'RSV1 set on a control frame');
    } else if (opcode > 2) {
      return this.fail(PROTOCOL_ERROR, `unknown data opcode ${opcode}`);
    }
    if (masked !== o.expectMasked) return this.fail(PROTOCOL_ERROR, masked ? 'masked frame from the server' : 'unmasked frame from the client');
    if (len > o.maxFramePayload) return this.fail(MESSAGE_TOO_BIG, `frame of ${len} bytes over the limit of ${o.maxFramePayload}`);
    return null;
  }

  /** More of the payload in progress; returns where the data goes on after it, or -1 when it is all used. */
  private continuePayload(f: PartialFrame, data: Buffer): number {
    const take = Math.min(f.want - f.got, data.length);
    if (take > 0) f.merged = keepPiece(f.pieces, take === data.length ? data : data.subarray(0, take), f.merged);
    f.got += take;
    if (f.got < f.want) return -1;
    this.partial = null;
    const payload = f.pieces.length === 1 ? f.pieces[0] : Buffer.concat(f.pieces, f.want);
    if (f.key !== null) applyMask(payload, 0, payload.length, f.key, 0);
    this.sink.frameReceived(f.fin, f.rsv1, f.opcode, payload);
    return take === data.length || this.dead ? -1 : take;
  }

  /** Keeps the start of a header cut by the end of the read. */
  private keepHead(data: Buffer, off: number): number {
    this.partialHead = Buffer.from(data.subarray(off));
    return -1;
  }

  private fail(code: number, reason: string): number {
    this.halt();
    this.sink.frameError(code, reason);
    return -1;
  }
}

/** A sink for a parser waiting in the pool: it is never fed there. */
const NO_SINK: FrameSink = {
  frameReceived(): void {},
  frameError(): void {},
};

/** Idle parsers, lent for one read at a time (more than one only when a read is handled inside another's callback). */
const spare: FrameParser[] = [];

/** A parser for `sink`: an idle one from the pool, or a new one. Give it back with returnParser once idle. */
export function borrowParser(sink: FrameSink, options: Readonly<FrameParserOptions>): FrameParser {
  const p = spare.pop();
  if (p === undefined) return new FrameParser(sink, options);
  p.reuse(sink, options);
  return p;
}

/** Takes back an idle (or halted) parser; it forgets its sink. */
export function returnParser(p: FrameParser): void {
  p.reuse(NO_SINK, p.options);
  if (spare.length < 8) spare.push(p);
}
