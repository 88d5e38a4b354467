/**
 * The HTTP/1.1 request parser (RFC 9112): a state machine fed the Buffers as
 * they are received, handing heads, body pieces and message ends to a sink.
 *
 * Why it looks like this:
 * - A head that arrives whole in one read (the usual case) is checked and
 *   cut in one pass, in place (head.ts wholeHead). Anything else, a partial
 *   head or one that pass does not accept, takes the careful path: the end
 *   is found line by line (Buffer.indexOf over LF for long lines), then the
 *   head is parsed and refused with its exact status. A partial head is
 *   copied into one growing buffer (amortised O(n), so a client trickling a
 *   byte at a time costs O(1) per byte), and the scan resumes at the line it
 *   stopped in.
 * - Body bytes are handed on as views of the received Buffers (no copy).
 * - Every line must end in CRLF: a bare LF is refused, as are obs-fold,
 *   ambiguous framing (framing.ts), bad chunk sizes and malformed chunk
 *   extensions (skipped, but held to RFC 9112 7.1.1: each name a token,
 *   never empty, each value a token or a quoted-string; llhttp takes
 *   "3;=x", "3;;a" and "3;a=", which are refused here). After a refusal the parser is dead: the
 *   connection answers the status and closes, so nothing a client sends
 *   after a malformed message is ever taken as a request.
 */
import { Ch, HEX, isValueByte, TCHAR } from './chars';
import { bodyLength, CHUNKED } from './framing';
import { checkRequestLine, parseHead, RequestHead, wholeHead, wholeHeadMade } from './head';

/** The sizes the parser refuses beyond. */
export interface ParserLimits {
  /** Request line plus header fields (and, separately, the trailer section), in bytes: 431 beyond. */
  maxHeaderBytes: number;
  /** The request line alone, in bytes: 400 beyond. */
  maxRequestLine: number;
  /** The body (after chunked decoding), in bytes: 413 beyond. */
  maxBodyBytes: number;
  /** Header fields in one head: 431 beyond. */
  maxHeaders: number;
}

/** Where the parser delivers what it found. */
export interface ParserSink {
  /** A head arrived with its body length (bytes, or CHUNKED); return 0 to go on, or a status to refuse it. */
  headReceived(head: RequestHead, length: number): number;
  /** A piece of the body (a view of received bytes). */
  bodyReceived(data: Buffer): void;
  /** The message is complete; return false to stop parsing after it (feed returns where it stopped). */
  messageEnded(): boolean;
  /** The stream is malformed: answer `status` and close. No callback follows. */
  parseFailed(status: number): void;
}

const enum St {
  Head,
  Length,
  Size,
  Data,
  DataEnd,
  Trailer,
  Dead,
}

/** Longest chunk-size line (with extensions) accepted. */
const MAX_SIZE_LINE = 4096;
/** Chunk sizes beyond this many hex digits are refused (they exceed any body limit). */
const MAX_SIZE_DIGITS = 12;
/** The shortest request head there is, `A / HTTP/1.1` CRLF CRLF: 16 bytes. */
export const SHORTEST_HEAD = 16;
/** Returned by fail(): past the end of any Buffer, so feed's loop ends. */
const STOP = Number.MAX_SAFE_INTEGER;

/** Parses a stream of pipelined requests. */
export class RequestParser {
  private st = St.Head;
  /** A partial head: its bytes are head[0, headLen). */
  private head: Buffer | null = null;
  private headLen = 0;
  /** Where the line not yet complete starts (in `head`, or in the Buffer being fed). */
  private lineStart = 0;
  private firstLine = true;
  /** The request line of a partial head was checked. */
  private lineChecked = false;
  /** Body bytes left (Length) or chunk bytes left (Data). */
  private left = 0;
  private bodyTotal = 0;
  /** A partial chunk-size or trailer line. */
  private line: Buffer | null = null;
  private trailerBytes = 0;
  /** Bytes of the CRLF after chunk data seen so far. */
  private crlf = 0;
  private stopped = false;

  /** A parser delivering to `sink`, refusing beyond `limits`. */
  constructor(
    private readonly sink: ParserSink,
    private readonly limits: ParserLimits,
  ) {}

  /** True between messages, before any byte of the next one. */
  get betweenMessages(): boolean {
    return this.st === St.Head && this.head === null;
  }

