/**
 * What the line receivers share about their delimiter: completing a line
 * whose start is held over from an earlier chunk (the one place a delimiter
 * can straddle two chunks), finding it in bytes or in a decoded read, and
 * writing a line with it.
 */
import { toBuffer } from '../transport/bytes';
import type { ITransport } from '../interfaces';
import type { PendingBuffer } from './pending';

/** completeLine(): no delimiter yet; the data was appended to the tail. */
export const NEED_MORE = -1;
/** completeLine(): the line is longer than the limit; nothing was changed. */
export const TOO_LONG = -2;

/**
 * Finds the end of the line begun in `tail`. On success the tail holds
 * exactly the line and the index in data just past the delimiter is returned.
 */
export function completeLine(tail: PendingBuffer, data: Buffer, delim: Buffer, max: number): number {
  const held = tail.length;
  const dlen = delim.length;
  for (let p = Math.max(0, held - dlen + 1); p < held; p++) {
    if (straddles(tail, data, delim, p)) {
      if (p > max) return TOO_LONG;
      tail.truncate(p);
      return p + dlen - held;
    }
  }
  const idx = indexOfDelimiter(data, delim, 0);
  if (idx < 0) {
    if (held + data.length >= max + dlen) return TOO_LONG;
    tail.append(data);
    return NEED_MORE;
  }
  if (held + idx > max) return TOO_LONG;
  tail.append(data, 0, idx);
  return idx + dlen;
}

/**
 * Buffer.prototype.indexOf, called through `call`: optimized code loads a
 * method of a typed array (data.indexOf) through the generic LoadIC builtin,
 * ~68 instructions a load in Node 20, where a call of a known function is
 * inlined (bench/PERFORMANCE.md, "Key-value lines").
 */
const bufferIndexOf = Buffer.prototype.indexOf;

/**
 * data.indexOf(delim, from), faster: V8 answers indexOf(byte) without leaving
 * JIT code, so the first byte is searched that way and the rest compared here.
 */
export function indexOfDelimiter(data: Buffer, delim: Buffer, from: number): number {
  const first = delim[0];
  const i = bufferIndexOf.call(data, first, from);
  if (i < 0 || delim.length === 1) return i;
  for (let j = 1; j < delim.length; j++) {
    // A false start: let the general search take over rather than probe byte by byte.
    if (data[i + j] !== delim[j]) return data.indexOf(delim, i + 1);
  }
  return i;
}

/**
 * indexOfDelimiter over a read's latin1 text (one character a byte):
 * `delim` in `text`, whose first character is byte `offset` of the read,
 * from byte `from` on, as a byte index into the read. A one-character string
 * search skips Buffer.indexOf's JS wrapper and its fast-API call: ~50
 * instructions a line less in all (bench/PERFORMANCE.md, "A string written
 * as it is, and the line ends found in the text").
 */
export function indexOfDelimiterInText(text: string, offset: number, delim: Buffer, head: string, from: number): number {
  for (let i = text.indexOf(head, from - offset); i >= 0; i = text.indexOf(head, i + 1)) {
    let j = 1;
    while (j < delim.length && text.charCodeAt(i + j) === delim[j]) j++;
    if (j === delim.length) return i + offset;
  }
  return -1;
}

/** True if the delimiter starts at index p of the tail and ends inside data. */
function straddles(tail: PendingBuffer, data: Buffer, delim: Buffer, p: number): boolean {
  const held = tail.length;
  for (let j = 0; j < delim.length; j++) {
    const q = p + j;
    const b = q < held ? tail.at(q) : q - held < data.length ? data[q - held] : -1;
    if (b !== delim[j]) return false;
  }
  return true;
}

/**
 * sendLine for LineReceiver and LineOnlyReceiver: `line` and the delimiter
 * as one write. A string line with an ASCII delimiter goes as one string,
 * which the transport encodes as UTF-8 (natively, on a TCP transport): no
 * Buffer is made for the line nor a Buffer.concat for the pair, ~2,450
 * instructions a line less (bench/PERFORMANCE.md, "sendLine with a string").
 */
export function writeLine(transport: ITransport, line: Buffer | Uint8Array | string, delims: DelimiterCache, source: Buffer | string): void {
  const delim = delims.get(source);
  const text = typeof line === 'string' ? delims.ascii() : null;
  if (text !== null) transport.write((line as string) + text);
  else transport.write(Buffer.concat([toBuffer(line, 'sendLine'), delim]));
}

/** Caches the Buffer form of a delimiter given as a string or a Buffer. */
export class DelimiterCache {
  private source: Buffer | string | null = null;
  private value: Buffer = Buffer.alloc(0);
  private headByte = -1;
  private headText = '';
  private asciiText: string | null = null;

  /** The delimiter as a Buffer; throws TypeError for an empty delimiter. */
  get(source: Buffer | string): Buffer {
    return source === this.source ? this.value : this.convert(source);
  }

  /**
   * The first byte of the delimiter get() last returned, as a one-character
   * latin1 string; read from the Buffer each time, since a Buffer delimiter
   * may be changed in place.
   */
  head(): string {
    const b = this.value[0];
    return b === this.headByte ? this.headText : this.newHead(b);
  }

  /**
   * The delimiter get() last returned as a string, when every byte of it is
   * ASCII (a line and it then make the same UTF-8 bytes as one string as
   * apart); else null. Checked against the Buffer each time, since a Buffer
   * delimiter may be changed in place.
   */
  ascii(): string | null {
    const v = this.value;
    const t = this.asciiText;
    // Two bytes (CR LF, the default) checked without a loop, small enough to inline; any other length in checkAscii.
    if (t !== null && v.length === 2 && t.length === 2 && t.charCodeAt(0) === v[0] && t.charCodeAt(1) === v[1]) return t;
    return this.checkAscii(v, t);
  }

  // The slow paths, methods of their own, so that get() and head() are small
  // enough for optimized code to inline into a line loop whose inlining
  // budget the protocol's handler shares: out of line they cost ~35
  // instructions a call each (a LineReceiver answering with sendLine calls
  // both every line). ascii() is still called out of line there, ~90 with
  // its two-byte check (~130 with the loop).

  private convert(source: Buffer | string): Buffer {
    const buf = toBuffer(source, 'delimiter');
    if (buf.length === 0) throw new TypeError('delimiter must not be empty');
    this.source = source;
    this.value = buf;
    return buf;
  }

  private newHead(b: number): string {
    this.headByte = b;
    this.headText = String.fromCharCode(b);
    return this.headText;
  }

  private checkAscii(v: Buffer, t: string | null): string | null {
    if (t !== null && t.length === v.length) {
      let i = 0;
      while (i < v.length && t.charCodeAt(i) === v[i]) i++;
      if (i === v.length) return t;
    }
    return this.newAscii(v);
  }

  private newAscii(v: Buffer): string | null {
    for (let i = 0; i < v.length; i++) if (v[i] >= 0x80) return (this.asciiText = null);
    return (this.asciiText = v.toString('latin1'));
  }
}
