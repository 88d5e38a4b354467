/**
 * NetstringReceiver, as `twisted.protocols.basic.NetstringReceiver`:
 * strings framed as `<decimal length>:<bytes>,` (D. J. Bernstein's netstrings).
 */
import { toBuffer } from '../transport/bytes';
import { NetstringParseError } from '../errors';
import { log } from '../log';
import type { IProtocolFactory, ITCPTransport, ITransport } from '../interfaces';
import { Protocol } from '../protocol';
import type { AnyProtocol, Factory } from '../protocol';
import { isDisconnecting, PendingBuffer } from './pending';
import { memoryOf, offsetOf, viewOf } from '../reactor/received';

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/** Parser states: reading the length digits, the string, the comma. */
const State = { Length: 0, Data: 1, Comma: 2 } as const;

/**
 * A protocol that receives netstrings. A malformed one drops the connection
 * with a NetstringParseError kept in `parseError` and logged.
 */
export class NetstringReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport> extends Protocol<F, T> {
  /** The longest string accepted; a longer announced length is a parse error. */
  MAX_LENGTH = 99999;
  /** True once the peer sent something that is not a netstring (Twisted's name). */
  brokenPeer = false;
  /** Why the connection was dropped, once it was. */
  parseError: NetstringParseError | null = null;

  private state: number = State.Length;
  private digits = 0;
  private length = 0;
  private readonly pending = new PendingBuffer();
  private payload: Buffer | null = null;

  /** One string arrived. Override. */
  stringReceived(_s: Buffer): void {}

  /** Writes `<length>:<s>,` as one write. */
  sendString(s: Buffer | Uint8Array | string): void {
    const body = toBuffer(s, 'sendString');
    this.transport.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
  }

  /** Bytes held and not yet delivered (a partial string). */
  get bufferedSize(): number {
    return this.pending.length;
  }

  /** Parses netstrings from data; a malformed one drops the connection. */
  override dataReceived(data: Buffer): void {
    let pos = 0;
    while (pos < data.length && !this.brokenPeer && !isDisconnecting(this)) {
      if (this.state === State.Length) pos = this.readLength(data, pos);
      else if (this.state === State.Data) pos = this.readData(data, pos);
      else pos = this.readComma(data, pos);
    }
  }

  /** Parses length digits up to the colon; returns the next position. */
  private readLength(data: Buffer, pos: number): number {
    while (pos < data.length) {
      const b = data[pos++];
      if (b >= ZERO && b <= NINE) {
        if (this.digits > 0 && this.length === 0) return this.fail('the length has a leading zero');
        this.length = this.length * 10 + (b - ZERO);
        this.digits += 1;
        if (this.length > this.MAX_LENGTH) return this.fail(`the length is over the maximum of ${this.MAX_LENGTH} (MAX_LENGTH)`);
      } else if (b === COLON && this.digits > 0) {
        this.state = this.length === 0 ? State.Comma : State.Data;
        this.payload = this.length === 0 ? Buffer.alloc(0) : null;
        return pos;
      } else {
        return this.fail(this.digits === 0 ? 'it does not start with a length' : `the length has a bad character (byte ${b})`);
      }
    }
    return pos;
  }

  /** Collects the string's bytes: a view when whole in data, else an owned copy. */
  private readData(data: Buffer, pos: number): number {
    const avail = data.length - pos;
    if (this.pending.length === 0 && avail >= this.length) {
      this.payload = viewOf(memoryOf(data), offsetOf(data), pos, pos + this.length);
      this.state = State.Comma;
      return pos + this.length;
    }
    const take = Math.min(this.length - this.pending.length, avail);
    this.pending.expect(this.length);
    this.pending.append(data, pos, pos + take);
    if (this.pending.length === this.length) {
      this.payload = this.pending.detach();
      this.state = State.Comma;
    }
    return pos + take;
  }

  /** Checks the closing comma and delivers the string. */
  private readComma(data: Buffer, pos: number): number {
    if (data[pos] !== COMMA) return this.fail('it is not terminated by a comma');
    const s = this.payload as Buffer;
    this.payload = null;
    this.state = State.Length;
    this.digits = 0;
    this.length = 0;
    this.stringReceived(s);
    return pos + 1;
  }

  /** Records the parse error, logs it and drops the connection. */
  private fail(why: string): number {
    const err = new NetstringParseError(`Malformed netstring from peer: ${why}`);
    this.brokenPeer = true;
    this.parseError = err;
    this.payload = null;
    this.pending.detach();
    log.emit('warn', `NetstringReceiver dropping the connection: ${err.message}`, { error: err });
    this.transport.loseConnection();
    return Number.MAX_SAFE_INTEGER;
  }
}