  /**
   * The fewest bytes that, added to what was fed, could take the parser
   * further (a head complete, a refusal it can only make at a line's end
   * aside): while a head is partial, what its tail still lacks of
   * CRLF CRLF, and on the request line what the shortest head still lacks;
   * 0 between messages (any number up to SHORTEST_HEAD); 1 in a body, a
   * trailer, or once dead. A channel sets its read low-water mark from it
   * (channel.ts).
   */
  bytesToProgress(): number {
    if (this.st !== St.Head) return 1;
    const head = this.head;
    if (head === null) return 0;
    const n = this.headLen;
    // The tail's CR LF CR, CR LF, CR, or none: 1, 2, 3 or 4 bytes to CRLF CRLF.
    let need = 4;
    if (head[n - 1] === Ch.CR) need = n >= 3 && head[n - 2] === Ch.LF && head[n - 3] === Ch.CR ? 1 : 3;
    else if (head[n - 1] === Ch.LF) need = 2;
    return this.firstLine ? Math.max(need, SHORTEST_HEAD - n) : need;
  }

  /** Stops parsing for good (the connection is closing). */
  halt(): void {
    this.st = St.Dead;
    this.head = null;
    this.line = null;
  }

  /** Parses `data` from `offset`; returns where it stopped: data.length, or earlier when messageEnded said stop. */
  feed(data: Buffer, offset = 0): number {
    let off = offset;
    while (off < data.length) {
      switch (this.st) {
        case St.Head:
          off = this.readHead(data, off);
          break;
        case St.Length:
          off = this.readLength(data, off);
          break;
        case St.Size:
          off = this.readSize(data, off);
          break;
        case St.Data:
          off = this.readData(data, off);
          break;
        case St.DataEnd:
          off = this.readDataEnd(data, off);
          break;
        case St.Trailer:
          off = this.readTrailer(data, off);
          break;
        default:
          return data.length;
      }
      if (this.stopped) {
        this.stopped = false;
        return Math.min(off, data.length);
      }
    }
    return Math.min(off, data.length);
  }

  private fail(status: number): number {
    this.halt();
    this.sink.parseFailed(status);
    return STOP;
  }

  private messageEnd(): void {
    this.st = St.Head;
    if (!this.sink.messageEnded()) this.stopped = true;
  }

  // ---- the head ----

  private readHead(data: Buffer, off: number): number {
    if (this.head !== null) return this.readMoreHead(data, off);
    while (off < data.length && (data[off] === Ch.CR || data[off] === Ch.LF)) off++; // empty lines before a request (RFC 9112 2.2)
    if (off === data.length) return off;
    const lim = this.limits;
    const whole = wholeHead(data, off, lim.maxHeaders, lim.maxRequestLine, lim.maxHeaderBytes);
    if (whole > 0) return this.headParsed(wholeHeadMade(data, off), whole);
    const end = this.scan(data, off, off, data.length);
    if (end > 0) return this.headDone(data, off, end);
    if (end < 0) return this.fail(-end);
    const n = data.length - off;
    this.head = Buffer.allocUnsafe(Math.max(256, 2 * n));
    data.copy(this.head, 0, off);
    this.headLen = n;
    this.lineStart -= off;
    return this.checkPartial(data, off);
  }

