/**
 * LineReceiver, as `twisted.protocols.basic.LineReceiver`: lines split on a
 * delimiter, a raw mode, a length limit, and pausing between lines.
 */
import { toBuffer } from '../transport/bytes';
import type { IProtocolFactory, ITCPTransport, ITransport } from '../interfaces';
import type { AnyProtocol, Factory } from '../protocol';
import { isDisconnecting, PendingBuffer } from './pending';
import { PausableReceiver } from './pausable';
import { completeLine, DelimiterCache, indexOfDelimiter, indexOfDelimiterInText, NEED_MORE, TOO_LONG, writeLine } from './line-split';
import { memoryOf, offsetOf, viewOf } from '../reactor/received';

/**
 * The read whose lines LineReceiver is delivering, the line being delivered
 * and where it starts in the read, and the read decoded from textAt on once
 * lineText asked. One per read: a young object, so storing each line in it
 * needs no write barrier (storing it in the receiver, an old object, costs
 * ~50 instructions a line in the barrier's slow path).
 */
interface ReadText {
  read: Buffer;
  line: Buffer | null;
  at: number;
  text: string | null;
  textAt: number;
}

/** The default line delimiter, CR LF. */
export const CRLF: Buffer = Buffer.from('\r\n');

/**
 * A protocol that receives lines (and, in raw mode, raw bytes).
 * Lines are Buffer views the protocol may keep; they are never overwritten.
 */
export class LineReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends PausableReceiver<F, T> {
  /** What ends a line; read each time it is used, so an instance may change it. */
  delimiter: Buffer | string = CRLF;
  /** The longest line accepted; longer ones go to lineLengthExceeded. */
  MAX_LENGTH = 16384;

  private rawMode = false;
  private readonly tail = new PendingBuffer();
  /** The tail is a partial line already searched with `tailDelim`. */
  private tailScanned = true;
  private tailDelim: Buffer | null = null;
  private cur: Buffer | null = null;
  private pos = 0;
  private readonly delims = new DelimiterCache();
  /** The read whose lines are being delivered, for lineText; null between reads. */
  private reading: ReadText | null = null;

  /** One line arrived, without its delimiter. Override. */
  lineReceived(_line: Buffer): void {}

  /** Bytes arrived in raw mode. Override when you call setRawMode(). */
  rawDataReceived(_data: Buffer): void {}

  /** A line longer than MAX_LENGTH (with whatever followed it) arrived; the default drops the connection. */
  lineLengthExceeded(_line: Buffer): void {
    this.transport.loseConnection();
  }

  /**
   * `line.toString('latin1')` (one character a byte), cheaper for the line
   * being delivered to lineReceived: the first call in a read decodes the
   * rest of that read once, and each line is a slice of that string, where
   * `toString` is a native call per line. Any other Buffer (a line kept from
   * an earlier read, a line completed across reads) is decoded as it is.
   * The text is the read as it was when this was first called for one of
   * its lines: a line changed in place after that still reads as it was,
   * and the rest of that read is split on that text too (it is cheaper to
   * search), so bytes changed in place ahead of the parser from then on,
   * through a line's memory, do not move where its later lines end.
   * Two costs to know: the first call decodes the whole rest of the read (a
   * protocol that goes raw after a short header line pays for decoding its
   * body once), and a line of 13 characters or more is a V8 sliced string
   * that keeps that decoded read alive while it is kept: a line stored for
   * long (a map key, a cache) should be `line.toString('latin1')` instead.
   * For UTF-8 lines use `line.toString()`, or TextLineReceiver.
   */
  lineText(line: Buffer): string {
    const r = this.reading;
    if (r === null || line !== r.line) return line.toString('latin1');
    if (r.text === null) {
      r.text = r.read.toString('latin1', r.at);
      r.textAt = r.at;
    }
    const from = r.at - r.textAt;
    return r.text.slice(from, from + line.length);
  }

  /** Writes the line followed by the delimiter, as one write. */
  sendLine(line: Buffer | Uint8Array | string): void {
    writeLine(this.transport, line, this.delims, this.delimiter);
  }

