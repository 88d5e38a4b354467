/**
 * Int32/Int16/Int8StringReceiver, as `twisted.protocols.basic`: each string
 * is sent after its length as a big-endian unsigned integer.
 */
import { toBuffer } from '../transport/bytes';
import { StringTooLongError } from '../errors';
import type { IProtocolFactory, ITCPTransport, ITransport } from '../interfaces';
import type { AnyProtocol, Factory } from '../protocol';
import { isDisconnecting, PendingBuffer } from './pending';
import { PausableReceiver } from './pausable';
import { memoryOf, offsetOf, viewOf } from '../reactor/received';

/** Reads a big-endian unsigned prefix of P bytes at pos (bounds already checked). */
function readPrefix(data: Buffer, pos: number, P: number): number {
  if (P === 4) return data[pos] * 0x1000000 + ((data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]);
  if (P === 2) return (data[pos] << 8) | data[pos + 1];
  return data[pos];
}

/**
 * The shared length-prefixed framing; subclasses fix the prefix size.
 * Strings are Buffer views the protocol may keep; they are never overwritten.
 */
export abstract class IntNStringReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends PausableReceiver<F, T> {
  /** Bytes in the length prefix: 4, 2 or 1. */
  abstract readonly prefixLength: 1 | 2 | 4;
  /** The longest string accepted; a longer announced length goes to lengthLimitExceeded. */
  MAX_LENGTH = 99999;

  /** Holds a partial frame (prefix included) or, when not `framed`, input stashed while paused. */
  private readonly pending = new PendingBuffer();
  private framed = true;
  /** Set once a length over the limit arrived: framing is lost, later input is ignored. */
  private broken = false;

  /** One string arrived. Override. */
  stringReceived(_s: Buffer): void {}

  /** A prefix announced a string longer than MAX_LENGTH; the default drops the connection. */
  lengthLimitExceeded(_length: number): void {
    this.transport.loseConnection();
  }

  /** Writes the length prefix and the string as one write; StringTooLongError if the prefix cannot hold the length. */
  sendString(s: Buffer | Uint8Array | string): void {
    const body = toBuffer(s, 'sendString');
    const P = this.prefixLength;
    if (body.length >= 2 ** (8 * P)) {
      throw new StringTooLongError(`Try to send ${body.length} bytes whereas maximum is ${2 ** (8 * P) - 1}`);
    }
    const out = Buffer.allocUnsafe(P + body.length);
    out.writeUIntBE(body.length, 0, P);
    body.copy(out, P);
    this.transport.write(out);
  }

  /** Bytes held and not yet delivered (a partial frame, or input buffered while paused). */
  get bufferedSize(): number {
    return this.pending.length + this.queuedLength();
  }

  protected override consume(data: Buffer): void {
    if (this.broken || isDisconnecting(this)) return;
    if (!this.framed) {
      data = data.length === 0 ? this.pending.detach() : Buffer.concat([this.pending.detach(), data]);
      this.framed = true;
    }
    if (this.paused) return this.stash(data, 0);
    let pos = 0;
    if (this.pending.length > 0) {
      pos = this.completeFrame(data);
      if (pos < 0) return;
      this.stringReceived(this.pending.detach().subarray(this.prefixLength));
    }
    this.scan(data, pos);
  }

  /** Adds the start of data to the partial frame; returns where the frame ended in data, or -1. */
  private completeFrame(data: Buffer): number {
    const P = this.prefixLength;
    let used = 0;
    if (this.pending.length < P) {
      used = Math.min(P - this.pending.length, data.length);
      this.pending.append(data, 0, used);
      if (this.pending.length < P) return -1;
    }
    const length = readPrefix(this.pending.peek(), 0, P);
    if (length > this.MAX_LENGTH) {
      this.exceeded(length);
      return -1;
    }
    this.pending.expect(P + length);
    const take = Math.min(P + length - this.pending.length, data.length - used);
    this.pending.append(data, used, used + take);
    return this.pending.length < P + length ? -1 : used + take;
  }

  /** Delivers the whole frames in data from pos on; keeps a partial last frame. */
  private scan(data: Buffer, pos: number): void {
    const P = this.prefixLength;
    const memory = memoryOf(data);
    const base = offsetOf(data);
    while (pos < data.length && !this.broken) {
      if (this.paused) return this.stash(data, pos);
      if (isDisconnecting(this)) break;
      if (data.length - pos < P) {
        this.pending.append(data, pos);
        break;
      }
      const length = readPrefix(data, pos, P);
      if (length > this.MAX_LENGTH) return this.exceeded(length);
      const end = pos + P + length;
      if (end > data.length) {
        this.pending.expect(P + length);
        this.pending.append(data, pos);
        break;
      }
      const start = pos + P;
      pos = end;
      this.stringReceived(viewOf(memory, base, start, end));
    }
  }

  private exceeded(length: number): void {
    this.broken = true;
    this.pending.detach();
    this.lengthLimitExceeded(length);
  }

  private stash(data: Buffer, pos: number): void {
    this.pending.append(data, pos);
    this.framed = false;
  }
}

/** Strings prefixed by a 4-byte big-endian length (Twisted's Int32StringReceiver). */
export class Int32StringReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends IntNStringReceiver<F, T> {
  /** Four bytes of length. */
  readonly prefixLength: 1 | 2 | 4 = 4;
}

/** Strings prefixed by a 2-byte big-endian length (Twisted's Int16StringReceiver). */
export class Int16StringReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends IntNStringReceiver<F, T> {
  /** Two bytes of length. */
  readonly prefixLength: 1 | 2 | 4 = 2;
}

/** Strings prefixed by a 1-byte length (Twisted's Int8StringReceiver). */
export class Int8StringReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends IntNStringReceiver<F, T> {
  /** One byte of length. */
  readonly prefixLength: 1 | 2 | 4 = 1;
}