  private readMoreHead(data: Buffer, off: number): number {
    const before = this.headLen;
    const n = data.length - off;
    let head = this.head!;
    if (before + n > head.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * head.length, before + n));
      head.copy(grown, 0, 0, before);
      head = this.head = grown;
    }
    copyInto(head, before, data, off);
    this.headLen = before + n;
    // Only the new bytes can hold the next LF: a head trickled a byte at a time costs O(1) per byte.
    const end = this.scan(head, 0, this.lineStart, this.headLen, before);
    if (end < 0) return this.fail(-end);
    if (end === 0) return this.checkPartial(head, 0);
    this.head = null;
    this.headLen = 0;
    const next = this.headDone(head, 0, end);
    return next === STOP ? STOP : off + (end - before);
  }

  /**
   * After a partial head (starting at b[start]): refuses one already too
   * long, or whose request line is in and bad, else waits for more.
   */
  private checkPartial(b: Buffer, start: number): number {
    if (this.headLen > this.limits.maxHeaderBytes) return this.fail(431);
    if (this.firstLine && this.headLen > this.limits.maxRequestLine) return this.fail(400);
    if (!this.firstLine && !this.lineChecked) {
      this.lineChecked = true;
      const at = checkRequestLine(b, start);
      if (at < 0) return this.fail(-at);
    }
    return STOP;
  }

  /**
   * Looks for the empty line ending a head in b[start, end), resuming at the
   * incomplete line at `line`, whose bytes before `from` hold no LF: the
   * offset past it, 0 when not there yet (lineStart is kept), or minus a
   * status.
   */
  private scan(b: Buffer, start: number, line: number, end: number, from = line): number {
    let at = from;
    for (;;) {
      const lf = findLF(b, at, end);
      if (lf < 0) {
        this.lineStart = line;
        return 0;
      }
      if (lf === line || b[lf - 1] !== Ch.CR) return -400; // bare LF
      if (lf - 1 === line) {
        return lf + 1 - start > this.limits.maxHeaderBytes ? -431 : lf + 1;
      }
      if (this.firstLine) {
        if (lf - start > this.limits.maxRequestLine) return -400;
        this.firstLine = false;
      }
      line = lf + 1;
      at = line;
    }
  }

  private headDone(b: Buffer, start: number, end: number): number {
    this.firstLine = true;
    this.lineChecked = false;
    const head = parseHead(b, start, end, this.limits.maxHeaders);
    if (typeof head === 'number') return this.fail(head);
    return this.headParsed(head, end);
  }

  /** A head parsed, ending at `end`: its body's framing, then the sink. */
  private headParsed(head: RequestHead, end: number): number {
    // Two Host fields: a front end may route on the first while getHeader gives the last (RFC 9112 3.2: 400).
    if (head.hosts > 1) return this.fail(400);
    const length = bodyLength(head);
    if (length < CHUNKED) return this.fail(-length);
    if (length > this.limits.maxBodyBytes) return this.fail(413);
    const refused = this.sink.headReceived(head, length);
    if (refused !== 0) return this.fail(refused);
    if (this.st === St.Dead) return STOP;
    this.bodyTotal = 0;
    if (length === CHUNKED) {
      this.st = St.Size;
    } else if (length > 0) {
      this.st = St.Length;
      this.left = length;
    } else {
      this.messageEnd();
    }
    return end;
  }

  // ---- bodies ----

  private readLength(data: Buffer, off: number): number {
    const n = Math.min(this.left, data.length - off);
    this.left -= n;
    this.sink.bodyReceived(data.subarray(off, off + n));
    if (this.left === 0 && this.st === St.Length) this.messageEnd();
    return off + n;
  }

  private readData(data: Buffer, off: number): number {
    const n = Math.min(this.left, data.length - off);
    this.left -= n;
    this.sink.bodyReceived(data.subarray(off, off + n));
    if (this.left === 0 && this.st === St.Data) {
      this.st = St.DataEnd;
      this.crlf = 0;
    }
    return off + n;
  }

  private readDataEnd(data: Buffer, off: number): number {
    while (off < data.length && this.crlf < 2) {
      if (data[off] !== (this.crlf === 0 ? Ch.CR : Ch.LF)) return this.fail(400);
      this.crlf++;
      off++;
    }
    if (this.crlf === 2) this.st = St.Size;
    return off;
  }

  /**
   * The LF ending the line that starts at data[off] (joined with a partial
   * line kept before): [bytes, start, lf], or null when the line is not
   * complete yet (its bytes are kept, up to `max`; beyond, fail(status)).
   */
  private takeLine(data: Buffer, off: number, max: number, status: number): [Buffer, number, number] | null {
    const lf = data.indexOf(Ch.LF, off);
    if (lf < 0) {
      const kept = this.line === null ? data.subarray(off) : Buffer.concat([this.line, data.subarray(off)]);
      if (kept.length > max) {
        this.fail(status);
        return null;
      }
      this.line = kept;
      return null;
    }
    if (this.line === null) return [data, off, lf];
    const b = Buffer.concat([this.line, data.subarray(off, lf + 1)]);
    this.line = null;
    return b.length > max + 1 ? (this.fail(status), null) : [b, 0, b.length - 1];
  }

  private readSize(data: Buffer, off: number): number {
    const got = this.takeLine(data, off, MAX_SIZE_LINE, 400);
    if (got === null) return STOP;
    const [b, start, lf] = got;
    const size = chunkSize(b, start, lf);
    if (size < 0) return this.fail(400);
    this.bodyTotal += size;
    if (this.bodyTotal > this.limits.maxBodyBytes) return this.fail(413);
    if (size === 0) {
      this.st = St.Trailer;
      this.trailerBytes = 0;
    } else {
      this.st = St.Data;
      this.left = size;
    }
    return data === b ? lf + 1 : data.indexOf(Ch.LF, off) + 1;
  }

  /** Trailer fields are checked for shape and dropped; the empty line ends the message. */
  private readTrailer(data: Buffer, off: number): number {
    const max = this.limits.maxHeaderBytes - this.trailerBytes;
    const got = this.takeLine(data, off, max, 431);
    if (got === null) return STOP;
    const [b, start, lf] = got;
    const next = data === b ? lf + 1 : data.indexOf(Ch.LF, off) + 1;
    if (lf === start || b[lf - 1] !== Ch.CR) return this.fail(400);
    if (lf - 1 === start) {
      this.messageEnd();
      return next;
    }
    let i = start;
    while (TCHAR[b[i]] === 1) i++;
    if (i === start || b[i] !== Ch.COLON) return this.fail(400);
    this.trailerBytes += lf + 1 - start;
    if (this.trailerBytes > this.limits.maxHeaderBytes) return this.fail(431);
    return next;
  }
}

