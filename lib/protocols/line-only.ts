/**
 * LineOnlyReceiver, as `twisted.protocols.basic.LineOnlyReceiver`: lines
 * only — no raw mode, no pausing — so the loop does less per line.
 */
import type { IProtocolFactory, ITCPTransport, ITransport } from '../interfaces';
import { Protocol } from '../protocol';
import type { AnyProtocol, Factory } from '../protocol';
import { isDisconnecting, PendingBuffer } from './pending';
import { completeLine, DelimiterCache, indexOfDelimiter, NEED_MORE, TOO_LONG, writeLine } from './line-split';
import { CRLF } from './line';
import { memoryOf, offsetOf, viewOf } from '../reactor/received';

/**
 * A protocol that receives lines and nothing else.
 * Lines are Buffer views the protocol may keep; they are never overwritten.
 */
export class LineOnlyReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends Protocol<F, T> {
  /** What ends a line; read each time a chunk is parsed. */
  delimiter: Buffer | string = CRLF;
  /** The longest line accepted; longer ones go to lineLengthExceeded. */
  MAX_LENGTH = 16384;

  private readonly tail = new PendingBuffer();
  private tailDelim: Buffer | null = null;
  private readonly delims = new DelimiterCache();

  /** One line arrived, without its delimiter. Override. */
  lineReceived(_line: Buffer): void {}

  /** A line longer than MAX_LENGTH arrived; the default drops the connection. */
  lineLengthExceeded(_line: Buffer): void {
    this.transport.loseConnection();
  }

  /** Writes the line followed by the delimiter, as one write. */
  sendLine(line: Buffer | Uint8Array | string): void {
    writeLine(this.transport, line, this.delims, this.delimiter);
  }

  /** Bytes held and not yet delivered (a partial line). */
  get bufferedSize(): number {
    return this.tail.length;
  }

  /** Splits data into lines and delivers each; keeps a partial last line. */
  override dataReceived(data: Buffer): void {
    if (isDisconnecting(this)) return;
    const delim = this.delims.get(this.delimiter);
    const max = this.MAX_LENGTH;
    if (this.tail.length > 0 && this.tailDelim !== delim) data = Buffer.concat([this.tail.detach(), data]);
    let pos = 0;
    if (this.tail.length > 0) {
      pos = completeLine(this.tail, data, delim, max);
      if (pos === NEED_MORE) return;
      if (pos === TOO_LONG) return this.lineLengthExceeded(Buffer.concat([this.tail.detach(), data]));
      this.lineReceived(this.tail.detach());
    }
    const memory = memoryOf(data);
    const base = offsetOf(data);
    let idx: number;
    while ((idx = indexOfDelimiter(data, delim, pos)) >= 0) {
      if (isDisconnecting(this)) return;
      if (idx - pos > max) return this.lineLengthExceeded(data.subarray(pos));
      const line = viewOf(memory, base, pos, idx);
      pos = idx + delim.length;
      this.lineReceived(line);
    }
    if (pos >= data.length || isDisconnecting(this)) return;
    if (data.length - pos >= max + delim.length) return this.lineLengthExceeded(data.subarray(pos));
    this.tail.append(data, pos);
    this.tailDelim = delim;
  }
}
