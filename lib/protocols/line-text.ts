/**
 * TextLineReceiver: lines as strings, for text protocols. Each read is
 * decoded once (every complete line in it together) and each line is a
 * slice of that one string, so a line costs neither a Buffer nor a native
 * call of its own: what a `net` user splitting `data.toString()` by hand
 * pays, with LineOnlyReceiver's limits and partial-line handling.
 */
import type { IProtocolFactory, ITCPTransport, ITransport } from '../interfaces';
import { Protocol } from '../protocol';
import type { AnyProtocol, Factory } from '../protocol';
import { isDisconnecting, PendingBuffer } from './pending';
import { completeLine, NEED_MORE, TOO_LONG } from './line-split';

/** How a TextLineReceiver decodes lines: one character a byte, or UTF-8. */
export type LineEncoding = 'latin1' | 'utf8';

/**
 * A protocol that receives lines as strings and nothing else (no raw mode,
 * no pausing). The bytes of a line are decoded with `encoding`; a line of
 * ASCII reads the same either way. Each read is decoded once and a line is
 * a slice of it: a line of 13 characters or more kept for long (a map key,
 * a cache) keeps that read's whole text alive in V8. Where that matters,
 * LineReceiver with `line.toString()` gives each line a string of its own.
 */
export class TextLineReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends Protocol<F, T> {
  /** What ends a line; read each time a read is parsed. */
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

  /** Writes the line followed by the delimiter, encoded, as one write. */
  sendLine(line: string): void {
    this.transport.write(Buffer.from(line + this.delimiter, this.encoding));
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
    const rest = this.deliver(data, pos);
    if (rest >= 0) this.keep(data, rest, delim);
  }

  /**
   * Delivers the complete lines in data[pos..], left to right, from one
   * decoded string; returns where the partial last line starts, or -1 if
   * delivery stopped (a line too long, or the connection dropped).
   */
  private deliver(data: Buffer, pos: number): number {
    const enc = this.encoding;
    const text = data.toString(enc, pos);
    const sep = this.delimiter;
    // a UTF-16 unit is at most 3 bytes of UTF-8: shorter lines need no byte count
    const safe = enc === 'utf8' ? Math.floor(this.MAX_LENGTH / 3) : this.MAX_LENGTH;
    let at = 0;
    let idx: number;
    while ((idx = text.indexOf(sep, at)) >= 0) {
      if (idx - at > safe && this.tooLong(text, at, idx)) {
        this.lineLengthExceeded(data.subarray(pos + this.bytesOf(text, at)));
        return -1;
      }
      this.lineReceived(text.slice(at, idx));
      if (isDisconnecting(this)) return -1;
      at = idx + sep.length;
    }
    return pos + this.bytesOf(text, at);
  }

  /** Bytes that text[0, at) was decoded from (at ends a line, so no character is split). */
  private bytesOf(text: string, at: number): number {
    return this.encoding === 'latin1' || at === 0 ? at : Buffer.byteLength(text.slice(0, at), 'utf8');
  }

  /** Is text[at, stop) longer than MAX_LENGTH bytes once encoded? */
  private tooLong(text: string, at: number, stop: number): boolean {
    return this.encoding === 'latin1' ? stop - at > this.MAX_LENGTH : Buffer.byteLength(text.slice(at, stop), 'utf8') > this.MAX_LENGTH;
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
      this.delimBytes = Buffer.from(this.delimiter, this.encoding);
      this.delimOf = this.delimiter;
      this.delimEnc = this.encoding;
    }
    return this.delimBytes;
  }
}