/**
 * The first LF in b[from, end), or -1. A few bytes are looked at in JS:
 * Buffer.indexOf is a call into C++ and, having no end, would also scan the
 * unused tail of a partial head's buffer.
 */
function findLF(b: Buffer, from: number, end: number): number {
  if (end - from <= 32) {
    for (let i = from; i < end; i++) if (b[i] === Ch.LF) return i;
    return -1;
  }
  const lf = b.indexOf(Ch.LF, from);
  return lf < end ? lf : -1;
}

/** Copies data[off, ...) to head[at, ...) (a short piece in JS: Buffer.copy's argument checks cost more than the bytes). */
function copyInto(head: Buffer, at: number, data: Buffer, off: number): void {
  const n = data.length - off;
  if (n <= 32) {
    for (let i = 0; i < n; i++) head[at + i] = data[off + i];
  } else {
    head.set(off === 0 ? data : data.subarray(off), at);
  }
}

/** The size on a chunk-size line b[start, lf) (hex digits, optional extensions, CR), or -1. */
function chunkSize(b: Buffer, start: number, lf: number): number {
  if (lf === start || b[lf - 1] !== Ch.CR) return -1;
  const end = lf - 1;
  let i = start;
  let size = 0;
  while (i < end && HEX[b[i]] !== 255) {
    size = size * 16 + HEX[b[i]];
    i++;
  }
  if (i === start || i - start > MAX_SIZE_DIGITS) return -1;
  return i === end || chunkExtensions(b, i, end) ? size : -1;
}

/**
 * Whether b[i, end) is chunk extensions (RFC 9112 7.1.1), which are skipped
 * but must be well formed: each is `;` and a name, a token (never empty),
 * then optionally `=` and a value, a token or a quoted-string; whitespace
 * (BWS) may stand around `;` and `=`, not at the end of the line.
 */
function chunkExtensions(b: Buffer, i: number, end: number): boolean {
  while (i < end) {
    i = afterBWS(b, i, end);
    if (i === end || b[i] !== Ch.SEMI) return false;
    const name = afterBWS(b, i + 1, end);
    i = afterToken(b, name, end);
    if (i === name) return false;
    const eq = afterBWS(b, i, end);
    if (eq < end && b[eq] === Ch.EQUALS) {
      const value = afterBWS(b, eq + 1, end);
      i = b[value] === Ch.DQUOTE ? afterQuoted(b, value, end) : afterToken(b, value, end);
      if (i <= value) return false; // empty, or a quoted-string not closed
    }
  }
  return true;
}

/** The first index from `i` that is not SP or HTAB (BWS). */
function afterBWS(b: Buffer, i: number, end: number): number {
  while (i < end && (b[i] === Ch.SP || b[i] === Ch.HTAB)) i++;
  return i;
}

/** The first index from `i` that is not a tchar. */
function afterToken(b: Buffer, i: number, end: number): number {
  while (i < end && TCHAR[b[i]] === 1) i++;
  return i;
}

/** The index after the quoted-string opening at `i` (qdtext and quoted-pairs), or -1 when it does not close or holds a control. */
function afterQuoted(b: Buffer, i: number, end: number): number {
  for (i++; i < end; i++) {
    const c = b[i];
    if (c === Ch.DQUOTE) return i + 1;
    if (c === Ch.BACKSLASH && ++i === end) return -1;
    if (!isValueByte(b[i])) return -1;
  }
  return -1;
}
