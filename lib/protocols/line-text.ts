/**
 * TextLineReceiver: lines as strings, for text protocols. In latin1 each
 * read is decoded once (every complete line in it together) and each line
 * is a slice of that one string, so a line costs neither a Buffer nor a
 * native call of its own: what a `net` user splitting `data.toString()` by
 * hand pays, with LineOnlyReceiver's limits and partial-line handling. In
 * UTF-8 a read of ASCII goes the same way (it decodes alike); any other is
 * split in its bytes and each line decoded from its own range: decoded text
 * maps back to bytes only when the bytes were valid UTF-8 (an invalid byte
 * decodes to U+FFFD, three bytes when encoded again).
 */
import * as buffer from 'buffer';
import type { IProtocolFactory, ITCPTransport, ITransport } from '../interfaces';
import { Protocol } from '../protocol';
import type { AnyProtocol, Factory } from '../protocol';
import { isDisconnecting, PendingBuffer } from './pending';
import { completeLine, indexOfDelimiter, NEED_MORE, TOO_LONG } from './line-split';

/** buffer.isAscii (Node 18.15 and 19.6 on); before them every UTF-8 read is split in its bytes. */
const isAscii: (data: Uint8Array) => boolean = typeof buffer.isAscii === 'function' ? buffer.isAscii : () => false;

/** How a TextLineReceiver decodes lines: one character a byte, or UTF-8. */
export type LineEncoding = 'latin1' | 'utf8';

/**
 * A protocol that receives lines as strings and nothing else (no raw mode,
 * no pausing). The bytes of a line are decoded with `encoding`; a line of
 * ASCII reads the same either way, and in UTF-8 a line is what
 * `Buffer.toString('utf8')` makes of its bytes (invalid ones as U+FFFD).
 * In latin1 each read is decoded once and a line is a slice of it: a line
 * of 13 characters or more kept for long (a map key, a cache) keeps that
 * read's whole text alive in V8. Where that matters, LineReceiver with
 * `line.toString('latin1')` gives each line a string of its own.
 */
export class TextLineReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends Protocol<F, T> {
  /** What ends a line; read each time a read is parsed. In latin1 every character must be U+00FF or below (a TypeError otherwise). */
  delimiter = '\r\n';
  /** How lines are decoded and sendLine encodes; read each time a read is parsed. */
  encoding: LineEncoding = 'latin1';
  /** The longest line accepted, in bytes; longer ones go to lineLengthExceeded. */
  MAX_LENGTH = 16384;

  private readonly tail = new PendingBuffer();
  private tailDelim: Buffer | null = null;
  private delimOf = '';
  private delimEnc: LineEncoding = 'latin1';
  private delimBytes: Buffer | null = null;

  /** One line arrived, decoded, without its delimiter. Override. */
  lineReceived(_line: string): void {}

  /** A line longer than MAX_LENGTH (with whatever followed it, as bytes) arrived; the default drops the connection. */
  lineLengthExceeded(_line: Buffer): void {
    this.transport.loseConnection();
  }

  /**
   * Writes the line followed by the delimiter, encoded, as one write.
   * Throws TypeError for anything but a string (a number or null would
   * otherwise go out as its text).
   */
  sendLine(line: string): void {
    if (typeof line !== 'string') throw new TypeError(`sendLine: line must be a string, got ${line === null ? 'null' : typeof line}`);
    const text = line + this.delimiter;
    // A string is written as UTF-8 with no Buffer made for it, and joined with the strings written after it in the
    // batch (lib/reactor/text-cork.ts): the same bytes in UTF-8, and in latin1 when every character is ASCII (its
    // UTF-8 length is then its length; any other character takes two bytes or more).
    if (this.encoding === 'utf8' || Buffer.byteLength(text, 'utf8') === text.length) this.transport.write(text);
    else this.transport.write(Buffer.from(text, this.encoding));
  }

  /** Bytes held and not yet delivered (a partial line). */
  get bufferedSize(): number {
    return this.tail.length;
  }