  /** From now on bytes go to rawDataReceived (the rest of the current chunk too). */
  setRawMode(): void {
    this.rawMode = true;
    this.tailScanned = false;
  }

  /** From now on bytes are split into lines; `extra` is parsed at once. */
  setLineMode(extra?: Buffer | Uint8Array | string): void {
    this.rawMode = false;
    if (extra !== undefined && extra.length > 0) this.dataReceived(toBuffer(extra, 'setLineMode'));
  }

  /** True in line mode, false in raw mode. */
  get lineMode(): boolean {
    return !this.rawMode;
  }

  /** Returns every byte received but not yet delivered, and forgets it. */
  clearLineBuffer(): Buffer {
    const parts: Buffer[] = [];
    if (this.tail.length > 0) parts.push(this.tail.detach());
    if (this.cur !== null) parts.push(this.cur.subarray(this.pos));
    this.cur = null;
    parts.push(...this.takeQueued());
    this.tailScanned = true;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** Bytes held and not yet delivered (a partial line, or input buffered while paused). */
  get bufferedSize(): number {
    return this.tail.length + this.queuedLength();
  }

  protected override consume(data: Buffer): void {
    try {
      this.parse(data);
    } finally {
      // What lineText kept of the read goes with it (a kept view pins its memory), also when a handler threw.
      this.reading = null;
    }
  }

  /** Completes a line held over from the last read, then delivers the lines of this one. */
  private parse(data: Buffer): void {
    if (isDisconnecting(this)) return;
    const delim = this.delims.get(this.delimiter);
    if (this.tail.length > 0 && (!this.tailScanned || this.tailDelim !== delim)) {
      data = data.length === 0 ? this.tail.detach() : Buffer.concat([this.tail.detach(), data]);
    }
    this.tailScanned = true;
    if (this.paused) return this.stash(data, 0);
    let pos = 0;
    if (this.tail.length > 0 && !this.rawMode) {
      pos = completeLine(this.tail, data, delim, this.MAX_LENGTH);
      if (pos === NEED_MORE) return;
      if (pos === TOO_LONG) return this.lineLengthExceeded(Buffer.concat([this.tail.detach(), data]));
      this.cur = data;
      this.pos = pos;
      this.lineReceived(this.tail.detach());
      if (this.cur !== data) return;
    }
    this.scan(data, pos);
  }

  /** Delivers the lines in data from pos on; keeps a partial last line. */
  private scan(data: Buffer, pos: number): void {
    this.cur = data;
    const r: ReadText = { read: data, line: null, at: 0, text: null, textAt: 0 };
    this.reading = r;
    const memory = memoryOf(data);
    const base = offsetOf(data);
    while (this.cur === data && pos < data.length) {
      if (isDisconnecting(this)) break;
      if (this.paused) return this.stash(data, pos);
      if (this.rawMode) {
        this.cur = null;
        return this.rawDataReceived(pos === 0 ? data : data.subarray(pos));
      }
      const delim = this.delims.get(this.delimiter);
      // Once lineText has decoded the read, that text is searched: cheaper than the bytes (see lineText).
      const idx = r.text === null ? indexOfDelimiter(data, delim, pos) : indexOfDelimiterInText(r.text, r.textAt, delim, this.delims.head(), pos);
      if (idx < 0 || idx - pos > this.MAX_LENGTH) {
        if (idx < 0 && data.length - pos < this.MAX_LENGTH + delim.length) {
          this.tail.append(data, pos);
          this.tailDelim = delim;
          break;
        }
        this.cur = null;
        return this.lineLengthExceeded(data.subarray(pos));
      }
      const line = viewOf(memory, base, pos, idx);
      r.line = line;
      r.at = pos;
      this.pos = pos = idx + delim.length;
      this.lineReceived(line);
    }
    if (this.cur === data) this.cur = null;
  }

  /** Keeps data[pos..] unparsed until resumeProducing (or a mode change). */
  private stash(data: Buffer, pos: number): void {
    this.cur = null;
    this.tail.append(data, pos);
    this.tailScanned = false;
  }
}