  /** Splits data into lines and delivers each; keeps a partial last line. */
  override dataReceived(data: Buffer): void {
    if (isDisconnecting(this)) return;
    const delim = this.delimiterBytes();
    if (this.tail.length > 0 && this.tailDelim !== delim) data = Buffer.concat([this.tail.detach(), data]);
    let pos = 0;
    if (this.tail.length > 0) {
      pos = completeLine(this.tail, data, delim, this.MAX_LENGTH);
      if (pos === NEED_MORE) return;
      if (pos === TOO_LONG) return this.lineLengthExceeded(Buffer.concat([this.tail.detach(), data]));
      this.lineReceived(this.tail.detach().toString(this.encoding));
      if (isDisconnecting(this)) return;
    }
    // A read of ASCII decodes the same either way: one decode for it, as latin1's (4x cheaper a line than one each).
    const rest = this.encoding === 'utf8' && !isAscii(pos === 0 ? data : data.subarray(pos)) ? this.deliverBytes(data, pos, delim) : this.deliverText(data, pos);
    if (rest >= 0) this.keep(data, rest, delim);
  }

  /**
   * Delivers the complete latin1 lines in data[pos..], left to right, from
   * one decoded string (one character a byte, so a character index is a
   * byte count); returns where the partial last line starts, or -1 if
   * delivery stopped (a line too long, or the connection dropped).
   */
  private deliverText(data: Buffer, pos: number): number {
    const text = data.toString('latin1', pos);
    const sep = this.delimiter;
    const max = this.MAX_LENGTH;
    let at = 0;
    let idx: number;
    while ((idx = text.indexOf(sep, at)) >= 0) {
      if (idx - at > max) {
        this.lineLengthExceeded(data.subarray(pos + at));
        return -1;
      }
      this.lineReceived(text.slice(at, idx));
      if (isDisconnecting(this)) return -1;
      at = idx + sep.length;
    }
    return pos + at;
  }

  /**
   * deliverText for UTF-8: the delimiter is found in the bytes and each line
   * decoded from its own byte range, so invalid or overlong sequences change
   * neither where a line ends nor its length; returns as deliverText does.
   */
  private deliverBytes(data: Buffer, pos: number, delim: Buffer): number {
    const max = this.MAX_LENGTH;
    let at = pos;
    let idx: number;
    while ((idx = indexOfDelimiter(data, delim, at)) >= 0) {
      if (idx - at > max) {
        this.lineLengthExceeded(data.subarray(at));
        return -1;
      }
      this.lineReceived(data.toString('utf8', at, idx));
      if (isDisconnecting(this)) return -1;
      at = idx + delim.length;
    }
    return at;
  }

  /** Holds data[from..] as the partial next line, unless it is already too long. */
  private keep(data: Buffer, from: number, delim: Buffer): void {
    if (from >= data.length) return;
    if (data.length - from >= this.MAX_LENGTH + delim.length) return this.lineLengthExceeded(data.subarray(from));
    this.tail.append(data, from);
    this.tailDelim = delim;
  }

  /** The delimiter as encoded bytes, made again only when it or the encoding changed. */
  private delimiterBytes(): Buffer {
    if (this.delimBytes === null || this.delimiter !== this.delimOf || this.encoding !== this.delimEnc) {
      if (this.delimiter.length === 0) throw new TypeError('delimiter must not be empty');
      // latin1 keeps a character's low byte only: '\u20ac' would be searched as text but found as byte 0xAC across reads
      if (this.encoding === 'latin1' && /[^\u0000-\u00ff]/.test(this.delimiter)) {
        throw new TypeError(`delimiter ${JSON.stringify(this.delimiter)} has a character latin1 cannot encode: use encoding 'utf8'`);
      }
      this.delimBytes = Buffer.from(this.delimiter, this.encoding);
      this.delimOf = this.delimiter;
      this.delimEnc = this.encoding;
    }
    return this.delimBytes;
  }
}
